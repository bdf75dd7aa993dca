//! `recvscope fetch`: the book's downloader (one request, `recv()` in a
//! loop, header split at the blank line, body saved), run while a capture
//! thread records the connection, then each recv correlated with the wire.

pub mod body;
pub mod request;
pub mod response;
pub mod socket;
pub mod url;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::capture::live::{self, CaptureResult, LiveConfig};
use crate::capture::privilege;
use crate::cli::FetchArgs;
use crate::correlate::{self, RecvRow};
use crate::interrupt;
use crate::recvlog::{self, LogWriter, Rcvbuf, RecvEvent, RunInfo};
use crate::serve::{Server, ServerConfig};
use crate::tcp::ConnectionSummary;

use body::BodyFile;
use request::request_bytes;
use response::{ResponseError, ResponseFacts, ResponseReader};
use socket::ClientSocket;
use url::Url;

/// How long the capture waits for the FIN exchange after the download.
const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// How often a blocked recv() wakes to check for Ctrl-C.
const POLL: Duration = Duration::from_millis(100);

/// Why a fetch failed; each reads as one line that says what to do.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot resolve host {host:?}: {source}")]
    Resolve { host: String, source: io::Error },
    #[error("host {0:?} has no address")]
    NoAddress(String),
    #[error(
        "connection refused by {0}: nothing listens on that port (start a lab server with `recvscope serve`)"
    )]
    Refused(SocketAddr),
    #[error("no answer from {addr} within {secs:.1} s (raise --timeout, or check the address)")]
    ConnectTimeout { addr: SocketAddr, secs: f64 },
    #[error("cannot connect to {addr}: {source}")]
    Connect { addr: SocketAddr, source: io::Error },
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
    #[error("{0}")]
    Response(#[from] ResponseError),
    #[error("interrupted after {0} bytes")]
    Interrupted(u64),
    #[error("{0}")]
    Save(#[from] body::SaveError),
    #[error("{what} {path}: {source}")]
    Files {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

/// The saved run: capture and recv log side by side.
struct SavePaths {
    pcap: PathBuf,
    log: PathBuf,
}

/// What the downloader saw, however it ended.
struct Download {
    request_ts: i64,
    recvs: Vec<RecvEvent>,
    result: Result<ResponseFacts, FetchError>,
}

/// The `fetch --json` document.
#[derive(Serialize)]
pub struct FetchJson<'a> {
    pub url: String,
    pub request: String,
    pub recv_size: u32,
    pub delay_ns: u64,
    pub rcvbuf: Rcvbuf,
    pub recvs: &'a [RecvRow],
    pub header_length: Option<u64>,
    pub status: Option<u16>,
    pub content_length: Option<u64>,
    pub body_bytes: Option<u64>,
    pub saved_to: Option<String>,
    pub capture: Option<CaptureJson>,
    pub connection: Option<&'a ConnectionSummary>,
    pub explanation: Vec<String>,
}

#[derive(Serialize)]
pub struct CaptureJson {
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

/// Runs `recvscope fetch`.
pub fn run(args: &FetchArgs) -> anyhow::Result<()> {
    let (url, _lab) = match &args.url {
        Some(text) => (Url::parse(text)?, None),
        None => {
            let lab = Server::bind(ServerConfig {
                keep_records: false,
                ..ServerConfig::default()
            })?
            .spawn();
            if !args.json {
                println!(
                    "No URL given: fetching the built-in image from a lab server on {} (like `recvscope serve`).",
                    lab.local_addr()
                );
            }
            (Url::parse(&lab.url("/cover3.jpg"))?, Some(lab))
        }
    };
    let target = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(url.file_name()));
    body::check_target(&target, args.force)?;
    let peer = resolve(&url)?;
    let sock = ClientSocket::bind(peer, args.rcvbuf).map_err(FetchError::Socket)?;
    let rcvbuf = Rcvbuf {
        requested: args.rcvbuf,
        effective: sock.rcvbuf().map_err(FetchError::Socket)?,
    };
    let client = sock.local_addr();
    let armed = if args.no_capture {
        None
    } else {
        let cfg = LiveConfig {
            interface: args.interface.clone(),
            snaplen: args.snaplen,
            buffer: args.capture_buffer,
        };
        Some(live::arm(client, peer, &cfg)?)
    };
    privilege::drop_to_invoking_user()?;
    let save = if args.no_save {
        None
    } else {
        Some(save_paths(args, &url)?)
    };
    let running = match armed {
        Some(a) => Some(a.start(save.as_ref().map(|s| s.pcap.as_path()))?),
        None => None,
    };
    interrupt::install();
    let request = request_bytes(&url, args.http);
    let mut body = BodyFile::create(&target)?;
    let out = io::stdout();
    let mut out = out.lock();
    if !args.json {
        writeln!(
            out,
            "{} -> {}  recv({}){}, receive buffer {}",
            client,
            peer,
            args.recv_size,
            args.delay
                .map_or(String::new(), |d| format!(" every {} ms", d.as_millis())),
            describe_rcvbuf(rcvbuf)
        )?;
    }
    let run = RunInfo {
        kind: recvlog::KIND.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        url: url.to_string(),
        request: String::from_utf8_lossy(&request).into_owned(),
        client: client.to_string(),
        server: peer.to_string(),
        recv_size: args.recv_size as usize,
        delay_ns: args.delay.map_or(0, |d| d.as_nanos() as u64),
        rcvbuf,
        clock: "CLOCK_REALTIME".into(),
        request_ts_ns: 0,
    };
    let download = download(
        sock,
        peer,
        &request,
        args,
        run.clone(),
        save.as_ref().map(|s| s.log.as_path()),
        &mut body,
        (!args.json).then_some(&mut out as &mut dyn Write),
    );
    let capture = running.map(|r| r.finish(CLOSE_GRACE));
    let facts = match download.result {
        Ok(facts) => facts,
        Err(e) => return Err(fail(e, body, capture.as_ref(), save.as_ref())),
    };
    let saved = body.finish(facts.complete, args.force)?;
    let conn = capture.as_ref().and_then(|c| {
        c.report
            .connections
            .iter()
            .find(|s| s.client == client.to_string() && s.server == peer.to_string())
    });
    let rows = correlate::correlate(
        download.request_ts,
        &download.recvs,
        conn.and_then(|c| c.packet_list.as_deref()),
    );
    let explanation = correlate::explain(&rows, conn);
    if args.json {
        let doc = FetchJson {
            url: url.to_string(),
            request: run.request.clone(),
            recv_size: args.recv_size,
            delay_ns: run.delay_ns,
            rcvbuf,
            recvs: &rows,
            header_length: Some(facts.header_length),
            status: Some(facts.status),
            content_length: facts.content_length,
            body_bytes: Some(facts.body_bytes),
            saved_to: Some(saved.display().to_string()),
            capture: (capture.is_some() || save.is_some()).then(|| CaptureJson {
                file: capture
                    .as_ref()
                    .and_then(|c| c.saved.as_ref())
                    .map(|p| p.display().to_string()),
                recv_log: save.as_ref().map(|s| s.log.display().to_string()),
                interface: capture.as_ref().map(|c| c.interface.clone()),
                packets: capture.as_ref().map(|c| c.packets),
                dropped: capture.as_ref().and_then(|c| c.dropped),
            }),
            connection: conn,
            explanation,
        };
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        writeln!(out, "\nHeader Length {}", facts.header_length)?;
        writeln!(out, "{}", facts.header)?;
        writeln!(
            out,
            "\nSaved {} body bytes to {}",
            facts.body_bytes,
            saved.display()
        )?;
        crate::report::recvs::write(&mut out, &rows, conn, &explanation)?;
        if let Some(c) = &capture {
            capture_lines(&mut out, c, save.as_ref(), args.snaplen)?;
        }
    }
    out.flush()?;
    if !(200..300).contains(&facts.status) {
        eprintln!(
            "recvscope: warning: the server answered {} {}",
            facts.status, facts.reason
        );
    }
    if !facts.complete {
        return Err(anyhow::anyhow!(
            "the body is shorter than its Content-Length: {} of {} bytes; the partial body is in {}",
            facts.body_bytes,
            facts.content_length.unwrap_or(0),
            saved.display()
        ));
    }
    Ok(())
}

fn describe_rcvbuf(r: Rcvbuf) -> String {
    match r.requested {
        Some(asked) => format!("{asked} asked, {} effective", r.effective),
        None => format!("{} (kernel default, autotuned)", r.effective),
    }
}

/// The error of a failed download, after keeping what can be kept.
fn fail(
    e: FetchError,
    body: BodyFile,
    capture: Option<&CaptureResult>,
    save: Option<&SavePaths>,
) -> anyhow::Error {
    let kept = match &e {
        FetchError::Interrupted(_) | FetchError::Reset(_) | FetchError::Timeout { .. } => {
            body.finish(false, false).ok()
        }
        _ => None,
    };
    let mut msg = e.to_string();
    if let Some(p) = kept {
        msg.push_str(&format!("; the partial body is in {}", p.display()));
    }
    if let (Some(c), Some(s)) = (capture, save)
        && c.packets > 0
    {
        msg.push_str(&format!(
            "; the wire so far is in {} (recvscope replay shows it)",
            s.pcap.display()
        ));
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

fn capture_lines(
    out: &mut dyn Write,
    c: &CaptureResult,
    save: Option<&SavePaths>,
    snaplen: u32,
) -> io::Result<()> {
    let dropped = match c.dropped {
        Some(0) => "0 dropped by the kernel".to_string(),
        Some(n) => format!("{n} DROPPED by the kernel: the wire view is incomplete"),
        None => "kernel drops unknown".to_string(),
    };
    writeln!(
        out,
        "\ncapture: {} packets on {}, {dropped}",
        c.packets, c.interface
    )?;
    if snaplen != 0 {
        writeln!(
            out,
            "  frames were kept to {snaplen} bytes (headers): payload bytes show as missing on the wire, the body above is the application's; --snaplen 0 keeps whole frames"
        )?;
    }
    if let Some(e) = &c.save_error {
        writeln!(out, "  warning: the capture file may be incomplete: {e}")?;
    }
    if let Some(s) = save {
        writeln!(
            out,
            "saved {} and {}; `recvscope replay {}` shows this run again",
            s.pcap.display(),
            s.log.display(),
            s.pcap.display()
        )?;
    }
    Ok(())
}

fn resolve(url: &Url) -> Result<SocketAddr, FetchError> {
    let addrs: Vec<SocketAddr> = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|source| FetchError::Resolve {
            host: url.host.clone(),
            source,
        })?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| FetchError::NoAddress(url.host.clone()))
}

fn save_paths(args: &FetchArgs, url: &Url) -> Result<SavePaths, FetchError> {
    let name = match &args.save {
        Some(n) => n.clone(),
        None => {
            let file = url.file_name();
            let stem = Path::new(&file)
                .file_stem()
                .map_or_else(|| "fetch".into(), |s| s.to_string_lossy().into_owned());
            format!("{stem}-{}", utc_stamp(now_ns()))
        }
    };
    std::fs::create_dir_all(&args.captures).map_err(|source| FetchError::Files {
        what: "cannot create the captures directory",
        path: args.captures.clone(),
        source,
    })?;
    let pcap = args.captures.join(format!("{name}.pcap"));
    let log = recvlog::path_for(&pcap);
    for p in [&pcap, &log] {
        if p.exists() && !args.force {
            return Err(FetchError::Files {
                what: "will not overwrite",
                path: p.clone(),
                source: io::Error::other("choose another --save NAME, or pass --force"),
            });
        }
    }
    Ok(SavePaths { pcap, log })
}

/// CLOCK_REALTIME in nanoseconds, the clock libpcap stamps frames with.
pub fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// `YYYYMMDD-HHMMSS` in UTC.
fn utc_stamp(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[allow(clippy::too_many_arguments)]
fn download(
    sock: ClientSocket,
    peer: SocketAddr,
    request: &[u8],
    args: &FetchArgs,
    mut run: RunInfo,
    log: Option<&Path>,
    body: &mut BodyFile,
    mut lines: Option<&mut dyn Write>,
) -> Download {
    let mut d = Download {
        request_ts: 0,
        recvs: Vec::new(),
        result: Err(FetchError::Interrupted(0)),
    };
    let stream = match connect(sock, peer, args.timeout) {
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
        w.map_err(|source| FetchError::Files {
            what: "cannot write the recv log",
            path: p.to_path_buf(),
            source,
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
        args,
        &mut reader,
        body,
        &mut d.recvs,
        &mut |ev| match writer.as_mut() {
            Some(w) => w.recv(ev),
            None => Ok(()),
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
        .map_err(|source| match source.kind() {
            io::ErrorKind::ConnectionRefused => FetchError::Refused(peer),
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => FetchError::ConnectTimeout {
                addr: peer,
                secs: timeout.as_secs_f64(),
            },
            _ => FetchError::Connect { addr: peer, source },
        })
}

/// The book's loop: recv(size) until the server closes, printing each
/// size and the running total.
fn recv_loop(
    stream: &TcpStream,
    args: &FetchArgs,
    reader: &mut ResponseReader,
    body: &mut BodyFile,
    recvs: &mut Vec<RecvEvent>,
    log: &mut dyn FnMut(&RecvEvent) -> io::Result<()>,
    lines: &mut Option<&mut dyn Write>,
) -> Result<(), FetchError> {
    stream
        .set_read_timeout(Some(POLL))
        .map_err(FetchError::Socket)?;
    let mut buf = vec![0u8; args.recv_size as usize];
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
                    if last_data.elapsed() > args.timeout {
                        return Err(FetchError::Timeout {
                            bytes: total,
                            secs: args.timeout.as_secs_f64(),
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
        log(&ev).map_err(FetchError::Recv)?;
        recvs.push(ev);
        if n == 0 {
            return Ok(());
        }
        if let Some(w) = lines.as_mut() {
            writeln!(w, "{n} {total}").map_err(FetchError::Recv)?;
        }
        reader.data(&buf[..n], body)?;
        if let Some(delay) = args.delay {
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

    #[test]
    fn run_names_carry_a_utc_timestamp() {
        assert_eq!(utc_stamp(0), "19700101-000000");
        assert_eq!(utc_stamp(1_795_660_245_000_000_000), "20261126-023045");
        assert_eq!(utc_stamp(951_782_400_000_000_000), "20000229-000000");
    }
}
