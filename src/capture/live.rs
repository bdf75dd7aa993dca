//! Live capture of one connection on a thread of its own: armed (handle
//! open, filter set) before the SYN leaves, stopped with `breakloop` once
//! the FIN exchange is seen, kernel drops read at the end.

use std::net::SocketAddr;
use std::os::fd::IntoRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use pcap::{Active, Capture, Device, Precision};

use crate::analysis::{Analyzer, Report};
use crate::analysis::{Limits, NoBodies};
use crate::wire::{Decoded, FrameMeta, LinkType, decode};

use super::close_watch::CloseWatch;
use super::timestamp::{Fraction, timestamp_ns};

/// How to capture.
#[derive(Clone, Debug)]
pub(crate) struct LiveConfig {
    /// Interface to open; `None`: loopback for a loopback peer, else the
    /// interface that owns the client's address.
    pub interface: Option<String>,
    /// Bytes kept per frame; 0 keeps whole frames.
    pub snaplen: u32,
    pub buffer: u32,
}

/// Why live capture could not start.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LiveError {
    #[error(
        "live capture on {interface} needs the CAP_NET_RAW capability: run with sudo, or once: sudo setcap cap_net_raw,cap_net_admin=eip {exe}; --no-capture downloads without the wire view (queued bytes and TCP_INFO only)"
    )]
    NoPrivilege { interface: String, exe: String },
    #[error("there is no network interface {0:?}: `ip link` lists them")]
    NoSuchInterface(String),
    #[error("no interface owns the address {0}; name one with --interface")]
    NoInterfaceFor(std::net::IpAddr),
    #[error("capture on {interface}: {message}")]
    Pcap { interface: String, message: String },
    #[error("capture on {interface}: link type {code} is not one recvscope decodes")]
    LinkType { interface: String, code: i32 },
}

/// An open capture handle with its filter set: packets queue in the
/// kernel ring from now on, even before the thread starts reading.
pub(crate) struct Armed {
    cap: Capture<Active>,
    interface: String,
    link: LinkType,
    client: SocketAddr,
}

/// What the capture thread saw.
pub(crate) struct CaptureResult {
    pub report: Report,
    pub interface: String,
    /// Frames delivered to recvscope.
    pub packets: u64,
    /// Frames the kernel dropped because the ring was full (`None`: unknown).
    pub dropped: Option<u32>,
    pub saved: Option<PathBuf>,
    /// The first thing that went wrong while the capture ran, if any.
    pub trouble: Option<Trouble>,
}

/// What went wrong in a capture that started: each means something else
/// for the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Trouble {
    /// Writing the capture file failed (libpcap's reason): the file ends
    /// early, while the report, made from every frame, is whole.
    FileWrite { path: PathBuf, error: String },
    /// libpcap stopped delivering frames (its reason): the wire view ends
    /// there, and the download went on without it.
    Stopped { error: String },
}

/// A running capture thread.
pub(crate) struct Running {
    thread: JoinHandle<CaptureResult>,
    stop: Arc<AtomicBool>,
    breaker: pcap::BreakLoop,
    closed: mpsc::Receiver<()>,
}

/// Bytes of a pcap file's header, and of each record's before its frame.
const FILE_HEADER: u64 = 24;
const RECORD_HEADER: u64 = 16;

/// Opens the capture for the connection `client` ↔ `server`.
pub(crate) fn arm(
    client: SocketAddr,
    server: SocketAddr,
    cfg: &LiveConfig,
) -> Result<Armed, LiveError> {
    let interface = match &cfg.interface {
        Some(name) => name.clone(),
        None => interface_for(client, server)?,
    };
    let pcap_err = |e: pcap::Error| classify(&interface, e);
    let snaplen = if cfg.snaplen == 0 {
        262_144
    } else {
        cfg.snaplen
    };
    let mut cap = Capture::from_device(interface.as_str())
        .map_err(pcap_err)?
        .immediate_mode(true)
        .snaplen(i32::try_from(snaplen).unwrap_or(i32::MAX))
        .buffer_size(i32::try_from(cfg.buffer).unwrap_or(i32::MAX))
        .precision(Precision::Nano)
        .timeout(100)
        .open()
        .map_err(pcap_err)?;
    cap.filter(&filter(client, server), true)
        .map_err(pcap_err)?;
    let code = cap.get_datalink().0;
    let link = LinkType::from_code(code).ok_or_else(|| LiveError::LinkType {
        interface: interface.clone(),
        code,
    })?;
    Ok(Armed {
        cap,
        interface,
        link,
        client,
    })
}

/// The BPF filter for exactly one connection.
pub(crate) fn filter(a: SocketAddr, b: SocketAddr) -> String {
    let half = |s: SocketAddr, d: SocketAddr| {
        format!(
            "(src host {} and src port {} and dst host {} and dst port {})",
            s.ip(),
            s.port(),
            d.ip(),
            d.port()
        )
    };
    format!("tcp and ({} or {})", half(a, b), half(b, a))
}

fn interface_for(client: SocketAddr, server: SocketAddr) -> Result<String, LiveError> {
    let devices = Device::list().map_err(|e| classify("any", e))?;
    let found = if server.ip().is_loopback() {
        devices.iter().find(|d| d.flags.is_loopback())
    } else {
        devices
            .iter()
            .find(|d| d.addresses.iter().any(|a| a.addr == client.ip()))
    };
    match found {
        Some(d) => Ok(d.name.clone()),
        None if server.ip().is_loopback() => Ok("lo".into()),
        None => Err(LiveError::NoInterfaceFor(client.ip())),
    }
}

fn classify(interface: &str, e: pcap::Error) -> LiveError {
    let message = match e {
        pcap::Error::PcapError(m) => m,
        other => other.to_string(),
    };
    let lower = message.to_ascii_lowercase();
    if lower.contains("permitted") || lower.contains("permission") {
        LiveError::NoPrivilege {
            interface: interface.to_string(),
            exe: std::env::current_exe()
                .map_or_else(|_| "recvscope".into(), |p| p.display().to_string()),
        }
    } else if lower.contains("no such device") || lower.contains("doesn't exist") {
        LiveError::NoSuchInterface(interface.to_string())
    } else {
        LiveError::Pcap {
            interface: interface.to_string(),
            message,
        }
    }
}

/// A pcap writer on `path`, created new as every file recvscope writes
/// ([`crate::atomic_file::create_new`]): libpcap's own `savefile` would
/// follow a link planted at that name.
fn savefile(cap: &Capture<Active>, path: &Path) -> Result<pcap::Savefile, String> {
    let file = crate::atomic_file::create_new(path).map_err(|e| e.to_string())?;
    // SAFETY: `into_raw_fd` gives the descriptor up, so libpcap's stream is
    // its only owner and closes it.
    unsafe { cap.savefile_raw_fd(file.into_raw_fd()) }.map_err(|e| e.to_string())
}

impl Armed {
    /// Starts the capture thread, writing every frame to `save` (a pcap
    /// file, created now, so after any privilege drop) and analysing it.
    pub(crate) fn start(mut self, save: Option<&Path>) -> Result<Running, LiveError> {
        let savefile = match save {
            Some(path) => Some(savefile(&self.cap, path).map_err(|e| LiveError::Pcap {
                interface: self.interface.clone(),
                message: format!("cannot create {}: {e}", path.display()),
            })?),
            None => None,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let breaker = self.cap.breakloop_handle();
        let (closed_tx, closed) = mpsc::channel();
        let thread_stop = stop.clone();
        let saved = save.map(Path::to_path_buf);
        let thread = std::thread::Builder::new()
            .name("capture".into())
            .spawn(move || self.run(savefile, saved, &thread_stop, &closed_tx))
            .map_err(|e| LiveError::Pcap {
                interface: String::new(),
                message: format!("cannot start the capture thread: {e}"),
            })?;
        Ok(Running {
            thread,
            stop,
            breaker,
            closed,
        })
    }

    fn run(
        mut self,
        mut savefile: Option<pcap::Savefile>,
        saved: Option<PathBuf>,
        stop: &AtomicBool,
        closed: &mpsc::Sender<()>,
    ) -> CaptureResult {
        let mut analyzer = Analyzer::new(self.link, Limits::default(), Some(0));
        let mut watch = CloseWatch::new(self.client);
        let mut number = 0u64;
        let mut trouble = None;
        // What the file should hold: libpcap's writes report no error, and
        // a failed one is lost to its flush, so the file's length tells.
        let mut file_bytes = FILE_HEADER;
        let write_failed = |e: pcap::Error| Trouble::FileWrite {
            path: saved.clone().unwrap_or_default(),
            error: e.to_string(),
        };
        loop {
            match self.cap.next_packet() {
                Ok(p) => {
                    number += 1;
                    if let Some(s) = savefile.as_mut() {
                        s.write(&p);
                        file_bytes += RECORD_HEADER + u64::from(p.header.caplen);
                    }
                    let ts = p.header.ts;
                    let meta = FrameMeta {
                        number,
                        // Opened with nanosecond precision: tv_usec holds nanoseconds.
                        ts_ns: timestamp_ns(ts.tv_sec, ts.tv_usec, Fraction::Nanos),
                        orig_len: p.header.len,
                    };
                    // Decoded once: the close watch looks, the analysis tracks.
                    let frame = decode(self.link, p.data, meta);
                    if let Decoded::Tcp(seg) = &frame
                        && watch.segment(seg)
                    {
                        let _ = closed.send(());
                    }
                    analyzer.decoded(meta, frame, &mut NoBodies);
                }
                Err(pcap::Error::TimeoutExpired) => {
                    if let Some(s) = savefile.as_mut()
                        && let Err(e) = s.flush()
                    {
                        trouble.get_or_insert(write_failed(e));
                    }
                }
                Err(pcap::Error::NoMorePackets) => break,
                Err(e) => {
                    trouble.get_or_insert(Trouble::Stopped {
                        error: e.to_string(),
                    });
                    break;
                }
            }
            if stop.load(Ordering::Relaxed) {
                break;
            }
        }
        if let Some(s) = savefile.as_mut()
            && let Err(e) = s.flush()
        {
            trouble.get_or_insert(write_failed(e));
        }
        if let (Some(_), Some(path)) = (&savefile, &saved) {
            let on_disk = std::fs::metadata(path).map_or(0, |m| m.len());
            if on_disk < file_bytes {
                trouble.get_or_insert(Trouble::FileWrite {
                    path: path.clone(),
                    error: format!("{on_disk} of its {file_bytes} bytes reached the disk"),
                });
            }
        }
        let dropped = self.cap.stats().ok().map(|s| s.dropped);
        CaptureResult {
            report: analyzer.finish(&mut NoBodies),
            interface: self.interface,
            packets: number,
            dropped,
            saved,
            trouble,
        }
    }
}

impl Running {
    /// Waits up to `grace` for the FIN exchange (or a reset) to be
    /// captured, then stops the thread and returns what it saw.
    pub(crate) fn finish(self, grace: Duration) -> CaptureResult {
        let _ = self.closed.recv_timeout(grace);
        self.stop.store(true, Ordering::Relaxed);
        self.breaker.breakloop();
        match self.thread.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}
