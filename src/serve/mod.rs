//! `recvscope serve`: the lab HTTP/1.x server.
//!
//! It serves the book's experiment on loopback: a built-in `cover3.jpg`, synthetic
//! bodies of any size (`/bytes/N`, `/chunked/N`), or the files under `--root`. It can
//! make itself the bottleneck (`--sndbuf`, `--rate`) and logs every `write()` it makes,
//! with CLOCK_REALTIME timestamps that line up with a packet capture.
//!
//! One thread per connection, blocking sockets, no async runtime. Tests and other
//! commands run it in-process:
//!
//! ```no_run
//! use recvscope::serve::{Server, ServerConfig};
//! let server = Server::bind(ServerConfig::default())?.spawn();
//! let url = server.url("/cover3.jpg"); // http://127.0.0.1:PORT/cover3.jpg
//! // ... fetch it ...
//! let sends = server.send_events();
//! let closes = server.finish()?; // with the kernel's TCP_INFO figures of each connection
//! # Ok::<(), recvscope::serve::ServeError>(())
//! ```

pub(crate) mod body;
pub mod command;
mod config;
mod conn;
pub mod image;
pub(crate) mod log;
pub(crate) mod path;
pub mod request;
pub(crate) mod response;
pub(crate) mod socket;

use std::collections::HashMap;
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

pub use body::pattern_byte;
pub use config::ServeConfig;
pub use log::{ConnectionClose, Exchange, Part, SendEvent};

use crate::clock::now_ns;
use log::{LogFile, Record};

/// How often the accept loop looks at its stop flag.
const STOP_POLL: Duration = Duration::from_millis(100);

/// How the server runs. `ServerConfig::default()` is what tests want: 127.0.0.1, a port
/// the system picks, the built-in resources, no bottleneck, records kept in memory.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Address to listen on; port 0 lets the system pick one.
    pub bind: SocketAddr,
    /// Serve the files under this directory instead of the built-in resources.
    pub root: Option<PathBuf>,
    /// Pace every body to this many bytes per second.
    pub rate: Option<u64>,
    /// Send every body as an internet path with this round-trip time delivers it
    /// (see [`body::round_budget`]).
    pub round_trip: Option<Duration>,
    /// SO_SNDBUF to ask for on each accepted socket (Linux sets double).
    pub sndbuf: Option<usize>,
    /// Write the send log as JSON Lines to this file.
    pub log: Option<PathBuf>,
    /// Print one summary line per request on stderr.
    pub summaries: bool,
    /// Keep every send event, exchange and connection close in memory for
    /// [`RunningServer::send_events`], [`RunningServer::exchanges`] and
    /// [`RunningServer::closes`]. Off for the long-running CLI.
    pub keep_records: bool,
    /// A connection that sends nothing for this long is closed.
    pub idle_timeout: Duration,
    /// A `write()` that cannot hand over a byte for this long ends the connection.
    pub send_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            root: None,
            rate: None,
            round_trip: None,
            sndbuf: None,
            log: None,
            summaries: false,
            keep_records: true,
            idle_timeout: Duration::from_secs(30),
            send_timeout: Duration::from_secs(120),
        }
    }
}

/// Why the server could not start. Each message is one line that says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("port {port} is in use: pass --port 0 or another port")]
    InUse { port: u16 },
    #[error("port {port} is below 1024 and needs root: pass --port 0 or a port above 1023")]
    Privileged { port: u16 },
    #[error("cannot listen on {addr}: it is not an address of this machine")]
    NotLocal { addr: SocketAddr },
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: SocketAddr, reason: io::Error },
    #[error("--root {}: no such directory", path.display())]
    RootMissing { path: PathBuf },
    #[error("--root {} is not a directory", path.display())]
    RootNotDir { path: PathBuf },
    #[error("--root {}: {reason}", path.display())]
    Root { path: PathBuf, reason: io::Error },
    #[error("--sndbuf {asked}: {reason}")]
    SendBuffer { asked: usize, reason: io::Error },
    #[error("cannot create the send log {}: {reason}", path.display())]
    Log { path: PathBuf, reason: io::Error },
    #[error("the send log {} exists: remove it or choose another --log FILE", path.display())]
    LogExists { path: PathBuf },
    #[error("the send log is opened before the server starts")]
    LogAfterStart,
    #[error("the accept loop failed: {reason}")]
    Accept { reason: io::Error },
}

/// State shared by the accept loop, the connection threads and [`RunningServer`].
struct Shared {
    root: Option<PathBuf>,
    rate: Option<u64>,
    round_trip: Option<Duration>,
    sndbuf: Option<usize>,
    summaries: bool,
    keep_records: bool,
    idle_timeout: Duration,
    send_timeout: Duration,
    log: Option<LogFile>,
    events: Mutex<Vec<SendEvent>>,
    exchanges: Mutex<Vec<Exchange>>,
    closes: Mutex<Vec<ConnectionClose>>,
    /// Open connections, so that stopping can shut them down instead of waiting.
    live: Mutex<HashMap<u64, TcpStream>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    fn record_send(&self, event: SendEvent) {
        if let Some(log) = &self.log {
            log.write(&Record::Send(&event));
        }
        if self.keep_records {
            lock(&self.events).push(event);
        }
    }

    fn record_exchange(&self, exchange: Exchange) {
        if self.summaries {
            eprintln!("{}", log::summary(&exchange));
        }
        if let Some(log) = &self.log {
            log.write(&Record::Response(&exchange));
        }
        if self.keep_records {
            lock(&self.exchanges).push(exchange);
        }
    }

    fn record_close(&self, close: ConnectionClose) {
        if let Some(log) = &self.log {
            log.write(&Record::Close(&close));
        }
        if self.keep_records {
            lock(&self.closes).push(close);
        }
    }
}

/// A bound, not yet running server.
pub struct Server {
    listener: TcpListener,
    addr: SocketAddr,
    sndbuf_set: Option<usize>,
    shared: Arc<Shared>,
}

impl Server {
    /// Checks the configuration, opens the log and binds the listening socket. Nothing
    /// is served until [`Server::run`] or [`Server::spawn`].
    pub fn bind(cfg: ServerConfig) -> Result<Server, ServeError> {
        let root = cfg.root.as_deref().map(canonical_root).transpose()?;
        if root.is_none() {
            // Made now, so the first request's timing is not the encoder's.
            image::cover();
        }
        let sndbuf_set = cfg
            .sndbuf
            .map(|asked| {
                socket::probe_send_buffer(asked)
                    .map_err(|reason| ServeError::SendBuffer { asked, reason })
            })
            .transpose()?;
        let listener = TcpListener::bind(cfg.bind).map_err(|e| bind_error(cfg.bind, e))?;
        let addr = listener.local_addr().map_err(|e| bind_error(cfg.bind, e))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| bind_error(cfg.bind, e))?;
        if cfg.round_trip.is_some() {
            socket2::SockRef::from(&listener)
                .set_tcp_mss(body::PATH_MSS_OPTION)
                .map_err(|e| bind_error(cfg.bind, e))?;
        }
        let shared = Shared {
            root,
            rate: cfg.rate.filter(|&r| r > 0),
            round_trip: cfg.round_trip.filter(|rtt| !rtt.is_zero()),
            sndbuf: cfg.sndbuf,
            summaries: cfg.summaries,
            keep_records: cfg.keep_records,
            idle_timeout: cfg.idle_timeout,
            send_timeout: cfg.send_timeout,
            log: None,
            events: Mutex::default(),
            exchanges: Mutex::default(),
            closes: Mutex::default(),
            live: Mutex::default(),
        };
        let mut server = Server {
            listener,
            addr,
            sndbuf_set,
            shared: Arc::new(shared),
        };
        if let Some(path) = &cfg.log {
            server.open_log(path)?;
        }
        Ok(server)
    }

    /// Creates the send log at `path` and writes its `server` line: a new
    /// file, never one that exists and never through a link left at that
    /// name. `serve` calls it after dropping root, so the log is the
    /// invoking user's.
    pub(crate) fn open_log(&mut self, path: &Path) -> Result<(), ServeError> {
        let log = LogFile::create(path).map_err(|reason| match reason.kind() {
            io::ErrorKind::AlreadyExists => ServeError::LogExists {
                path: path.to_path_buf(),
            },
            _ => ServeError::Log {
                path: path.to_path_buf(),
                reason,
            },
        })?;
        let shared = Arc::get_mut(&mut self.shared).ok_or(ServeError::LogAfterStart)?;
        log.write(&Record::Server {
            version: env!("CARGO_PKG_VERSION"),
            url: &base_url(self.addr, "/"),
            root: shared.root.as_deref(),
            rate_bytes_per_s: shared.rate,
            sndbuf_asked: shared.sndbuf,
            sndbuf_set: self.sndbuf_set,
            clock: "CLOCK_REALTIME",
            ts_ns: now_ns(),
        });
        shared.log = Some(log);
        Ok(())
    }

    /// The SO_SNDBUF Linux sets on each connection for `--sndbuf` (double the request,
    /// within the system's limits); `None` without `--sndbuf`.
    pub(crate) fn send_buffer(&self) -> Option<usize> {
        self.sndbuf_set
    }

    /// The address the server listens on.
    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR:PORT` followed by `path`.
    pub(crate) fn url(&self, path: &str) -> String {
        base_url(self.addr, path)
    }

    /// The canonical `--root`, if files are served.
    pub(crate) fn root(&self) -> Option<&std::path::Path> {
        self.shared.root.as_deref()
    }

    /// Accepts and serves connections until `stop` is set (it is looked at every
    /// 100 ms), then shuts the open connections down and waits for their threads.
    pub(crate) fn run(self, stop: &AtomicBool) -> Result<(), ServeError> {
        let mut workers: Vec<JoinHandle<()>> = Vec::new();
        let mut next_conn = 0u64;
        let mut result = Ok(());
        while !stop.load(Ordering::SeqCst) {
            match socket::wait_readable(self.listener.as_fd(), STOP_POLL) {
                Ok(false) => continue,
                Ok(true) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(reason) => {
                    result = Err(ServeError::Accept { reason });
                    break;
                }
            }
            loop {
                match self.listener.accept() {
                    Ok((stream, peer)) => {
                        let conn = next_conn;
                        next_conn += 1;
                        if let Some(worker) = self.start_connection(conn, stream, peer) {
                            workers.push(worker);
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted
                        ) => {}
                    Err(e) => {
                        eprintln!("recvscope: accept failed, retrying: {e}");
                        std::thread::sleep(STOP_POLL);
                        break;
                    }
                }
            }
            workers.retain(|w| !w.is_finished());
        }
        for stream in lock(&self.shared.live).values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
        for worker in workers {
            let _ = worker.join();
        }
        result
    }

    /// Sets the connection's socket up and starts its thread.
    fn start_connection(
        &self,
        conn: u64,
        stream: TcpStream,
        peer: SocketAddr,
    ) -> Option<JoinHandle<()>> {
        let shared = Arc::clone(&self.shared);
        let local = self.addr;
        let registered = stream.try_clone().ok()?;
        lock(&shared.live).insert(conn, registered);
        let spawned = std::thread::Builder::new()
            .name(format!("serve-conn-{conn}"))
            .spawn({
                let shared = Arc::clone(&shared);
                move || {
                    if let Ok(sndbuf) = setup(&shared, &stream) {
                        let opened_ns = now_ns();
                        if let Some(log) = &shared.log {
                            log.write(&Record::Connection {
                                conn,
                                peer,
                                local: stream.local_addr().unwrap_or(local),
                                sndbuf,
                                ts_ns: opened_ns,
                            });
                        }
                        conn::serve(&shared, conn, &stream, peer);
                        // Last, so the figures cover all the connection sent and the
                        // client acknowledged (see `ConnectionClose`).
                        shared.record_close(ConnectionClose {
                            conn,
                            peer,
                            opened_ns,
                            ts_ns: now_ns(),
                            tcp_info: socket::sender_times(stream.as_fd()),
                        });
                    }
                    lock(&shared.live).remove(&conn);
                }
            });
        match spawned {
            Ok(handle) => Some(handle),
            Err(e) => {
                eprintln!("recvscope: cannot start a thread for {peer}: {e}");
                lock(&shared.live).remove(&conn);
                None
            }
        }
    }

    /// Runs the server on a thread of its own.
    pub fn spawn(self) -> RunningServer {
        let stop = Arc::new(AtomicBool::new(false));
        let addr = self.addr;
        let sndbuf_set = self.sndbuf_set;
        let shared = Arc::clone(&self.shared);
        let thread = std::thread::Builder::new()
            .name("serve-accept".into())
            .spawn({
                let stop = Arc::clone(&stop);
                move || self.run(&stop)
            });
        RunningServer {
            addr,
            sndbuf_set,
            stop,
            thread: Some(thread),
            shared,
        }
    }
}

/// Blocking mode, timeouts, no Nagle delay, and the send buffer asked for. Returns the
/// send buffer Linux set; an error ends the connection.
fn setup(shared: &Shared, stream: &TcpStream) -> io::Result<usize> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(shared.idle_timeout))?;
    stream.set_write_timeout(Some(shared.send_timeout))?;
    stream.set_nodelay(true)?;
    match shared.sndbuf {
        Some(bytes) => socket::set_send_buffer(stream.as_fd(), bytes),
        None => socket::send_buffer(stream.as_fd()),
    }
}

fn canonical_root(path: &std::path::Path) -> Result<PathBuf, ServeError> {
    let real = std::fs::canonicalize(path).map_err(|reason| match reason.kind() {
        io::ErrorKind::NotFound => ServeError::RootMissing {
            path: path.to_path_buf(),
        },
        io::ErrorKind::NotADirectory => ServeError::RootNotDir {
            path: path.to_path_buf(),
        },
        _ => ServeError::Root {
            path: path.to_path_buf(),
            reason,
        },
    })?;
    if real.is_dir() {
        Ok(real)
    } else {
        Err(ServeError::RootNotDir {
            path: path.to_path_buf(),
        })
    }
}

fn bind_error(addr: SocketAddr, e: io::Error) -> ServeError {
    match e.kind() {
        io::ErrorKind::AddrInUse => ServeError::InUse { port: addr.port() },
        io::ErrorKind::PermissionDenied if addr.port() < 1024 => {
            ServeError::Privileged { port: addr.port() }
        }
        io::ErrorKind::AddrNotAvailable => ServeError::NotLocal { addr },
        _ => ServeError::Bind { addr, reason: e },
    }
}

fn base_url(addr: SocketAddr, path: &str) -> String {
    format!("http://{addr}{path}")
}

/// A server running on its own thread. Dropping it stops it too.
pub struct RunningServer {
    addr: SocketAddr,
    sndbuf_set: Option<usize>,
    stop: Arc<AtomicBool>,
    thread: Option<io::Result<JoinHandle<Result<(), ServeError>>>>,
    shared: Arc<Shared>,
}

impl RunningServer {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR:PORT` followed by `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        base_url(self.addr, path)
    }

    /// The SO_SNDBUF Linux sets on each connection, when one was asked for.
    pub fn send_buffer(&self) -> Option<usize> {
        self.sndbuf_set
    }

    /// Every `write()` made so far, in the order they returned.
    pub fn send_events(&self) -> Vec<SendEvent> {
        lock(&self.shared.events).clone()
    }

    /// Every request answered so far, with its totals, in the order they finished.
    pub fn exchanges(&self) -> Vec<Exchange> {
        lock(&self.shared.exchanges).clone()
    }

    /// Every connection closed so far, with its kernel's figures, in the order they closed.
    pub fn closes(&self) -> Vec<ConnectionClose> {
        lock(&self.shared.closes).clone()
    }

    /// Stops accepting, shuts down open connections and waits for every thread.
    pub fn stop(mut self) -> Result<(), ServeError> {
        self.halt()
    }

    /// Stops as [`RunningServer::stop`] does, then returns every connection's close:
    /// once stopped, every connection has closed and recorded its own.
    pub fn finish(mut self) -> Result<Vec<ConnectionClose>, ServeError> {
        self.halt()?;
        Ok(self.closes())
    }

    fn halt(&mut self) -> Result<(), ServeError> {
        self.stop.store(true, Ordering::SeqCst);
        match self.thread.take() {
            Some(Ok(handle)) => handle.join().unwrap_or(Ok(())),
            Some(Err(reason)) => Err(ServeError::Accept { reason }),
            None => Ok(()),
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.halt();
    }
}
