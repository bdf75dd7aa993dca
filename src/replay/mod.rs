//! `recvscope replay`: the shell around the analysis of saved captures.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::analysis::{Analyzer, Report};
use crate::analysis::{Bodies, ConnectionSummary, Limits, NoBodies};
use crate::capture::file::{CaptureFile, OpenError, ReadEnd};
use crate::capture::records::Reading;
use crate::correlate;
use crate::extract::Extractor;
use crate::graph;
use crate::recvlog;
use crate::report::{self, Recvs};
use crate::tcplab::{self, TcpLabAnswers};

mod config;

pub use config::{ReplayConfig, ReplayConfigError};

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
    reading: Reading,
    sink: &mut Bodies,
) -> Result<(Report, ReadEnd), OpenError> {
    let mut cap = CaptureFile::open(file)?;
    let mut analyzer = Analyzer::new(cap.link(), Limits::default(), list);
    let end = cap.for_each(reading, |meta, bytes| analyzer.frame(meta, bytes, sink));
    let mut report = analyzer.finish(sink);
    if let ReadEnd::Damaged(why) = &end {
        report.warnings.push(why.clone());
    }
    Ok((report, end))
}

/// Runs `recvscope replay`: each file's report on stdout, in order.
pub fn run(args: &ReplayConfig) -> anyhow::Result<Outcome> {
    let mut outcome = Outcome::Ok;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (jobs, reading) = (args.jobs, args.reading);
    if args.files.len() < 2 || jobs < 2 || args.extract.is_some() {
        for file in &args.files {
            if let ReadEnd::Damaged(why) = replay_file(file, args, reading, &mut out)? {
                eprintln!("recvscope: warning: {why}");
                outcome = Outcome::Damaged;
            }
        }
    } else {
        for report in replay_parallel(args, jobs, reading)? {
            let (text, end) = report?;
            out.write_all(&text)?;
            if let ReadEnd::Damaged(why) = end {
                out.flush()?;
                eprintln!("recvscope: warning: {why}");
                outcome = Outcome::Damaged;
            }
        }
    }
    out.flush()?;
    Ok(outcome)
}

/// One file's report, written to memory, and how its reading ended.
type FileReport = anyhow::Result<(Vec<u8>, ReadEnd)>;

/// Replays the files on `jobs` worker threads, a file at a time each; the
/// reports come back in the order of the files, each whole, so output
/// never interleaves.
fn replay_parallel(
    args: &ReplayConfig,
    jobs: usize,
    reading: Reading,
) -> anyhow::Result<impl Iterator<Item = FileReport>> {
    let workers = jobs.min(args.files.len());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (tx, rx) = std::sync::mpsc::channel::<(usize, FileReport)>();
    let mut done: Vec<Option<FileReport>> = std::iter::repeat_with(|| None)
        .take(args.files.len())
        .collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(file) = args.files.get(i) else { break };
                    let mut text = Vec::new();
                    let report = replay_file(file, args, reading, &mut text).map(|end| (text, end));
                    let failed = report.is_err();
                    if tx.send((i, report)).is_err() || failed {
                        // Later files are not needed once one fails.
                        next.store(args.files.len(), std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
        drop(tx);
        for (i, report) in rx {
            done[i] = Some(report);
        }
    });
    Ok(done.into_iter().map_while(|r| r))
}

/// Where the report of one capture goes while it is read.
enum Emit {
    Text { connections: bool },
    Json(report::JsonStream),
}

/// The connections the end of the report needs again (for `--conn`, the
/// recv log, the graph, the TCP lab), kept while the rest stream past.
struct Keep<'a> {
    args: &'a ReplayConfig,
    endpoints: Option<(String, String)>,
    /// Kept summaries by role: listed, recv log's, most server bytes, most payload.
    slots: [Option<ConnectionSummary>; 4],
}

impl Keep<'_> {
    fn offer(&mut self, c: &ConnectionSummary) {
        let payload =
            |c: &ConnectionSummary| c.tcp.bytes.client_to_server + c.tcp.bytes.server_to_client;
        let wanted = [
            self.args.conn == Some(c.tcp.id),
            self.endpoints
                .as_ref()
                .is_some_and(|(client, server)| c.tcp.client == *client && c.tcp.server == *server),
            self.args.pictures.wanted()
                && self.slots[2].as_ref().is_none_or(|k| {
                    (c.tcp.bytes.server_to_client, std::cmp::Reverse(c.tcp.id))
                        > (k.tcp.bytes.server_to_client, std::cmp::Reverse(k.tcp.id))
                }),
            self.args.tcp_lab
                && self.slots[3].as_ref().is_none_or(|k| {
                    (payload(c), std::cmp::Reverse(c.tcp.id))
                        > (payload(k), std::cmp::Reverse(k.tcp.id))
                }),
        ];
        for (slot, want) in self.slots.iter_mut().zip(wanted) {
            if want {
                *slot = Some(c.clone());
            }
        }
    }

    /// The kept connections, each once, in id order.
    fn into_connections(self) -> Vec<ConnectionSummary> {
        let mut kept: Vec<ConnectionSummary> = self.slots.into_iter().flatten().collect();
        kept.sort_by_key(|c| c.tcp.id);
        kept.dedup_by_key(|c| c.tcp.id);
        kept
    }
}

/// Replays one capture: connections are written as they end, so memory
/// follows the connections open at once, not the size of the file.
fn replay_file(
    file: &Path,
    args: &ReplayConfig,
    reading: Reading,
    out: &mut dyn Write,
) -> anyhow::Result<ReadEnd> {
    let log_path = recvlog::path_for(file);
    let log = log_path.exists().then(|| recvlog::read(&log_path));
    let mut cap = CaptureFile::open(file)?;
    let mut analyzer = Analyzer::new(cap.link(), Limits::default(), args.conn);
    let mut emit = if args.json {
        Emit::Json(report::JsonStream::start(out, file)?)
    } else {
        report::text::heading(out, file, cap.link().name())?;
        Emit::Text {
            connections: !args.tcp_lab,
        }
    };
    let mut keep = Keep {
        args,
        endpoints: match &log {
            Some(Ok(l)) => Some((l.run.client.clone(), l.run.server.clone())),
            _ => None,
        },
        slots: Default::default(),
    };
    let mut extractor = args.extract.as_deref().map(Extractor::new).transpose()?;
    let mut no_bodies = NoBodies;
    let sink: &mut Bodies = match extractor.as_mut() {
        Some(ex) => ex,
        None => &mut no_bodies,
    };
    let mut count = 0u64;
    let mut t0 = None;
    let mut failed: Option<std::io::Error> = None;
    let mut emit_one =
        |c: &ConnectionSummary, t0: i64, out: &mut dyn Write| -> std::io::Result<()> {
            count += 1;
            keep.offer(c);
            match &mut emit {
                Emit::Json(j) => j.connection(out, c),
                Emit::Text { connections: true } => report::text::connection(out, c, t0),
                Emit::Text { connections: false } => Ok(()),
            }
        };
    let end = cap.for_each(reading, |meta, bytes| {
        let t0 = *t0.get_or_insert(meta.ts_ns);
        analyzer.frame(meta, bytes, sink);
        for c in analyzer.take_finished() {
            if failed.is_none()
                && let Err(e) = emit_one(&c, t0, out)
            {
                failed = Some(e);
            }
        }
    });
    if let Some(e) = failed {
        return Err(e.into());
    }
    let mut report = analyzer.finish_each(sink, &mut |c| {
        if failed.is_none()
            && let Err(e) = emit_one(&c, t0.unwrap_or(0), out)
        {
            failed = Some(e);
        }
    });
    if let Some(e) = failed {
        return Err(e.into());
    }
    if let ReadEnd::Damaged(why) = &end {
        report.warnings.push(why.clone());
    }
    report.connections = keep.into_connections();
    let saved = extractor.map(Extractor::finish).transpose()?;
    let recvs = log.and_then(|l| recvs_beside(file, reading, &log_path, l, &mut report));
    let lab = args
        .tcp_lab
        .then(|| tcp_lab(file, reading, &mut report, args.conn));
    match emit {
        Emit::Json(j) => {
            let tail = JsonTail {
                report: &report,
                extracted: saved.as_deref(),
                recvs: recvs.as_ref(),
                tcp_lab: lab.as_ref().map(Option::as_ref),
            };
            j.finish(out, &tail)?;
        }
        Emit::Text { connections } => {
            if connections {
                report::text::tail(out, &report, count, args.conn, saved.as_deref())?;
            } else {
                for w in &report.warnings {
                    writeln!(out, "  warning: {w}")?;
                }
            }
            if let Some(Some(answers)) = &lab {
                report::tcp_lab::write(out, answers)?;
            }
            if let Some(r) = recvs.as_ref().filter(|_| connections) {
                writeln!(
                    out,
                    "\nrecv log {} (connection #{}):",
                    r.recv_log,
                    r.recv_connection
                        .map_or_else(|| "not in this capture".into(), |c| c.to_string())
                )?;
                report::recvs::write(out, &r.recvs, None, &r.explanation)?;
            }
        }
    }
    if args.pictures.wanted() {
        graph(file, reading, &mut report, recvs.as_ref(), args)?;
    }
    Ok(end)
}

/// The fields of the `replay --json` document after its connections.
#[derive(serde::Serialize)]
struct JsonTail<'a> {
    #[serde(flatten)]
    report: &'a Report,
    #[serde(skip_serializing_if = "Option::is_none")]
    extracted: Option<&'a [crate::extract::SavedBody]>,
    #[serde(skip_serializing_if = "Option::is_none", flatten)]
    recvs: Option<&'a Recvs>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tcp_lab: Option<Option<&'a TcpLabAnswers>>,
}

/// Correlates the recv log saved beside `file`, if there is one. The
/// connection it belongs to is listed packet by packet for the
/// correlation (a second pass when another connection was listed).
fn recvs_beside(
    file: &Path,
    reading: Reading,
    path: &Path,
    log: Result<recvlog::RecvLog, recvlog::LogError>,
    report: &mut Report,
) -> Option<Recvs> {
    let log = match log {
        Ok(log) => log,
        Err(e) => {
            report.warnings.push(format!("recv log ignored: {e}"));
            return None;
        }
    };
    let index = report
        .connections
        .iter()
        .rposition(|c| c.tcp.client == log.run.client && c.tcp.server == log.run.server)
        .filter(|&i| list_packets(file, reading, report, i));
    let conn = index.map(|i| &report.connections[i]);
    let rows = correlate::correlate(
        log.run.request_ts_ns,
        &log.recvs,
        conn.and_then(|c| c.packet_list.as_deref()),
    );
    let explanation = report::explain::explain(&rows, conn);
    Some(Recvs {
        recv_log: path.display().to_string(),
        request_ts_ns: log.run.request_ts_ns,
        recv_connection: conn.map(|c| c.tcp.id),
        recvs: rows,
        explanation,
    })
}

/// Makes sure connection `index` of `report` has its packet list, analysing
/// the file again to list it if needed; false if that failed.
fn list_packets(file: &Path, reading: Reading, report: &mut Report, index: usize) -> bool {
    let conn = &mut report.connections[index];
    if conn.packet_list.is_some() {
        return true;
    }
    let id = conn.tcp.id;
    let listed = analyse_file(file, Some(id), reading, &mut NoBodies)
        .ok()
        .and_then(|(r, _)| r.connections.into_iter().find(|c| c.tcp.id == id))
        .and_then(|c| c.packet_list);
    conn.packet_list = listed;
    conn.packet_list.is_some()
}

/// `--graph` and `--html`: the connection of the recv log if there is one,
/// else `--conn N`, else the one that carried the most server bytes.
fn graph(
    file: &Path,
    reading: Reading,
    report: &mut Report,
    recvs: Option<&Recvs>,
    args: &ReplayConfig,
) -> anyhow::Result<()> {
    let position = |id: u64| report.connections.iter().position(|c| c.tcp.id == id);
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
            .max_by_key(|(i, c)| (c.tcp.bytes.server_to_client, std::cmp::Reverse(*i)))
            .map(|(i, _)| i),
    }
    .with_context(|| format!("{}: no TCP connection to graph", file.display()))?;
    if !list_packets(file, reading, report, index) {
        anyhow::bail!(
            "{}: cannot list connection {} packet by packet for the graph",
            file.display(),
            report.connections[index].tcp.id
        );
    }
    let conn = &report.connections[index];
    let recvs = recvs.filter(|r| r.recv_connection == Some(conn.tcp.id));
    let app = recvs.map(|r| graph::AppRecvs {
        rows: &r.recvs,
        request_ts_ns: r.request_ts_ns,
    });
    graph::write_files(
        conn,
        app,
        recvs.map_or(&[], |r| r.explanation.as_slice()),
        args.pictures.svg.as_deref(),
        args.pictures.html.as_deref(),
    )
}

/// The TCP lab's answers for connection `conn`, or for the one that carried
/// the most payload; a warning in `report` says why there are none.
fn tcp_lab(
    file: &Path,
    reading: Reading,
    report: &mut Report,
    conn: Option<u64>,
) -> Option<TcpLabAnswers> {
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
        report.warnings.push(match conn {
            Some(id) => format!("TCP lab: no connection {id} in this capture"),
            None => "TCP lab: no TCP connection in this capture".to_string(),
        });
        return None;
    };
    if !list_packets(file, reading, report, index) {
        report
            .warnings
            .push("TCP lab: the second pass over the capture failed".to_string());
        return None;
    }
    tcplab::answer(&report.connections[index], report.first_ts_ns.unwrap_or(0))
}
