//! `recvscope fetch`: the book's downloader (one request, `recv()` in a
//! loop, header split at the blank line, body saved), run while a capture
//! thread records the connection, then each recv correlated with the wire.

pub(crate) mod body;
pub mod command;
mod config;
pub(crate) mod request;
pub(crate) mod response;
pub(crate) mod socket;
pub(crate) mod url;

use std::io::{self, Read, Write};

use anyhow::Context;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::analysis::ConnectionSummary;
use crate::capture::live::{self, Armed, CaptureResult, LiveConfig, Trouble};
use crate::clock::now_ns;
use crate::correlate::{self, RecvRow};
use crate::graph::Pictures;
use crate::interrupt;
use crate::lesson::{self, Lesson};
use crate::recvlog::{self, LogWriter, Rcvbuf, RecvEvent, RunInfo};

pub use config::FetchConfig;

use body::BodyFile;
use request::{HttpVersion, request_bytes};
use response::{ResponseError, ResponseFacts, ResponseReader};
use socket::ClientSocket;
use url::Url;

/// How long the capture waits for the FIN exchange after the download.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// How often a blocked recv() wakes to check for Ctrl-C.
const POLL: Duration = Duration::from_millis(100);

/// Why a fetch failed; each reads as one line that says what to do.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    #[error(
        "cannot resolve host {host:?}: {}; check the host name in the URL",
        resolver_says(error)
    )]
    Resolve { host: String, error: io::Error },
    #[error("host {0:?} has no address")]
    NoAddress(String),
    #[error(
        "connection refused by {0}: nothing listens on that port (start a lab server with `recvscope serve`)"
    )]
    Refused(SocketAddr),
    #[error("no answer from {addr} within {secs:.1} s (raise --timeout, or check the address)")]
    ConnectTimeout { addr: SocketAddr, secs: f64 },
    #[error("cannot connect to {addr}: {error}")]
    Connect { addr: SocketAddr, error: io::Error },
    #[error("socket setup: {0}")]
    Socket(io::Error),
    #[error("sending the request: {0}")]
    Send(io::Error),
    #[error("the server reset the connection after {0} bytes")]
    Reset(u64),
    #[error("no data for {secs:.1} s after {bytes} bytes (raise --timeout)")]
    Timeout { bytes: u64, secs: f64 },
    #[error("recv(): {0}")]
    Recv(io::Error),
    /// Standard output could not take the book's lines: the source says
    /// why, so a reader that closed the pipe (`| head`) ends the run quietly.
    #[error("{}", command::STDOUT)]
    Output(#[source] io::Error),
    #[error(transparent)]
    Response(#[from] ResponseError),
    #[error("interrupted after {0} bytes")]
    Interrupted(u64),
    #[error(transparent)]
    Save(#[from] body::SaveError),
    #[error("{0} already exists; pass --force to replace it, or --save another NAME")]
    RunExists(PathBuf),
    #[error(
        "{what} {path}: the disk is full; free some space, or save runs on another disk with --captures DIR (or not at all with --no-save)"
    )]
    DiskFull { what: &'static str, path: PathBuf },
    #[error("{what} {path}: {error}")]
    Files {
        what: &'static str,
        path: PathBuf,
        error: io::Error,
    },
}

/// The resolver's reason, without the standard library's "failed to lookup
/// address information: " before it, which says again what the line
/// around it says.
fn resolver_says(error: &io::Error) -> String {
    let text = error.to_string();
    match text.strip_prefix("failed to lookup address information: ") {
        Some(reason) => reason.to_string(),
        None => text,
    }
}

/// What to fetch and how: the book's knobs.
#[derive(Clone, Debug)]
pub(crate) struct FetchSpec {
    pub url: Url,
    pub http: HttpVersion,
    pub recv_size: u32,
    pub delay: Option<Duration>,
    pub rcvbuf: Option<u64>,
    /// Limit for connecting, and for waiting on data.
    pub timeout: Duration,
    /// `None`: no capture (socket-side columns only).
    pub capture: Option<LiveConfig>,
}

/// A saved run: capture and recv log side by side.
#[derive(Clone, Debug)]
pub(crate) struct SavePaths {
    pub pcap: PathBuf,
    pub log: PathBuf,
}

impl SavePaths {
    /// `DIR/NAME.pcap` and `DIR/NAME.recv.jsonl`, creating DIR. Either file
    /// there already is an error unless `force`, which removes both: a run
    /// never writes beside a file of another run, so a recv log is never
    /// joined with an older capture (with `--no-capture`, or when the run
    /// fails before its recv log is written).
    pub(crate) fn new(dir: &Path, name: &str, force: bool) -> Result<SavePaths, FetchError> {
        let paths = SavePaths::in_dir(dir, name)?;
        for p in [&paths.pcap, &paths.log] {
            match (force, taken(p)) {
                (_, false) => {}
                (false, true) => return Err(FetchError::RunExists(p.clone())),
                (true, true) => std::fs::remove_file(p).map_err(|error| FetchError::Files {
                    what: "cannot remove",
                    path: p.clone(),
                    error,
                })?,
            }
        }
        Ok(paths)
    }

    /// The first of `DIR/STEM`, `DIR/STEM-2`, `DIR/STEM-3`… with neither
    /// file there, for a name recvscope makes: repeating a run in the same
    /// second gets a name of its own instead of an error.
    pub(crate) fn unused(dir: &Path, stem: &str) -> Result<SavePaths, FetchError> {
        let mut n = 1;
        loop {
            let paths = SavePaths::in_dir(dir, &numbered(stem, n))?;
            if !taken(&paths.pcap) && !taken(&paths.log) {
                return Ok(paths);
            }
            n += 1;
        }
    }

    fn in_dir(dir: &Path, name: &str) -> Result<SavePaths, FetchError> {
        std::fs::create_dir_all(dir).map_err(|error| FetchError::Files {
            what: "cannot create the captures directory",
            path: dir.to_path_buf(),
            error,
        })?;
        let pcap = dir.join(format!("{name}.pcap"));
        let log = recvlog::path_for(&pcap);
        Ok(SavePaths { pcap, log })
    }
}

/// Something has the name `path`: a file, or a link (dangling or not),
/// which a new file there must not be created through.
fn taken(path: &Path) -> bool {
    path.symlink_metadata().is_ok()
}

/// A new directory `DIR/BASE` (or `BASE-2`, `BASE-3`… when that is taken)
/// for the runs of one lab: made here, so it holds no file of another run,
/// and two labs started in the same second never share one.
pub(crate) fn new_run_dir(dir: &Path, base: &str) -> Result<PathBuf, FetchError> {
    let cannot = |path: &Path, error| FetchError::Files {
        what: "cannot create the captures directory",
        path: path.to_path_buf(),
        error,
    };
    std::fs::create_dir_all(dir).map_err(|e| cannot(dir, e))?;
    let mut n = 1;
    loop {
        let path = dir.join(numbered(base, n));
        match std::fs::create_dir(&path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => n += 1,
            Err(e) => return Err(cannot(&path, e)),
        }
    }
}

/// The `n`th name made from `base` when the ones before are taken:
/// `base`, `base-2`, `base-3`…
pub(crate) fn numbered(base: &str, n: u32) -> String {
    if n < 2 {
        base.to_string()
    } else {
        format!("{base}-{n}")
    }
}

/// Where the body goes: a file (written safely), or nowhere.
pub(crate) enum BodyOut {
    File { target: PathBuf, force: bool },
    Discard,
}

/// A fetch whose socket is bound and whose capture is armed: everything
/// that needs privileges is done, so the caller can drop them now.
pub(crate) struct Prepared {
    spec: FetchSpec,
    peer: SocketAddr,
    sock: ClientSocket,
    rcvbuf: Rcvbuf,
    armed: Option<Armed>,
}

/// A finished fetch: the application's view, the wire's, and the two joined.
pub(crate) struct Fetched {
    pub run: RunInfo,
    pub facts: ResponseFacts,
    /// Where the body went (the target, or its `.partial` name when short).
    pub saved_to: Option<PathBuf>,
    pub rows: Vec<RecvRow>,
    /// The facts the explanation is made from.
    pub lesson: Lesson,
    pub explanation: Vec<String>,
    pub capture: Option<CaptureResult>,
    pub save: Option<SavePaths>,
    conn: Option<usize>,
}

impl Fetched {
    /// The captured connection's report, when there was a capture.
    pub(crate) fn connection(&self) -> Option<&ConnectionSummary> {
        let c = self.capture.as_ref()?;
        c.report.connections.get(self.conn?)
    }

    /// Writes the time-sequence graph and the HTML page of the run.
    pub(crate) fn write_graphs(&self, pictures: &Pictures) -> anyhow::Result<()> {
        if !pictures.wanted() {
            return Ok(());
        }
        let conn = self
            .connection()
            .context("the capture holds no packet of the connection to draw")?;
        let app = crate::graph::AppRecvs {
            rows: &self.rows,
            request_ts_ns: self.run.request_ts_ns,
        };
        crate::graph::write_files(
            conn,
            Some(app),
            &self.explanation,
            pictures.svg.as_deref(),
            pictures.html.as_deref(),
        )
    }
}

/// Resolves the host, binds the socket with its receive buffer and arms
/// the capture for the exact 4-tuple.
pub(crate) fn prepare(spec: FetchSpec) -> anyhow::Result<Prepared> {
    let peer = resolve(&spec.url)?;
    let sock = ClientSocket::bind(peer, spec.rcvbuf).map_err(FetchError::Socket)?;
    let rcvbuf = Rcvbuf {
        asked: spec.rcvbuf,
        given: sock.rcvbuf().map_err(FetchError::Socket)?,
    };
    let armed = match &spec.capture {
        Some(cfg) => Some(live::arm(sock.local_addr(), peer, cfg)?),
        None => None,
    };
    Ok(Prepared {
        spec,
        peer,
        sock,
        rcvbuf,
        armed,
    })
}

impl Prepared {
    pub(crate) fn client(&self) -> SocketAddr {
        self.sock.local_addr()
    }

    pub(crate) fn peer(&self) -> SocketAddr {
        self.peer
    }

    pub(crate) fn rcvbuf(&self) -> Rcvbuf {
        self.rcvbuf
    }

    /// Connects, sends, runs the recv loop (printing the book's lines to
    /// `lines`), stops the capture and correlates. A body shorter than its
    /// framing is not an error here: `facts.complete` says so.
    pub(crate) fn run(
        self,
        body: BodyOut,
        save: Option<SavePaths>,
        lines: Option<&mut dyn Write>,
    ) -> anyhow::Result<Fetched> {
        let client = self.client();
        let running = match self.armed {
            Some(a) => Some(a.start(save.as_ref().map(|s| s.pcap.as_path()))?),
            None => None,
        };
        interrupt::install();
        let request = request_bytes(&self.spec.url, self.spec.http);
        let mut sink = match body {
            BodyOut::File { target, force } => {
                body::check_target(&target, force)?;
                Sink::File(BodyFile::create(&target)?, force)
            }
            BodyOut::Discard => Sink::Discard,
        };
        let run = RunInfo {
            kind: recvlog::KIND.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            url: self.spec.url.to_string(),
            request: String::from_utf8_lossy(&request).into_owned(),
            client: client.to_string(),
            server: self.peer.to_string(),
            recv_size: self.spec.recv_size as usize,
            delay_ns: self.spec.delay.map_or(0, |d| d.as_nanos() as u64),
            rcvbuf: self.rcvbuf,
            clock: "CLOCK_REALTIME".into(),
            request_ts_ns: 0,
        };
        let download = download(
            self.sock,
            self.peer,
            &request,
            &self.spec,
            run.clone(),
            save.as_ref().map(|s| s.log.as_path()),
            &mut sink,
            lines,
        );
        let capture = running.map(|r| r.finish(CLOSE_GRACE));
        let facts = match download.result {
            Ok(facts) => facts,
            Err(e) => return Err(fail(e, sink, capture.as_ref(), save.as_ref())),
        };
        let saved_to = match sink {
            // No body byte came: an empty file would pass for a partial body.
            Sink::File(f, _) if !facts.complete && f.bytes() == 0 => None,
            Sink::File(f, force) => Some(f.finish(facts.complete, force)?),
            Sink::Discard => None,
        };
        let conn = capture.as_ref().and_then(|c| {
            c.report
                .connections
                .iter()
                .position(|s| s.tcp.client == run.client && s.tcp.server == run.server)
        });
        let mut fetched = Fetched {
            run: RunInfo {
                request_ts_ns: download.request_ts,
                ..run
            },
            facts,
            saved_to,
            rows: Vec::new(),
            lesson: lesson::lesson(&[], None, 0),
            explanation: Vec::new(),
            capture,
            save,
            conn,
        };
        let conn = fetched.connection();
        fetched.rows = correlate::correlate(
            download.request_ts,
            &download.recvs,
            conn.and_then(|c| c.packet_list.as_deref()),
        );
        fetched.lesson = lesson::lesson(&fetched.rows, fetched.connection(), download.request_ts);
        fetched.explanation = crate::report::explain::explain(&fetched.lesson);
        Ok(fetched)
    }
}

/// The body while it arrives.
enum Sink {
    File(BodyFile, bool),
    Discard,
}

impl response::Body for Sink {
    fn write(&mut self, bytes: &[u8]) {
        if let Sink::File(f, _) = self {
            f.write(bytes);
        }
    }
}

/// What the downloader saw, however it ended.
struct Download {
    request_ts: i64,
    recvs: Vec<RecvEvent>,
    result: Result<ResponseFacts, FetchError>,
}

/// The error of a failed download, after keeping what can be kept.
fn fail(
    e: FetchError,
    sink: Sink,
    capture: Option<&CaptureResult>,
    save: Option<&SavePaths>,
) -> anyhow::Error {
    if let FetchError::Output(_) = e {
        // Typed to the end: `main` ends quietly on a closed pipe.
        return anyhow::Error::new(e);
    }
    let kept = match (&e, sink) {
        (
            FetchError::Interrupted(_) | FetchError::Reset(_) | FetchError::Timeout { .. },
            Sink::File(f, force),
        ) if f.bytes() > 0 => f.finish(false, force).ok(),
        // Anything else (no body byte yet, or no file) leaves no file.
        _ => None,
    };
    let mut msg = e.to_string();
    if let Some(p) = kept {
        msg.push_str(&crate::report::fetch::partial_kept(&p));
    }
    if let (Some(c), Some(s)) = (capture, save)
        && c.packets > 0
    {
        let write_error = match &c.trouble {
            Some(Trouble::FileWrite { error, .. }) => Some(error.as_str()),
            _ => None,
        };
        msg.push_str(&crate::report::fetch::wire_kept(&s.pcap, write_error));
    }
    let err = anyhow::Error::msg(msg);
    if matches!(e, FetchError::Interrupted(_)) {
        err.context(Interrupted)
    } else {
        err
    }
}

/// Marks an error caused by Ctrl-C, for the exit status.
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

fn resolve(url: &Url) -> Result<SocketAddr, FetchError> {
    let addrs: Vec<SocketAddr> = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|error| FetchError::Resolve {
            host: url.host.clone(),
            error,
        })?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| FetchError::NoAddress(url.host.clone()))
}

#[allow(clippy::too_many_arguments)]
fn download(
    sock: ClientSocket,
    peer: SocketAddr,
    request: &[u8],
    spec: &FetchSpec,
    mut run: RunInfo,
    log: Option<&Path>,
    body: &mut Sink,
    mut lines: Option<&mut dyn Write>,
) -> Download {
    let mut d = Download {
        request_ts: 0,
        recvs: Vec::new(),
        result: Err(FetchError::Interrupted(0)),
    };
    let stream = match connect(sock, peer, spec.timeout) {
        Ok(s) => s,
        Err(e) => {
            d.result = Err(e);
            return d;
        }
    };
    d.request_ts = now_ns();
    run.request_ts_ns = d.request_ts;
    if let Err(e) = (&stream).write_all(request) {
        d.result = Err(FetchError::Send(e));
        return d;
    }
    let mut writer = match log.map(|p| (p, LogWriter::create(p, &run))).map(|(p, w)| {
        w.map_err(|error| FetchError::Files {
            what: "cannot write the recv log",
            path: p.to_path_buf(),
            error,
        })
    }) {
        Some(Ok(w)) => Some(w),
        Some(Err(e)) => {
            d.result = Err(e);
            return d;
        }
        None => None,
    };
    let mut reader = ResponseReader::new(request);
    let result = recv_loop(
        &stream,
        spec,
        &mut reader,
        body,
        &mut d.recvs,
        &mut |ev| match (writer.as_mut(), log) {
            (Some(w), Some(path)) => w.recv(ev).map_err(|error| match error.kind() {
                io::ErrorKind::StorageFull => FetchError::DiskFull {
                    what: "cannot write the recv log",
                    path: path.to_path_buf(),
                },
                _ => FetchError::Files {
                    what: "cannot write the recv log",
                    path: path.to_path_buf(),
                    error,
                },
            }),
            _ => Ok(()),
        },
        &mut lines,
    );
    d.result = result.and_then(|()| reader.finish(body).map_err(FetchError::from));
    d
}

fn connect(
    sock: ClientSocket,
    peer: SocketAddr,
    timeout: Duration,
) -> Result<TcpStream, FetchError> {
    sock.connect(peer, timeout)
        .map_err(|error| match error.kind() {
            io::ErrorKind::ConnectionRefused => FetchError::Refused(peer),
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => FetchError::ConnectTimeout {
                addr: peer,
                secs: timeout.as_secs_f64(),
            },
            _ => FetchError::Connect { addr: peer, error },
        })
}

/// The book's loop: recv(size) until the server closes, printing each
/// size and the running total.
fn recv_loop(
    stream: &TcpStream,
    spec: &FetchSpec,
    reader: &mut ResponseReader,
    body: &mut Sink,
    recvs: &mut Vec<RecvEvent>,
    log: &mut dyn FnMut(&RecvEvent) -> Result<(), FetchError>,
    lines: &mut Option<&mut dyn Write>,
) -> Result<(), FetchError> {
    stream
        .set_read_timeout(Some(POLL))
        .map_err(FetchError::Socket)?;
    let mut buf = vec![0u8; spec.recv_size as usize];
    let mut total = 0u64;
    let mut last_data = Instant::now();
    loop {
        if interrupt::requested() {
            return Err(FetchError::Interrupted(total));
        }
        let queued_before = socket::queued(stream).ok();
        let tcp_info = socket::tcp_info(stream);
        let start_ns = now_ns();
        let n = loop {
            match (&mut &*stream).read(&mut buf) {
                Ok(n) => break n,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if interrupt::requested() {
                        return Err(FetchError::Interrupted(total));
                    }
                    if last_data.elapsed() > spec.timeout {
                        return Err(FetchError::Timeout {
                            bytes: total,
                            secs: spec.timeout.as_secs_f64(),
                        });
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    return Err(FetchError::Reset(total));
                }
                Err(e) => return Err(FetchError::Recv(e)),
            }
        };
        let end_ns = now_ns();
        last_data = Instant::now();
        total += n as u64;
        let ev = RecvEvent {
            index: recvs.len() as u64,
            start_ns,
            end_ns,
            asked: buf.len(),
            bytes: n as u64,
            total,
            queued_before,
            tcp_info,
        };
        log(&ev)?;
        recvs.push(ev);
        if n == 0 {
            return Ok(());
        }
        if let Some(w) = lines.as_mut() {
            crate::report::fetch::book_line(w, n, total).map_err(FetchError::Output)?;
        }
        reader.data(&buf[..n], body)?;
        if let Some(delay) = spec.delay {
            sleep_unless_interrupted(delay);
        }
    }
}

fn sleep_unless_interrupted(d: Duration) {
    let until = Instant::now() + d;
    while !interrupt::requested() {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(POLL));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::atomic_file::tests::names;

    #[test]
    fn a_run_is_never_saved_beside_a_file_of_another_run_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let runs = dir.path().join("runs");
        let s = SavePaths::new(&runs, "x", false).unwrap();
        assert_eq!(
            (s.pcap, s.log),
            (runs.join("x.pcap"), runs.join("x.recv.jsonl"))
        );
        std::fs::write(runs.join("x.pcap"), "old capture").unwrap();
        let e = SavePaths::new(&runs, "x", false).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{} already exists; pass --force to replace it, or --save another NAME",
                runs.join("x.pcap").display()
            )
        );
        std::fs::write(runs.join("x.recv.jsonl"), "old log").unwrap();
        SavePaths::new(&runs, "x", true).unwrap();
        assert_eq!(
            names(&runs),
            Vec::<String>::new(),
            "--force removes the old pair"
        );
    }

    #[test]
    fn names_recvscope_makes_are_numbered_until_one_is_free() {
        let dir = tempfile::tempdir().unwrap();
        let runs = dir.path().join("runs");
        let name = |s: SavePaths| s.pcap.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(name(SavePaths::unused(&runs, "c-1").unwrap()), "c-1.pcap");
        std::fs::write(runs.join("c-1.pcap"), "").unwrap();
        assert_eq!(name(SavePaths::unused(&runs, "c-1").unwrap()), "c-1-2.pcap");
        std::fs::write(runs.join("c-1-2.recv.jsonl"), "").unwrap();
        assert_eq!(name(SavePaths::unused(&runs, "c-1").unwrap()), "c-1-3.pcap");
        let first = new_run_dir(&runs, "lab-book-t").unwrap();
        let second = new_run_dir(&runs, "lab-book-t").unwrap();
        assert_eq!(
            (first, second),
            (runs.join("lab-book-t"), runs.join("lab-book-t-2"))
        );
        assert_eq!(
            names(&runs),
            ["c-1-2.recv.jsonl", "c-1.pcap", "lab-book-t", "lab-book-t-2"]
        );
    }
}
