//! `recvscope fetch` on the command line: its config to a fetch, the
//! privilege drop between arming and running, and the report (its words are
//! `recvscope_render::fetch`'s).

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use crate::analysis::ConnectionSummary;
use crate::capture::live::{CaptureResult, Trouble};
use crate::capture::privilege;
use crate::correlate::RecvRow;
use crate::lesson::Lesson;
use crate::recvlog::Rcvbuf;
use crate::report::fetch as words;
use crate::serve::{Server, ServerConfig};

use super::config::{BodyTo, FetchConfig, Save};
use super::url::Url;
use super::{BodyOut, FetchSpec, Fetched, SavePaths, prepare};
use crate::clock::{now_ns, utc_stamp};

/// The `fetch --json` document.
#[derive(Serialize)]
pub(crate) struct FetchJson<'a> {
    pub url: &'a str,
    pub request: &'a str,
    pub recv_size: usize,
    pub delay_ns: u64,
    pub rcvbuf: Rcvbuf,
    pub recvs: &'a [RecvRow],
    pub header_length: u64,
    pub status: u16,
    pub content_length: Option<u64>,
    pub body_bytes: u64,
    pub saved_to: Option<String>,
    pub capture: Option<CaptureJson>,
    pub connection: Option<&'a ConnectionSummary>,
    pub lesson: &'a Lesson,
    pub explanation: &'a [String],
}

/// Where the wire view went.
#[derive(Serialize)]
pub(crate) struct CaptureJson {
    /// The saved pcap (`None` with `--no-capture` or `--no-save`).
    pub file: Option<String>,
    pub recv_log: Option<String>,
    /// `None` with `--no-capture`.
    pub interface: Option<String>,
    /// Frames captured.
    pub packets: Option<u64>,
    /// Frames the kernel dropped (`None`: unknown or not captured).
    pub dropped: Option<u32>,
}

impl<'a> FetchJson<'a> {
    pub(crate) fn new(f: &'a Fetched) -> FetchJson<'a> {
        FetchJson {
            url: &f.run.url,
            request: &f.run.request,
            recv_size: f.run.recv_size,
            delay_ns: f.run.delay_ns,
            rcvbuf: f.run.rcvbuf,
            recvs: &f.rows,
            header_length: f.facts.header_length,
            status: f.facts.status,
            content_length: f.facts.content_length,
            body_bytes: f.facts.body_bytes,
            saved_to: f.saved_to.as_ref().map(|p| p.display().to_string()),
            capture: (f.capture.is_some() || f.save.is_some()).then(|| CaptureJson {
                file: f
                    .capture
                    .as_ref()
                    .and_then(|c| c.saved.as_ref())
                    .map(|p| p.display().to_string()),
                recv_log: f.save.as_ref().map(|s| s.log.display().to_string()),
                interface: f.capture.as_ref().map(|c| c.interface.clone()),
                packets: f.capture.as_ref().map(|c| c.packets),
                dropped: f.capture.as_ref().and_then(|c| c.dropped),
            }),
            connection: f.connection(),
            lesson: &f.lesson,
            explanation: &f.explanation,
        }
    }
}

/// What a failed write to standard output is about; the io error under it
/// stays in the chain, so a closed pipe ends the run quietly.
pub(crate) const STDOUT: &str = "writing to standard output";

/// Runs `recvscope fetch`.
pub fn run(cfg: &FetchConfig) -> anyhow::Result<()> {
    let stdout = io::stdout();
    let live = stdout.is_terminal();
    let mut out = LineOut {
        out: io::BufWriter::new(stdout.lock()),
        live,
    };
    // The lab server is bound now and started after the privilege drop, so
    // its threads never hold the capture's capabilities.
    let (url, lab) = match &cfg.url {
        Some(url) => (url.clone(), None),
        None => {
            let lab = Server::bind(ServerConfig {
                keep_records: false,
                ..ServerConfig::default()
            })?;
            if !cfg.json {
                writeln!(out, "{}", words::no_url(lab.local_addr())).context(STDOUT)?;
            }
            (Url::parse(&lab.url("/cover3.jpg"))?, Some(lab))
        }
    };
    let to_file = |target: PathBuf| -> Result<BodyOut, super::body::SaveError> {
        super::body::check_target(&target, cfg.force)?;
        Ok(BodyOut::File {
            target,
            force: cfg.force,
        })
    };
    let body = match &cfg.body {
        BodyTo::Nowhere => BodyOut::Discard,
        BodyTo::File(target) => to_file(target.clone())?,
        BodyTo::UrlName => to_file(PathBuf::from(url.file_name()))?,
    };
    let spec = FetchSpec {
        url: url.clone(),
        http: cfg.http,
        recv_size: cfg.recv_size,
        delay: cfg.delay,
        rcvbuf: cfg.rcvbuf,
        timeout: cfg.timeout,
        capture: cfg.capture.clone(),
    };
    let prepared = prepare(spec)?;
    privilege::drop_to_invoking_user()?;
    let _lab = lab.map(Server::spawn);
    let save = match &cfg.save {
        Save::No => None,
        Save::Named(name) => Some(SavePaths::new(&cfg.captures, name, cfg.force)?),
        Save::Default => Some(SavePaths::unused(&cfg.captures, &default_name(&url))?),
    };
    if !cfg.json {
        words::opening(
            &mut out,
            prepared.client(),
            prepared.peer(),
            cfg.recv_size,
            cfg.delay,
            prepared.rcvbuf(),
        )
        .context(STDOUT)?;
    }
    let lines = (!cfg.json).then_some(&mut out as &mut dyn Write);
    let fetched = prepared.run(body, save, lines)?;
    fetched.write_graphs(&cfg.pictures)?;
    if cfg.json {
        serde_json::to_writer_pretty(&mut out, &FetchJson::new(&fetched)).context(STDOUT)?;
        writeln!(out).context(STDOUT)?;
    } else {
        let snaplen = cfg.capture.as_ref().map_or(0, |c| c.snaplen);
        report(&mut out, &fetched, snaplen).context(STDOUT)?;
    }
    out.flush().context(STDOUT)?;
    let facts = &fetched.facts;
    if !(200..300).contains(&facts.status) {
        eprintln!("{}", words::status_warning(facts.status, &facts.reason));
    }
    if facts.extra_bytes > 0 {
        let framing = (!facts.chunked).then_some(facts.content_length).flatten();
        eprintln!("{}", words::extra_bytes_warning(facts.extra_bytes, framing));
    }
    if !facts.complete {
        let saved_to = fetched.saved_to.as_deref();
        return Err(anyhow::anyhow!(if facts.chunked {
            words::broken_chunks(facts.broken.as_ref(), facts.body_bytes, saved_to)
        } else {
            words::short_body(
                facts.body_bytes,
                facts.content_length.unwrap_or(0),
                saved_to,
            )
        }));
    }
    Ok(())
}

/// Standard output, buffered; on a terminal each line shows at once, as
/// the book's program prints each recv while it runs.
struct LineOut<W: Write> {
    out: W,
    live: bool,
}

impl<W: Write> Write for LineOut<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        if self.live && buf[..n].contains(&b'\n') {
            self.out.flush()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The text report after the book's lines, in render's words.
fn report(out: &mut dyn Write, f: &Fetched, snaplen: u32) -> io::Result<()> {
    let download = words::Download {
        header_length: f.facts.header_length,
        header: &f.facts.header,
        saved_to: f.saved_to.as_deref(),
        body_bytes: f.facts.body_bytes,
        rows: &f.rows,
        connection: f.connection(),
        explanation: &f.explanation,
        capture: f
            .capture
            .as_ref()
            .map(|c| capture(c, f.save.as_ref(), snaplen)),
    };
    words::report(out, &download)
}

fn capture<'a>(
    c: &'a CaptureResult,
    save: Option<&'a SavePaths>,
    snaplen: u32,
) -> words::Capture<'a> {
    words::Capture {
        packets: c.packets,
        interface: &c.interface,
        dropped: c.dropped,
        snaplen,
        trouble: c.trouble.as_ref().map(|t| match t {
            Trouble::FileWrite { path, error } => words::CaptureTrouble::FileWrite { path, error },
            Trouble::Stopped { error } => words::CaptureTrouble::Stopped { error },
        }),
        saved: save.map(|s| (s.pcap.as_path(), s.log.as_path())),
    }
}

/// `cover3-20261126-023045`: the URL's file stem and the UTC time.
fn default_name(url: &Url) -> String {
    let file = url.file_name();
    let stem = Path::new(&file)
        .file_stem()
        .map_or_else(|| "fetch".into(), |s| s.to_string_lossy().into_owned());
    format!("{stem}-{}", utc_stamp(now_ns()))
}
