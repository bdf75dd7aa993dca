//! What a replay writes after the report, from the connections kept in
//! its one pass: the recv log's rows, the TCP lab's answers, the graph.

use std::path::Path;

use anyhow::Context;

use crate::analysis::{CaptureSpan, CaptureWarning, Report};
use crate::correlate;
use crate::graph;
use crate::lesson;
use crate::recvlog;
use crate::report::{self, Recvs};
use crate::tcplab::{self, TcpLabAnswers};

use super::ReplayConfig;

/// Correlates the recv log saved beside the capture, if there is one,
/// with the packet records of the connection it belongs to. A log that
/// fails its checks, or whose times lie outside the capture's, is left out
/// with a warning naming the line at fault.
pub(super) fn recvs_beside(
    path: &Path,
    log: Result<recvlog::RecvLog, recvlog::LogError>,
    report: &mut Report,
) -> Option<Recvs> {
    let span = report
        .first_ts_ns
        .zip(report.last_ts_ns)
        .map(|(first_ns, last_ns)| CaptureSpan { first_ns, last_ns });
    let checked = log.and_then(|log| match span {
        Some(span) => log.check_span(path, span).map(|()| log),
        None => Ok(log),
    });
    let log = match checked {
        Ok(log) => log,
        Err(e) => {
            report.warnings.push(e.warning());
            return None;
        }
    };
    let conn = report
        .connections
        .iter()
        .rfind(|c| c.tcp.client == log.run.client && c.tcp.server == log.run.server)
        .filter(|c| c.packet_list.is_some());
    let rows = correlate::correlate(
        log.run.request_ts_ns,
        &log.recvs,
        conn.and_then(|c| c.packet_list.as_deref()),
    );
    let lesson = lesson::lesson(&rows, conn, log.run.request_ts_ns);
    Some(Recvs {
        recv_log: path.display().to_string(),
        request_ts_ns: log.run.request_ts_ns,
        recv_connection: conn.map(|c| c.tcp.id),
        recvs: rows,
        explanation: report::explain::explain(&lesson),
        lesson,
    })
}

/// `--graph` and `--html`: the connection of the recv log if there is one,
/// else `--conn N`, else the one that carried the most server bytes.
pub(super) fn graph(
    file: &Path,
    report: &Report,
    recvs: Option<&Recvs>,
    cfg: &ReplayConfig,
) -> anyhow::Result<()> {
    let position = |id: u64| report.connections.iter().position(|c| c.tcp.id == id);
    let index = match (recvs.and_then(|r| r.recv_connection), cfg.conn) {
        (Some(id), _) => position(id),
        (None, Some(n)) => Some(
            position(n)
                .with_context(|| format!("{}: no connection {n} to graph", file.display()))?,
        ),
        (None, None) => report
            .connections
            .iter()
            .enumerate()
            .max_by_key(|(i, c)| (c.tcp.bytes.server_to_client, std::cmp::Reverse(*i)))
            .map(|(i, _)| i),
    }
    .with_context(|| format!("{}: no TCP connection to graph", file.display()))?;
    let conn = &report.connections[index];
    if conn.packet_list.is_none() {
        anyhow::bail!(
            "{}: cannot list connection {} packet by packet for the graph",
            file.display(),
            conn.tcp.id
        );
    }
    let recvs = recvs.filter(|r| r.recv_connection == Some(conn.tcp.id));
    let app = recvs.map(|r| graph::AppRecvs {
        rows: &r.recvs,
        request_ts_ns: r.request_ts_ns,
    });
    graph::write_files(
        conn,
        app,
        recvs.map_or(&[], |r| r.explanation.as_slice()),
        cfg.pictures.svg.as_deref(),
        cfg.pictures.html.as_deref(),
    )
}

/// The TCP lab's answers for connection `conn`, or for the one that carried
/// the most payload; a warning in `report` says why there are none.
pub(super) fn tcp_lab(report: &mut Report, conn: Option<u64>) -> Option<TcpLabAnswers> {
    let chosen = match conn {
        Some(id) => report.connections.iter().position(|c| c.tcp.id == id),
        None => report
            .connections
            .iter()
            .enumerate()
            .max_by_key(|(i, c)| {
                (
                    c.tcp.bytes.client_to_server + c.tcp.bytes.server_to_client,
                    std::cmp::Reverse(*i),
                )
            })
            .map(|(i, _)| i),
    };
    let Some(index) = chosen else {
        report
            .warnings
            .push(CaptureWarning::TcpLabNoConnection { id: conn });
        return None;
    };
    let conn = &report.connections[index];
    if conn.packet_list.is_none() {
        report
            .warnings
            .push(CaptureWarning::TcpLabNotListed { id: conn.tcp.id });
        return None;
    }
    tcplab::answer(conn, report.first_ts_ns.unwrap_or(0))
}
