//! One connection: read requests, answer them in order, log every write.
//!
//! Runs on its own thread with a blocking socket. Writes go straight to `write()`
//! (`writev()` for a chunk and its framing), one call per piece, and each call's return
//! is recorded, so a partial write or a blocked call shows in the send log.

use std::fs::File;
use std::io::{self, IoSlice, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::Shared;
use super::body::{CHUNK_END, LAST_CHUNK, Rounds, chunk_header, pace_delay, pattern, piece_size};
use super::image::{LAST_MODIFIED_US, cover, cover_etag};
use super::log::{Exchange, Part, SendEvent};
use super::path::resolve;
use super::request::{HeadSpan, MAX_HEAD, Method, Rejection, Request, Version, find_head, parse};
use super::response::{Framing, Head, Resource, Validators, content_type, framing, reason, route};
use crate::clock::now_ns;

/// What a response carries.
enum Body {
    Static(&'static [u8]),
    Text(String),
    Pattern(u64),
    File(File, u64),
}

impl Body {
    fn len(&self) -> u64 {
        match self {
            Body::Static(b) => b.len() as u64,
            Body::Text(t) => t.len() as u64,
            Body::Pattern(n) | Body::File(_, n) => *n,
        }
    }
}

/// A response decided but not yet sent.
struct Reply {
    status: u16,
    content_type: &'static str,
    body: Body,
    chunked: bool,
    validators: Option<Validators>,
}

impl Reply {
    fn error(status: u16, why: &str) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body: Body::Text(format!("{status} {}: {why}\n", reason(status))),
            chunked: false,
            validators: None,
        }
    }
}

/// Serves `stream` until the client closes, a response closes the connection, the
/// connection idles past the timeout, or the server stops.
pub(super) fn serve(shared: &Shared, conn: u64, stream: &TcpStream, peer: SocketAddr) {
    let mut buf: Vec<u8> = Vec::with_capacity(8 * 1024);
    let mut request = 0u64;
    loop {
        let parsed = match next_head(stream, &mut buf) {
            None => return,
            Some(Ok(span)) => {
                let parsed = parse(&buf[span.start..span.end]);
                buf.drain(..span.end);
                parsed
            }
            Some(Err(too_large)) => Err(too_large),
        };
        let x = Exchanger::new(shared, stream, conn, request, peer);
        let keep = match parsed {
            Ok(req) => {
                if !skip_body(stream, &mut buf, req.body_length) {
                    return;
                }
                let reply = decide(shared, &req);
                x.send(req.version, req.method, &req.line, reply, req.keep_alive)
            }
            Err(rej) => {
                let reply = Reply::error(rej.status, rej.why);
                x.send(rej.version, Method::Get, &rej.line, reply, false)
            }
        };
        match keep {
            Ok(true) => request += 1,
            Ok(false) => {
                linger_close(stream, shared.idle_timeout);
                return;
            }
            Err(_) => return,
        }
    }
}

/// Reads until `buf` holds a complete request head. `None` when the connection ends
/// first; a 431 rejection when the head outgrows [`MAX_HEAD`].
fn next_head(stream: &TcpStream, buf: &mut Vec<u8>) -> Option<Result<HeadSpan, Rejection>> {
    loop {
        let span = find_head(buf);
        let size = span.map_or(buf.len(), |s| s.end - s.start);
        if size > MAX_HEAD {
            let end = buf
                .iter()
                .position(|&b| b == b'\n')
                .unwrap_or(buf.len())
                .min(200);
            return Some(Err(Rejection {
                status: 431,
                version: Version::Http10,
                why: "request head larger than 64 KiB",
                line: String::from_utf8_lossy(&buf[..end]).trim_end().to_string(),
            }));
        }
        if let Some(span) = span {
            return Some(Ok(span));
        }
        if !read_more(stream, buf) {
            return None;
        }
    }
}

/// Reads what is available into `buf`. False when the connection is over: closed,
/// reset, idle past the timeout, or shut down by `stop`.
fn read_more(mut stream: &TcpStream, buf: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 8 * 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return false,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return true;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// Discards a request body of `len` bytes, part of which may already be in `buf`.
fn skip_body(stream: &TcpStream, buf: &mut Vec<u8>, mut len: u64) -> bool {
    loop {
        let have = buf.len().min(usize::try_from(len).unwrap_or(usize::MAX));
        buf.drain(..have);
        len -= have as u64;
        if len == 0 {
            return true;
        }
        if !read_more(stream, buf) {
            return false;
        }
    }
}

/// Sends FIN, then reads and drops whatever the client still sends until it closes or
/// `linger` (the idle timeout) passes, so the close is a clean FIN rather than a reset
/// that destroys the response, and the socket is still open, its kernel's figures
/// readable, until a slow reader has taken the whole response.
fn linger_close(mut stream: &TcpStream, linger: Duration) {
    if stream.shutdown(std::net::Shutdown::Write).is_err() {
        return;
    }
    let deadline = Instant::now() + linger;
    let mut sink = [0u8; 4096];
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match stream.read(&mut sink) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// What to answer a well-formed request with.
fn decide(shared: &Shared, req: &Request) -> Reply {
    let resource = match route(&req.path, shared.root.is_some()) {
        Ok(r) => r,
        Err((status, why)) => return Reply::error(status, why),
    };
    let ok = |content_type, body, chunked| Reply {
        status: 200,
        content_type,
        body,
        chunked,
        validators: None,
    };
    match resource {
        Resource::Cover => Reply {
            validators: Some(Validators {
                last_modified: LAST_MODIFIED_US / 1_000_000,
                etag: cover_etag(),
            }),
            ..ok("image/jpeg", Body::Static(cover()), false)
        },
        Resource::Bytes(n) => ok("application/octet-stream", Body::Pattern(n), false),
        Resource::Chunked(n) => ok("application/octet-stream", Body::Pattern(n), true),
        Resource::File(url_path) => {
            let Some(root) = &shared.root else {
                return Reply::error(404, "no such resource");
            };
            let path = match resolve(root, &url_path) {
                Ok(p) => p,
                Err(refusal) => {
                    return Reply::error(refusal.status(), "not served from this root");
                }
            };
            match File::open(&path).and_then(|f| Ok((f.metadata()?.len(), f))) {
                Ok((len, file)) => ok(content_type(&path), Body::File(file, len), false),
                Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                    Reply::error(403, "not readable")
                }
                Err(_) => Reply::error(500, "cannot read the file"),
            }
        }
    }
}

/// Sends one response on a connection and records it.
struct Exchanger<'a> {
    shared: &'a Shared,
    stream: &'a TcpStream,
    conn: u64,
    request: u64,
    peer: SocketAddr,
    sends: u64,
    blocked_ns: u64,
}

impl<'a> Exchanger<'a> {
    fn new(
        shared: &'a Shared,
        stream: &'a TcpStream,
        conn: u64,
        request: u64,
        peer: SocketAddr,
    ) -> Self {
        Exchanger {
            shared,
            stream,
            conn,
            request,
            peer,
            sends: 0,
            blocked_ns: 0,
        }
    }

    /// Writes head and body. `Ok(true)` when the connection can take another request.
    fn send(
        mut self,
        version: Version,
        method: Method,
        request_line: &str,
        reply: Reply,
        keep_alive: bool,
    ) -> io::Result<bool> {
        let start_ns = now_ns();
        let framing = framing(version, reply.chunked, reply.body.len());
        let head = Head {
            version,
            status: reply.status,
            content_type: reply.content_type,
            framing,
            keep_alive,
            date: u64::try_from(start_ns / 1_000_000_000).unwrap_or(0),
            validators: reply.validators,
        }
        .render();
        let mut body_bytes = 0;
        let mut rounds = self.shared.round_trip.map(Rounds::new);
        if let Some(r) = &mut rounds {
            r.wrote(head.len() as u64);
        }
        let body_follows = method == Method::Get && reply.body.len() > 0;
        let result = self
            .write_piece(Part::Head, &[head.as_bytes()], body_follows)
            .map_err(|(_, e)| e)
            .and_then(|()| match method {
                Method::Head => Ok(()),
                Method::Get => self.write_body(reply.body, framing, &mut body_bytes, rounds),
            });
        let exchange = Exchange {
            conn: self.conn,
            request: self.request,
            peer: self.peer,
            request_line: request_line.to_string(),
            status: reply.status,
            content_length: match framing {
                Framing::Length(n) => Some(n),
                Framing::Chunked | Framing::Close => None,
            },
            body_bytes,
            complete: result.is_ok(),
            sends: self.sends,
            blocked_ns: self.blocked_ns,
            start_ns,
            end_ns: now_ns(),
        };
        self.shared.record_exchange(exchange);
        result.map(|()| keep_alive && framing != Framing::Close)
    }

    /// Writes the body in pieces, paced when `--rate` or `--rtt` is set; counts body bytes
    /// (framing excluded) into `done` as they are accepted.
    fn write_body(
        &mut self,
        mut body: Body,
        framing: Framing,
        done: &mut u64,
        mut rounds: Option<Rounds>,
    ) -> io::Result<()> {
        let len = body.len();
        let piece = piece_size(self.shared.rate);
        let started = Instant::now();
        let mut file_buf = match body {
            Body::File(..) => vec![0u8; piece],
            _ => Vec::new(),
        };
        while *done < len {
            if let Some(rate) = self.shared.rate {
                std::thread::sleep(pace_delay(rate, *done, started.elapsed()));
            }
            let mut want = usize::try_from(len - *done)
                .unwrap_or(usize::MAX)
                .min(piece);
            if let Some(r) = &mut rounds {
                let (wait, most) = r.next(Instant::now());
                std::thread::sleep(wait);
                want = want.min(usize::try_from(most).unwrap_or(usize::MAX));
            }
            let at = usize::try_from(*done).unwrap_or(usize::MAX);
            let data: &[u8] = match &mut body {
                Body::Static(b) => &b[at..at + want],
                Body::Text(t) => &t.as_bytes()[at..at + want],
                Body::Pattern(_) => pattern(*done, want),
                Body::File(f, _) => {
                    let n = read_some(f, &mut file_buf[..want])?;
                    if n == 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "file shrank while being served",
                        ));
                    }
                    &file_buf[..n]
                }
            };
            let result = if framing == Framing::Chunked {
                let header = chunk_header(data.len());
                self.write_piece(Part::Body, &[header.as_bytes(), data, CHUNK_END], false)
                    .map_err(|(written, e)| (written.saturating_sub(header.len()), e))
            } else {
                self.write_piece(Part::Body, &[data], false)
            };
            if let Some(r) = &mut rounds {
                r.wrote(data.len() as u64);
            }
            match result {
                Ok(()) => *done += data.len() as u64,
                Err((written, e)) => {
                    *done += written.min(data.len()) as u64;
                    return Err(e);
                }
            }
        }
        if framing == Framing::Chunked {
            self.write_piece(Part::Body, &[LAST_CHUNK], false)
                .map_err(|(_, e)| e)?;
        }
        Ok(())
    }

    /// Writes all of `bufs`, one `write()`/`writev()` per call, recording every call.
    /// `more`: more data follows at once, so the kernel may hold these bytes to send
    /// them with it (MSG_MORE), as a web server sends a head in the body's first segment.
    /// On failure, says how many bytes had been accepted.
    fn write_piece(
        &mut self,
        part: Part,
        bufs: &[&[u8]],
        more: bool,
    ) -> Result<(), (usize, io::Error)> {
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        let mut written = 0;
        while written < total {
            let mut skip = written;
            let slices: Vec<IoSlice<'_>> = bufs
                .iter()
                .filter_map(|b| {
                    let s = &b[skip.min(b.len())..];
                    skip = skip.saturating_sub(b.len());
                    (!s.is_empty()).then(|| IoSlice::new(s))
                })
                .collect();
            let ts_ns = now_ns();
            let t0 = Instant::now();
            let result = match slices.as_slice() {
                [one] if more => {
                    socket2::SockRef::from(self.stream).send_with_flags(one, libc::MSG_MORE)
                }
                [one] => (&*self.stream).write(one),
                _ => (&*self.stream).write_vectored(&slices),
            };
            let blocked_ns = u64::try_from(t0.elapsed().as_nanos()).unwrap_or(u64::MAX);
            let (n, error) = match &result {
                Ok(n) => (*n, None),
                Err(e) => (0, Some(describe(e))),
            };
            if part == Part::Body {
                self.sends += 1;
                self.blocked_ns += blocked_ns;
            }
            self.shared.record_send(SendEvent {
                conn: self.conn,
                request: self.request,
                part,
                ts_ns,
                asked: (total - written) as u64,
                written: n as u64,
                blocked_ns,
                error,
            });
            match result {
                Ok(0) => return Err((written, io::ErrorKind::WriteZero.into())),
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err((written, e)),
            }
        }
        Ok(())
    }
}

fn read_some(f: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match f.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

fn describe(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => "send timed out".to_string(),
        _ => e.to_string(),
    }
}
