//! `recvscope replay`: the shell around the analysis of saved captures.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::analyze::{Analyzer, Report};
use crate::capture::file::{CaptureFile, OpenError, ReadEnd};
use crate::cli::ReplayArgs;
use crate::correlate;
use crate::extract::Extractor;
use crate::graph;
use crate::recvlog;
use crate::report::{self, Recvs};
use crate::tcp::{BodySink, Limits, NoBodies};
use crate::tcplab::{self, TcpLabAnswers};

/// Exit status when the capture was damaged but what was read got reported.
pub const EXIT_DAMAGED: u8 = 3;
/// Exit status for input that is not a usable capture.
pub const EXIT_BAD_INPUT: u8 = 2;

/// The outcome the binary maps to an exit code.
pub enum Outcome {
    Ok,
    Damaged,
}

/// Analyses one capture file.
pub fn analyse_file(
    file: &std::path::Path,
    list: Option<u64>,
    sink: &mut dyn BodySink,
) -> Result<(Report, ReadEnd), OpenError> {
    let mut cap = CaptureFile::open(file)?;
    let mut analyzer = Analyzer::new(cap.link(), Limits::default(), list);
    let end = cap.for_each(|meta, bytes| analyzer.frame(meta, bytes, sink));
    let mut report = analyzer.finish(sink);
    if let ReadEnd::Damaged(why) = &end {
        report.warnings.push(why.clone());
    }
    Ok((report, end))
}

pub fn run(args: &ReplayArgs) -> anyhow::Result<Outcome> {
    if (args.graph.is_some() || args.html.is_some()) && args.files.len() > 1 {
        anyhow::bail!("--graph and --html draw one connection: give one capture file");
    }
    let mut outcome = Outcome::Ok;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for file in &args.files {
        let (mut report, end, saved) = match &args.extract {
            Some(dir) => {
                let mut ex = Extractor::new(dir)?;
                let (report, end) = analyse_file(file, args.conn, &mut ex)?;
                let saved = ex.finish()?;
                (report, end, Some(saved))
            }
            None => {
                let (report, end) = analyse_file(file, args.conn, &mut NoBodies)?;
                (report, end, None)
            }
        };
        if let ReadEnd::Damaged(why) = &end {
            eprintln!("recvscope: warning: {why}");
            outcome = Outcome::Damaged;
        }
        let recvs = recvs_beside(file, &mut report);
        let lab = args.tcp_lab.then(|| tcp_lab(file, &mut report, args.conn));
        if args.json {
            let doc = report::json(file, &report, saved.as_deref(), recvs.as_ref());
            match &lab {
                Some(lab) => serde_json::to_writer_pretty(
                    &mut out,
                    &WithTcpLab {
                        doc,
                        tcp_lab: lab.as_ref(),
                    },
                ),
                None => serde_json::to_writer_pretty(&mut out, &doc),
            }
            .context("writing JSON")?;
            writeln!(out)?;
        } else if let Some(lab) = &lab {
            writeln!(out, "{}:", file.display())?;
            for w in &report.warnings {
                writeln!(out, "  warning: {w}")?;
            }
            if let Some(answers) = lab {
                tcplab::text::write(&mut out, answers)?;
            }
        } else {
            report::text::write(&mut out, file, &report, args.conn, saved.as_deref())?;
            if let Some(r) = &recvs {
                writeln!(
                    out,
                    "\nrecv log {} (connection #{}):",
                    r.recv_log,
                    r.recv_connection
                        .map_or_else(|| "not in this capture".into(), |c| c.to_string())
                )?;
                report::recvs::write(&mut out, &r.recvs, None, &r.explanation)?;
            }
        }
        if args.graph.is_some() || args.html.is_some() {
            graph(file, &mut report, recvs.as_ref(), args)?;
        }
    }
    out.flush()?;
    Ok(outcome)
}

/// Correlates the recv log saved beside `file`, if there is one. The
/// connection it belongs to is listed packet by packet for the
/// correlation (a second pass when another connection was listed).
fn recvs_beside(file: &Path, report: &mut Report) -> Option<Recvs> {
    let path = recvlog::path_for(file);
    if !path.exists() {
        return None;
    }
    let log = match recvlog::read(&path) {
        Ok(log) => log,
        Err(e) => {
            report.warnings.push(format!("recv log ignored: {e}"));
            return None;
        }
    };
    let index = report
        .connections
        .iter()
        .rposition(|c| c.client == log.run.client && c.server == log.run.server)
        .filter(|&i| list_packets(file, report, i));
    let conn = index.map(|i| &report.connections[i]);
    let rows = correlate::correlate(
        log.run.request_ts_ns,
        &log.recvs,
        conn.and_then(|c| c.packet_list.as_deref()),
    );
    let explanation = correlate::explain(&rows, conn);
    Some(Recvs {
        recv_log: path.display().to_string(),
        request_ts_ns: log.run.request_ts_ns,
        recv_connection: conn.map(|c| c.id),
        recvs: rows,
        explanation,
    })
}

/// Makes sure connection `index` of `report` has its packet list, analysing
/// the file again to list it if needed; false if that failed.
fn list_packets(file: &Path, report: &mut Report, index: usize) -> bool {
    let conn = &mut report.connections[index];
    if conn.packet_list.is_some() {
        return true;
    }
    let id = conn.id;
    let listed = analyse_file(file, Some(id), &mut NoBodies)
        .ok()
        .and_then(|(r, _)| r.connections.into_iter().find(|c| c.id == id))
        .and_then(|c| c.packet_list);
    conn.packet_list = listed;
    conn.packet_list.is_some()
}

/// `--graph` and `--html`: the connection of the recv log if there is one,
/// else `--conn N`, else the one that carried the most server bytes.
fn graph(
    file: &Path,
    report: &mut Report,
    recvs: Option<&Recvs>,
    args: &ReplayArgs,
) -> anyhow::Result<()> {
    let position = |id: u64| report.connections.iter().position(|c| c.id == id);
    let index = match (recvs.and_then(|r| r.recv_connection), args.conn) {
        (Some(id), _) => position(id),
        (None, Some(n)) => Some(
            position(n)
                .with_context(|| format!("{}: no connection {n} to graph", file.display()))?,
        ),
        (None, None) => report
            .connections
            .iter()
            .enumerate()
            .max_by_key(|(i, c)| (c.bytes.server_to_client, std::cmp::Reverse(*i)))
            .map(|(i, _)| i),
    }
    .with_context(|| format!("{}: no TCP connection to graph", file.display()))?;
    if !list_packets(file, report, index) {
        anyhow::bail!(
            "{}: cannot list connection {} packet by packet for the graph",
            file.display(),
            report.connections[index].id
        );
    }
    let conn = &report.connections[index];
    let recvs = recvs.filter(|r| r.recv_connection == Some(conn.id));
    let app = recvs.map(|r| graph::AppRecvs {
        rows: &r.recvs,
        request_ts_ns: r.request_ts_ns,
    });
    graph::write_files(
        conn,
        app,
        recvs.map_or(&[], |r| r.explanation.as_slice()),
        args.graph.as_deref(),
        args.html.as_deref(),
    )
}

/// The TCP lab's answers for connection `conn`, or for the one that carried
/// the most payload; a warning in `report` says why there are none.
fn tcp_lab(file: &Path, report: &mut Report, conn: Option<u64>) -> Option<TcpLabAnswers> {
    let chosen = match conn {
        Some(id) => report.connections.iter().position(|c| c.id == id),
        None => report
            .connections
            .iter()
            .enumerate()
            .max_by_key(|(i, c)| {
                (
                    c.bytes.client_to_server + c.bytes.server_to_client,
                    std::cmp::Reverse(*i),
                )
            })
            .map(|(i, _)| i),
    };
    let Some(index) = chosen else {
        report.warnings.push(match conn {
            Some(id) => format!("TCP lab: no connection {id} in this capture"),
            None => "TCP lab: no TCP connection in this capture".to_string(),
        });
        return None;
    };
    if !list_packets(file, report, index) {
        report
            .warnings
            .push("TCP lab: the second pass over the capture failed".to_string());
        return None;
    }
    tcplab::answer(&report.connections[index], report.first_ts_ns.unwrap_or(0))
}

/// The `replay --json` document with the TCP lab's answers beside it.
#[derive(serde::Serialize)]
struct WithTcpLab<'a> {
    #[serde(flatten)]
    doc: report::JsonReport<'a>,
    tcp_lab: Option<&'a TcpLabAnswers>,
}
