//! `recvscope replay`: the shell around the analysis of saved captures.
//! Each file is read once: the report streams out as connections end,
//! and the connections the outputs after it need (`--conn`, the recv
//! log's, the graph's, the TCP lab's) are kept with their packet records.

use std::io::Write;
use std::path::Path;

use crate::analysis::{Analyzer, Report};
use crate::analysis::{Bodies, ConnectionSummary, Limits, NoBodies};
use crate::capture::file::{CaptureFile, OpenError, ReadEnd};
use crate::capture::records::Reading;
use crate::extract::Extractor;
use crate::recvlog;
use crate::report::{self, Recvs};
use crate::tcplab::TcpLabAnswers;
use crate::wire::{FrameMeta, LinkType, decode};

mod config;
mod keep;
mod outputs;

pub use config::ReplayConfig;
use keep::Keep;

/// Exit status when the capture was damaged but what was read got reported.
pub const EXIT_DAMAGED: u8 = 3;
/// Exit status for input that is not a usable capture.
pub const EXIT_BAD_INPUT: u8 = 2;

/// The outcome the binary maps to an exit code: the worst that happened
/// to any file, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Ok,
    /// A file was damaged; what was read of it was reported.
    Damaged,
    /// A file was not a usable capture, and was skipped.
    BadInput,
    /// A file could not be read at all, and was skipped.
    Unreadable,
}

impl Outcome {
    /// The outcome of a file that could not be opened for `e`.
    fn of_open_error(e: &OpenError) -> Outcome {
        match e {
            OpenError::NotACapture { .. }
            | OpenError::UnknownLinkType { .. }
            | OpenError::Empty { .. }
            | OpenError::NotAFile { .. } => Outcome::BadInput,
            _ => Outcome::Unreadable,
        }
    }
}

/// With several files, one that cannot be opened is told in one line and
/// skipped, its outcome kept; anything else (an output error, or the one
/// file there is) ends the run.
fn skip_unopened<T>(
    report: anyhow::Result<T>,
    several: bool,
    outcome: &mut Outcome,
) -> anyhow::Result<Option<T>> {
    match report {
        Ok(r) => Ok(Some(r)),
        Err(e) if several => match e.downcast_ref::<OpenError>() {
            Some(open) => {
                *outcome = (*outcome).max(Outcome::of_open_error(open));
                let msg: Vec<String> = e.chain().map(ToString::to_string).collect();
                eprintln!("recvscope: {}", msg.join(": "));
                Ok(None)
            }
            None => Err(e),
        },
        Err(e) => Err(e),
    }
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
    let end = cap.for_each(reading, |meta, link, bytes| {
        frame(&mut analyzer, meta, link, bytes, sink);
    });
    let mut report = analyzer.finish(sink);
    cap.annotate(&mut report, &end);
    Ok((report, end))
}

/// One frame to the analysis, decoded with its own link type (a pcapng's
/// interfaces may differ), or counted when that cannot be decoded.
fn frame(
    analyzer: &mut Analyzer,
    meta: FrameMeta,
    link: Option<LinkType>,
    bytes: &[u8],
    sink: &mut Bodies,
) {
    match link {
        Some(link) => analyzer.decoded(meta, decode(link, bytes, meta), sink),
        None => analyzer.not_decoded(meta),
    }
}

/// Runs `recvscope replay`: each file's report on stdout, in order.
pub fn run(cfg: &ReplayConfig) -> anyhow::Result<Outcome> {
    // Reading captures needs no capability: a `setcap` binary gives them up
    // before anything is read or any thread started.
    crate::capture::privilege::drop_capabilities()?;
    let mut outcome = Outcome::Ok;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let parallel = cfg.files.len() >= 2 && cfg.jobs >= 2 && cfg.extract.is_none();
    let several = cfg.files.len() > 1;
    if !parallel && cfg.conn.is_none() {
        for file in &cfg.files {
            out.flush()?;
            let end = skip_unopened(replay_file(file, cfg, &mut out), several, &mut outcome)?;
            if let Some(ReadEnd::Damaged(why)) = end {
                out.flush()?;
                eprintln!("recvscope: warning: {why}");
                outcome = outcome.max(Outcome::Damaged);
            }
        }
    } else {
        let reports: Box<dyn Iterator<Item = FileReport> + '_> = if parallel {
            Box::new(replay_parallel(cfg)?)
        } else {
            Box::new(cfg.files.iter().map(|file| {
                let mut text = Vec::new();
                replay_file(file, cfg, &mut text).map(|end| (text, end))
            }))
        };
        // With --conn N every report is held until all are read: an N that
        // a file does not have prints its error and nothing else.
        let reports: Vec<FileReport> = if cfg.conn.is_some() {
            reports
                .filter_map(|r| skip_unopened(r, several, &mut outcome).transpose())
                .collect::<anyhow::Result<Vec<_>>>()?
                .into_iter()
                .map(Ok)
                .collect()
        } else {
            reports.collect()
        };
        for report in reports {
            let Some((text, end)) = skip_unopened(report, several, &mut outcome)? else {
                continue;
            };
            out.write_all(&text)?;
            if let ReadEnd::Damaged(why) = end {
                out.flush()?;
                eprintln!("recvscope: warning: {why}");
                outcome = outcome.max(Outcome::Damaged);
            }
        }
    }
    out.flush()?;
    Ok(outcome)
}

/// One file's report, written to memory, and how its reading ended.
type FileReport = anyhow::Result<(Vec<u8>, ReadEnd)>;

/// Replays the files on `cfg.jobs` worker threads, a file at a time each;
/// the reports come back in the order of the files, each whole, so output
/// never interleaves.
fn replay_parallel(cfg: &ReplayConfig) -> anyhow::Result<impl Iterator<Item = FileReport>> {
    let workers = cfg.jobs.min(cfg.files.len());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (tx, rx) = std::sync::mpsc::channel::<(usize, FileReport)>();
    let mut done: Vec<Option<FileReport>> = std::iter::repeat_with(|| None)
        .take(cfg.files.len())
        .collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(file) = cfg.files.get(i) else { break };
                    let mut text = Vec::new();
                    let report = replay_file(file, cfg, &mut text).map(|end| (text, end));
                    // A file that cannot be opened is skipped; any other
                    // failure ends the run.
                    let failed = report
                        .as_ref()
                        .is_err_and(|e| e.downcast_ref::<OpenError>().is_none());
                    if tx.send((i, report)).is_err() || failed {
                        // Later files are not needed once one fails.
                        next.store(cfg.files.len(), std::sync::atomic::Ordering::Relaxed);
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

/// Replays one capture in one pass: connections are written as they end,
/// so memory follows the connections open at once, not the size of the
/// file; the recv log's rows, the TCP lab and the graph come from the
/// connections kept on the way.
fn replay_file(file: &Path, cfg: &ReplayConfig, out: &mut dyn Write) -> anyhow::Result<ReadEnd> {
    let log_path = recvlog::path_for(file);
    let log = log_path.exists().then(|| recvlog::read(&log_path));
    let mut cap = CaptureFile::open(file)?;
    let mut keep = Keep::new(
        cfg,
        match &log {
            Some(Ok(l)) => Some((l.run.client.clone(), l.run.server.clone())),
            _ => None,
        },
    );
    let mut analyzer = Analyzer::new(cap.link(), Limits::default(), cfg.conn);
    if keep.lists_every_connection() {
        analyzer.list_every_connection();
    }
    let mut emit = if cfg.json {
        Emit::Json(report::JsonStream::start(out, file)?)
    } else {
        report::text::heading(out, file, cap.link().name(), &cap.mixed_links())?;
        Emit::Text {
            connections: !cfg.tcp_lab,
        }
    };
    let mut extractor = cfg.extract.as_deref().map(Extractor::new).transpose()?;
    let mut no_bodies = NoBodies;
    let sink: &mut Bodies = match extractor.as_mut() {
        Some(ex) => ex,
        None => &mut no_bodies,
    };
    let mut count = 0u64;
    let mut t0 = None;
    let mut failed: Option<std::io::Error> = None;
    let mut emit_one =
        |mut c: ConnectionSummary, t0: i64, out: &mut dyn Write| -> std::io::Result<()> {
            count += 1;
            // The report lists `--conn` alone; other lists are for the keep.
            let kept_list = if cfg.conn == Some(c.tcp.id) {
                None
            } else {
                c.packet_list.take()
            };
            match &mut emit {
                Emit::Json(j) => j.connection(out, &c)?,
                Emit::Text { connections: true } => report::text::connection(out, &c, t0)?,
                Emit::Text { connections: false } => {}
            }
            c.packet_list = c.packet_list.or(kept_list);
            keep.offer(c);
            Ok(())
        };
    let end = cap.for_each(cfg.reading, |meta, link, bytes| {
        let t0 = *t0.get_or_insert(meta.ts_ns);
        frame(&mut analyzer, meta, link, bytes, sink);
        for c in analyzer.take_finished() {
            if failed.is_none()
                && let Err(e) = emit_one(c, t0, out)
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
            && let Err(e) = emit_one(c, t0.unwrap_or(0), out)
        {
            failed = Some(e);
        }
    });
    if let Some(e) = failed {
        return Err(e.into());
    }
    if let Some(n) = cfg.conn
        && n >= count
    {
        return Err(NoSuchConnection {
            file: file.to_path_buf(),
            connections: count,
            asked: n,
        }
        .into());
    }
    cap.annotate(&mut report, &end);
    report.connections = keep.into_connections();
    let saved = extractor.map(Extractor::finish).transpose()?;
    let recvs = log.and_then(|l| outputs::recvs_beside(&log_path, l, &mut report));
    let lab = cfg.tcp_lab.then(|| outputs::tcp_lab(&mut report, cfg.conn));
    match emit {
        Emit::Json(j) => {
            // The connections streamed out already: the tail skips them.
            let kept = std::mem::take(&mut report.connections);
            let tail = JsonTail {
                report: &report,
                extracted: saved.as_deref(),
                recvs: recvs.as_ref(),
                tcp_lab: lab.as_ref().map(Option::as_ref),
            };
            j.finish(out, &tail)?;
            report.connections = kept;
        }
        Emit::Text { connections } => {
            if connections {
                let listed = cfg
                    .conn
                    .and_then(|n| report.connections.iter().find(|c| c.tcp.id == n));
                report::text::tail(out, &report, count, listed, saved.as_deref())?;
            } else {
                for w in &report.warnings {
                    writeln!(out, "  {}", report::findings::capture_warning_line(w))?;
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
    if cfg.pictures.wanted() {
        outputs::graph(file, &report, recvs.as_ref(), cfg)?;
    }
    Ok(end)
}

/// `--conn N` names a connection the capture does not have.
#[derive(Debug, thiserror::Error)]
#[error("{}", report::text::no_such_connection(file, *connections, *asked))]
pub struct NoSuchConnection {
    file: std::path::PathBuf,
    /// Connections in the capture, numbered from 0.
    connections: u64,
    asked: u64,
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
