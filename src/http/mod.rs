//! HTTP/1.x conversation parser over the two reassembled byte streams of
//! one TCP connection.
//!
//! Pure and incremental: the caller pushes in-order chunks ([`Conversation::data`]),
//! notices of missing bytes ([`Conversation::gap`]) and closes
//! ([`Conversation::close`]) for each [`Side`]; bodies stream out to a
//! [`BodySink`] and [`Conversation::finish`] returns the transactions.
//! Message framing follows RFC 9112 §6.3. Memory is bounded by [`Limits`]
//! (plus the records themselves): bodies are never buffered, and work is
//! linear in the input.
//!
//! The two sides are expected to be fed interleaved in capture (timestamp)
//! order, since responses pair with the requests seen before them.
//!
//! Resynchronisation: at the start of the capture, after a gap between
//! messages or inside a head or chunk framing, and after unparseable data,
//! a side skips whole chunks until one begins with a valid start line
//! (`HTTP/1.d ddd` from the server, `METHOD target HTTP/1.d` from the
//! client; a start line may continue into the following chunks). Skipped
//! bytes are counted in one warning per episode.

use std::collections::VecDeque;

use serde::Serialize;

mod head;
#[cfg(test)]
mod tests;

use head::Head;

/// A direction of the connection: bytes sent by the client, or by the server.
pub use crate::wire::Side;

/// Resource bounds of one [`Conversation`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest message head (start line, fields and blank line) that is
    /// buffered; a larger one is abandoned with a warning. Also bounds the
    /// trailer section of a chunked body. Default 64 KiB.
    pub max_header_bytes: usize,
    /// Most requests awaiting a response (pipelining); beyond it the oldest
    /// stops waiting, with a warning, and keeps `response: None`. Default 1024.
    pub max_pending_requests: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_header_bytes: 64 * 1024,
            max_pending_requests: 1024,
        }
    }
}

/// Receives message bodies as they are decoded (de-chunked), for
/// extraction to files by the caller.
pub trait BodySink {
    /// The next decoded body bytes of the message on `side` of transaction
    /// `txn` ([`Transaction::index`]). Missing bytes (gaps) are skipped,
    /// never filled in.
    fn body(&mut self, txn: usize, side: Side, bytes: &[u8]);
    /// The message on `side` of transaction `txn` is over. Called exactly
    /// once per recorded message (also when the body is empty); `complete`
    /// is false when bytes were missing or the message was cut short.
    fn end(&mut self, txn: usize, side: Side, complete: bool);
}

/// A sink that discards bodies (for callers that only want the metadata).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoBodies;

impl BodySink for NoBodies {
    fn body(&mut self, _txn: usize, _side: Side, _bytes: &[u8]) {}
    fn end(&mut self, _txn: usize, _side: Side, _complete: bool) {}
}

/// A request as seen on the wire.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Method token, e.g. `GET`.
    pub method: String,
    /// Request-target as sent: `/a.jpg`, `http://host/a.jpg`, `host:443`, `*`.
    pub uri: String,
    /// Version as sent, e.g. `HTTP/1.0`.
    pub version: String,
    /// Target host: authority of an absolute-form or CONNECT target, else the Host field.
    pub host: Option<String>,
    /// Bytes of the head before the blank line (offset of the first
    /// `\r\n\r\n` / `\n\n`); for a head that was cut short, the bytes seen.
    pub header_length: u64,
    /// Bytes ending the head: 4 for `\r\n\r\n`, 2 for `\n\n`, 3 for the
    /// mixtures `\r\n\n` / `\n\r\n`, 0 when the head was cut short.
    pub header_terminator: u8,
    /// The Content-Length field, when present and valid.
    pub content_length: Option<u64>,
    /// Whether Transfer-Encoding ends in `chunked`.
    pub chunked: bool,
    /// Decoded body length, including `missing_bytes`.
    pub body_bytes: u64,
    /// Body bytes lost in capture gaps (never passed to the sink).
    pub missing_bytes: u64,
    /// Bytes of the whole message on the wire: head, framing and body.
    pub wire_bytes: u64,
    /// Head and body fully seen, nothing missing.
    pub complete: bool,
    /// Timestamp of the chunk holding the first byte.
    pub ts_start_ns: i64,
    /// Timestamp of the chunk holding the last byte seen.
    pub ts_end_ns: i64,
    /// `Expect: 100-continue` was sent.
    pub expect_continue: bool,
    /// The client asks to keep the connection open (RFC 9112 §9.3).
    pub keep_alive: bool,
}

/// A final (non-1xx, or 101) response as seen on the wire.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Version as sent, e.g. `HTTP/1.1`.
    pub version: String,
    /// Status code; 0 when the status line was unreadable.
    pub status: u16,
    /// Reason phrase (may be empty).
    pub reason: String,
    /// As [`Request::header_length`].
    pub header_length: u64,
    /// As [`Request::header_terminator`].
    pub header_terminator: u8,
    /// The Content-Length field, when present and valid.
    pub content_length: Option<u64>,
    /// The Content-Type field.
    pub content_type: Option<String>,
    /// The Content-Encoding field.
    pub content_encoding: Option<String>,
    /// Whether Transfer-Encoding ends in `chunked`.
    pub chunked: bool,
    /// The body was framed by the server closing the connection.
    pub close_delimited: bool,
    /// Decoded (de-chunked) body length, including `missing_bytes`.
    pub body_bytes: u64,
    /// Body bytes lost in capture gaps (never passed to the sink).
    pub missing_bytes: u64,
    /// Bytes of the whole response on the wire: head, framing and body
    /// (interim 1xx responses not included).
    pub wire_bytes: u64,
    /// Head and body fully seen, nothing missing; a close-delimited body
    /// is complete only when the server's close was seen.
    pub complete: bool,
    /// Timestamp of the chunk holding the first byte.
    pub ts_first_byte_ns: i64,
    /// Timestamp of the chunk holding the last byte seen.
    pub ts_last_byte_ns: i64,
    /// The server means to keep the connection open (RFC 9112 §9.3).
    pub keep_alive: bool,
    /// Statuses of the 1xx responses seen before this one, e.g. `[100]`.
    pub interim: Vec<u16>,
}

/// A request and the response paired with it (FIFO order).
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// 0-based within the connection; the `txn` given to [`BodySink`].
    pub index: usize,
    /// `None` when the capture starts inside or after the request.
    pub request: Option<Request>,
    /// `None` when no response was seen.
    pub response: Option<Response>,
}

/// Everything parsed from one connection.
#[derive(Serialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpSummary {
    /// Transactions in order of creation (request head seen, or orphan response head seen).
    pub transactions: Vec<Transaction>,
    /// Human-readable notes on anomalies (skipped bytes, gaps, bad framing),
    /// each prefixed with the side; capped, with a final count of those dropped.
    pub warnings: Vec<String>,
}

const MAX_METHOD_LEN: usize = 24;
const MAX_WARNINGS: usize = 256;
const MAX_INTERIM: usize = 16;
const MAX_CHUNK_LINE: usize = 4096;
const KEEP_BUF_CAPACITY: usize = 8 * 1024;

/// Why a side is resynchronising (quoted in the skipped-bytes warning).
const MID_STREAM: &str = "capture started inside a message";
const NOT_A_START: &str = "data that is not an HTTP message start";
const AFTER_GAP: &str = "after a capture gap";
const AFTER_BROKEN: &str = "after an unparseable message";

/// Does the input so far begin like a message of a side?
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    No,
    Maybe,
    Yes,
}

/// Incremental validation of a start line, one byte at a time: the
/// server's must begin `HTTP/1.d ddd` (then SP, CR or LF); the client's
/// must be a whole `METHOD SP target SP HTTP/1.d` line with an upper-case
/// method token (the target being everything up to the last space). Only a
/// head whose start line passed counts as a message, which keeps text such
/// as `HTTP/1.1 is...` at a segment start from being taken for one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Start {
    /// Server: status-line bytes matched so far.
    Status(u8),
    /// Client: method bytes so far.
    Method(u8),
    /// Client: inside the request-target (whether it has a byte yet).
    Target(bool),
    /// Client: version bytes matched so far.
    Version(u8),
    /// Client: CR after the version.
    Cr,
}

const VERSION_PREFIX: &[u8] = b"HTTP/1.";

impl Start {
    fn new(side: Side) -> Self {
        match side {
            Side::Client => Start::Method(0),
            Side::Server => Start::Status(0),
        }
    }

    fn feed(&mut self, b: u8) -> Check {
        let next = match *self {
            Start::Status(n) => {
                let ok = match n {
                    0..=6 => VERSION_PREFIX.get(usize::from(n)) == Some(&b),
                    7 | 9..=11 => b.is_ascii_digit(),
                    8 => b == b' ',
                    _ => {
                        return if matches!(b, b' ' | b'\r' | b'\n') {
                            Check::Yes
                        } else {
                            Check::No
                        };
                    }
                };
                ok.then_some(Start::Status(n + 1))
            }
            Start::Method(n) => {
                if b == b' ' && n > 0 {
                    Some(Start::Target(false))
                } else if (b.is_ascii_uppercase() || b == b'-' || b == b'_')
                    && usize::from(n) < MAX_METHOD_LEN
                {
                    Some(Start::Method(n + 1))
                } else {
                    None
                }
            }
            Start::Target(any) => {
                if b == b' ' && any {
                    Some(Start::Version(0))
                } else if b > b' ' && b != 0x7f {
                    Some(Start::Target(true))
                } else {
                    None
                }
            }
            Start::Version(n) => {
                let matched = match n {
                    0..=6 => (VERSION_PREFIX.get(usize::from(n)) == Some(&b))
                        .then_some(Start::Version(n + 1)),
                    7 => b.is_ascii_digit().then_some(Start::Version(8)),
                    _ => match b {
                        b'\r' => Some(Start::Cr),
                        b'\n' => return Check::Yes,
                        _ => None,
                    },
                };
                // Not the version after all: the space was inside the
                // target (lenient to unescaped spaces in request-targets).
                matched.or(match b {
                    b' ' => Some(Start::Version(0)),
                    _ if b > b' ' && b != 0x7f => Some(Start::Target(true)),
                    _ => None,
                })
            }
            Start::Cr => return if b == b'\n' { Check::Yes } else { Check::No },
        };
        match next {
            Some(s) => {
                *self = s;
                Check::Maybe
            }
            None => Check::No,
        }
    }
}

/// Whether `bytes` (a chunk's start) begin like a message of `side`.
fn looks_like_start(side: Side, bytes: &[u8]) -> Check {
    let mut start = Start::new(side);
    for &b in bytes {
        match start.feed(b) {
            Check::Maybe => {}
            done => return done,
        }
    }
    Check::Maybe
}

/// Incremental search for the end of a head, one byte at a time.
#[derive(Clone, Copy, Debug)]
struct Scan {
    /// Progress of start-line validation.
    start: Start,
    /// The start line is complete and valid (see [`Start`]).
    confirmed: bool,
    /// 0: inside a line; 1: just after `\n`; 2: after `\n\r`.
    eol: u8,
    /// Offset where the last line ending (`\r\n` or `\n`) began.
    eol_start: usize,
    ts_start: i64,
    ts_last: i64,
}

#[derive(Clone, Copy, Debug)]
enum Chunk {
    Size {
        value: u64,
        digits: u32,
        after: bool,
        ext: bool,
        cr: bool,
        line: usize,
    },
    Data(u64),
    DataEnd {
        cr: bool,
    },
    Trailer {
        line: usize,
        total: usize,
    },
}

impl Chunk {
    fn size() -> Self {
        Chunk::Size {
            value: 0,
            digits: 0,
            after: false,
            ext: false,
            cr: false,
            line: 0,
        }
    }
}

enum ChunkEv {
    More,
    Done,
    Err(&'static str),
}

fn hex_val(b: u8) -> Option<u64> {
    (b as char).to_digit(16).map(u64::from)
}

/// Advances the chunked framing (everything but chunk data) by one byte.
fn chunk_byte(c: &mut Chunk, b: u8, max_trailer: usize) -> ChunkEv {
    match c {
        Chunk::Size {
            value,
            digits,
            after,
            ext,
            cr,
            line,
        } => {
            *line += 1;
            if *line > MAX_CHUNK_LINE {
                return ChunkEv::Err("chunk-size line too long");
            }
            if *cr && b != b'\n' {
                return ChunkEv::Err("stray CR in chunk-size line");
            }
            match b {
                b'\n' => {
                    if *digits == 0 {
                        return ChunkEv::Err("missing chunk size");
                    }
                    let v = *value;
                    *c = if v == 0 {
                        Chunk::Trailer { line: 0, total: 0 }
                    } else {
                        Chunk::Data(v)
                    };
                }
                b'\r' => *cr = true,
                _ if *ext => {}
                b';' if *digits > 0 => *ext = true,
                b' ' | b'\t' => *after |= *digits > 0,
                _ => match hex_val(b) {
                    Some(d) if !*after => {
                        match value.checked_mul(16).and_then(|v| v.checked_add(d)) {
                            Some(v) => *value = v,
                            None => return ChunkEv::Err("chunk size overflows u64"),
                        }
                        *digits = digits.saturating_add(1);
                    }
                    _ => return ChunkEv::Err("invalid chunk size"),
                },
            }
            ChunkEv::More
        }
        Chunk::Data(_) => ChunkEv::More,
        Chunk::DataEnd { cr } => match b {
            b'\r' if !*cr => {
                *cr = true;
                ChunkEv::More
            }
            b'\n' => {
                *c = Chunk::size();
                ChunkEv::More
            }
            _ => ChunkEv::Err("missing CRLF after chunk data"),
        },
        Chunk::Trailer { line, total } => match b {
            b'\n' if *line == 0 => ChunkEv::Done,
            b'\n' => {
                *line = 0;
                ChunkEv::More
            }
            b'\r' => ChunkEv::More,
            _ => {
                *line += 1;
                *total += 1;
                if *total > max_trailer {
                    ChunkEv::Err("trailer section too large")
                } else {
                    ChunkEv::More
                }
            }
        },
    }
}

#[derive(Clone, Copy, Debug)]
enum Body {
    Length(u64),
    Close,
    Chunked(Chunk),
}

#[derive(Debug)]
enum State {
    /// Skipping until a chunk starts like a message.
    Sync,
    /// Between messages: the next byte should start one.
    Idle,
    /// Buffering a head.
    Header(Scan),
    /// Streaming a body.
    Body(Body),
    /// After 101 or a 2xx to CONNECT: not HTTP any more.
    Tunnel,
}

/// Progress of the message whose body is being read.
#[derive(Clone, Copy, Debug)]
struct Msg {
    txn: usize,
    body_bytes: u64,
    wire_bytes: u64,
    missing: u64,
    ts_last: i64,
}

impl Msg {
    fn add(&mut self, body: u64, wire: u64) {
        self.body_bytes = self.body_bytes.saturating_add(body);
        self.wire_bytes = self.wire_bytes.saturating_add(wire);
    }
}

/// Where a head ended, for the record.
#[derive(Clone, Copy, Debug)]
struct HeadPos {
    header_length: u64,
    terminator: u8,
    wire: u64,
    ts_start: i64,
    ts_end: i64,
}

#[derive(Clone, Copy, Debug)]
struct Pending {
    txn: usize,
    head: bool,
    connect: bool,
}

/// State shared by both sides: records, pairing queue, warnings.
#[derive(Debug)]
struct Core {
    limits: Limits,
    txns: Vec<Transaction>,
    pending: VecDeque<Pending>,
    interim: Vec<u16>,
    warnings: Vec<String>,
    suppressed: u64,
    tunnel: bool,
}

impl Core {
    fn warn(&mut self, msg: String) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(msg);
        } else {
            self.suppressed = self.suppressed.saturating_add(1);
        }
    }

    fn new_txn(&mut self, request: Option<Request>, response: Option<Response>) -> usize {
        let index = self.txns.len();
        self.txns.push(Transaction {
            index,
            request,
            response,
        });
        index
    }

    fn push_pending(&mut self, p: Pending) {
        while self.pending.len() >= self.limits.max_pending_requests.max(1) {
            if let Some(old) = self.pending.pop_front() {
                self.warn(format!(
                    "client: more than {} requests awaiting a response; transaction {} will not be paired",
                    self.limits.max_pending_requests, old.txn
                ));
            }
        }
        self.pending.push_back(p);
    }
}

/// One direction's parser.
#[derive(Debug)]
struct Dir {
    side: Side,
    state: State,
    /// The head being buffered (never more than `max_header_bytes`).
    buf: Vec<u8>,
    /// The message being read, from its head's end to its end.
    msg: Option<Msg>,
    /// Bytes skipped in the current resynchronisation.
    skipped: u64,
    /// Set while resynchronising: why.
    sync_reason: Option<&'static str>,
    tunnel_bytes: u64,
}

/// How `Dir::stop` was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    Close,
    Finish,
    Tunnel,
}

/// `min(rem, avail)` without overflow.
fn take_len(rem: u64, avail: usize) -> usize {
    usize::try_from(rem).map_or(avail, |r| r.min(avail))
}

impl Dir {
    fn new(side: Side) -> Self {
        Dir {
            side,
            state: State::Sync,
            buf: Vec::new(),
            msg: None,
            skipped: 0,
            sync_reason: Some(MID_STREAM),
            tunnel_bytes: 0,
        }
    }

    fn enter_sync(&mut self, reason: &'static str) {
        self.state = State::Sync;
        self.sync_reason.get_or_insert(reason);
        self.reset_buf();
    }

    fn skip(&mut self, n: usize) {
        self.skipped = self.skipped.saturating_add(n as u64);
    }

    /// Ends a resynchronisation, reporting what it skipped.
    fn end_sync(&mut self, core: &mut Core) {
        if let Some(reason) = self.sync_reason.take()
            && self.skipped > 0
        {
            core.warn(format!(
                "{}: skipped {} bytes ({reason})",
                self.side, self.skipped
            ));
        }
        self.skipped = 0;
    }

    fn reset_buf(&mut self) {
        self.buf.clear();
        if self.buf.capacity() > KEEP_BUF_CAPACITY {
            self.buf.shrink_to(KEEP_BUF_CAPACITY);
        }
    }

    fn begin_header(&mut self, ts: i64) {
        self.reset_buf();
        self.state = State::Header(Scan {
            start: Start::new(self.side),
            confirmed: false,
            eol: 0,
            eol_start: 0,
            ts_start: ts,
            ts_last: ts,
        });
    }

    fn data(&mut self, core: &mut Core, ts: i64, bytes: &[u8], sink: &mut dyn BodySink) {
        let mut off = 0;
        let mut stalls = 0u8;
        while let Some(rest) = bytes.get(off..).filter(|r| !r.is_empty()) {
            let n = self.step(core, ts, rest, off == 0, sink).min(rest.len());
            if n == 0 {
                // Only state changes that are followed by consuming steps
                // return 0; this guard is a backstop against looping.
                stalls += 1;
                if stalls > 4 {
                    core.warn(format!("{}: parser stalled; skipping", self.side));
                    self.stop(core, sink, Stop::Finish);
                    self.enter_sync(NOT_A_START);
                    self.skip(rest.len());
                    break;
                }
            } else {
                stalls = 0;
            }
            off += n;
        }
    }

    /// Consumes a prefix of `rest` (or only changes state, returning 0).
    fn step(
        &mut self,
        core: &mut Core,
        ts: i64,
        rest: &[u8],
        chunk_start: bool,
        sink: &mut dyn BodySink,
    ) -> usize {
        match self.state {
            State::Tunnel => {
                self.tunnel_bytes = self.tunnel_bytes.saturating_add(rest.len() as u64);
                rest.len()
            }
            State::Sync => {
                if chunk_start && looks_like_start(self.side, rest) != Check::No {
                    self.begin_header(ts);
                    0
                } else {
                    self.skip(rest.len());
                    rest.len()
                }
            }
            State::Idle => {
                // Tolerate empty lines between messages (RFC 9112 §2.2).
                let n = rest
                    .iter()
                    .take_while(|&&b| b == b'\r' || b == b'\n')
                    .count();
                if n == 0 {
                    self.begin_header(ts);
                }
                n
            }
            State::Header(_) => self.header_step(core, ts, rest, chunk_start, sink),
            State::Body(_) => self.body_step(core, ts, rest, sink),
        }
    }

    fn header_step(
        &mut self,
        core: &mut Core,
        ts: i64,
        rest: &[u8],
        chunk_start: bool,
        sink: &mut dyn BodySink,
    ) -> usize {
        let State::Header(mut scan) = self.state else {
            return 0;
        };
        scan.ts_last = ts;
        let entry = self.buf.len();
        let max = core.limits.max_header_bytes;
        let mut i = 0;
        while i < rest.len() {
            if self.buf.len() >= max {
                self.state = State::Header(scan);
                if !scan.confirmed {
                    core.warn(format!(
                        "{}: start line exceeds the {max}-byte head limit",
                        self.side
                    ));
                }
                let why = format!("message head exceeds {max} bytes");
                self.abandon_head(core, sink, &why);
                self.skip(rest.len() - i);
                return rest.len();
            }
            let b = if scan.confirmed {
                // Field lines: copy up to the next line feed at once.
                let avail = &rest[i..rest.len().min(i + max - self.buf.len())];
                let line = memchr::memchr(b'\n', avail);
                let text = &avail[..line.unwrap_or(avail.len())];
                self.buf.extend_from_slice(text);
                if !text.is_empty() {
                    scan.eol = if scan.eol == 1 && text == b"\r" { 2 } else { 0 };
                }
                i += text.len();
                if line.is_none() {
                    continue;
                }
                self.buf.push(b'\n');
                b'\n'
            } else {
                let b = rest[i];
                self.buf.push(b);
                match scan.start.feed(b) {
                    Check::Maybe => {}
                    Check::Yes => {
                        scan.confirmed = true;
                        self.end_sync(core);
                    }
                    Check::No => {
                        if chunk_start && entry > 0 {
                            // The bytes held from earlier chunks were a false
                            // start; this chunk's own start may be a real one.
                            self.enter_sync(NOT_A_START);
                            self.skip(entry);
                            return 0;
                        }
                        let n = self.buf.len() + (rest.len() - i - 1);
                        self.enter_sync(NOT_A_START);
                        self.skip(n);
                        return rest.len();
                    }
                }
                b
            };
            match b {
                b'\n' if scan.eol != 0 => {
                    let total = self.buf.len();
                    let pos = HeadPos {
                        header_length: scan.eol_start as u64,
                        terminator: u8::try_from(total - scan.eol_start).unwrap_or(u8::MAX),
                        wire: total as u64,
                        ts_start: scan.ts_start,
                        ts_end: ts,
                    };
                    let buf = std::mem::take(&mut self.buf);
                    self.record_head(core, sink, &Head::parse(&buf, true), pos, None);
                    self.buf = buf;
                    self.reset_buf();
                    return i + 1;
                }
                b'\n' => {
                    let p = self.buf.len() - 1;
                    scan.eol = 1;
                    scan.eol_start = if p > 0 && self.buf.get(p - 1) == Some(&b'\r') {
                        p - 1
                    } else {
                        p
                    };
                }
                b'\r' if scan.eol == 1 => scan.eol = 2,
                _ => scan.eol = 0,
            }
            i += 1;
        }
        self.state = State::Header(scan);
        rest.len()
    }

    /// Gives up on a head that will not complete. A head whose start line
    /// was valid is recorded as an incomplete message (others count as
    /// skipped bytes); then the side resynchronises.
    fn abandon_head(&mut self, core: &mut Core, sink: &mut dyn BodySink, why: &str) {
        let State::Header(scan) = self.state else {
            return;
        };
        if !scan.confirmed {
            let n = self.buf.len();
            self.enter_sync(NOT_A_START);
            self.skip(n);
            return;
        }
        let pos = HeadPos {
            header_length: self.buf.len() as u64,
            terminator: 0,
            wire: self.buf.len() as u64,
            ts_start: scan.ts_start,
            ts_end: scan.ts_last,
        };
        let buf = std::mem::take(&mut self.buf);
        let broken = Some(why.to_string());
        self.record_head(core, sink, &Head::parse(&buf, false), pos, broken);
        self.buf = buf;
        self.reset_buf();
    }

    /// Records a parsed head and sets up its body. `broken` is why the
    /// message cannot be read further (head cut short): it is then
    /// recorded incomplete and the side resynchronises.
    fn record_head(
        &mut self,
        core: &mut Core,
        sink: &mut dyn BodySink,
        head: &Head,
        pos: HeadPos,
        broken: Option<String>,
    ) {
        match self.side {
            Side::Client => self.request_head(core, sink, head, pos, broken),
            Side::Server => self.response_head(core, sink, head, pos, broken),
        }
    }

    fn request_head(
        &mut self,
        core: &mut Core,
        sink: &mut dyn BodySink,
        head: &Head,
        pos: HeadPos,
        broken: Option<String>,
    ) {
        let line = head::request_line(&head.start);
        let cl = head.content_length();
        let chunked = head.chunked();
        let request = Request {
            host: head::request_host(&line.method, &line.uri, head),
            header_length: pos.header_length,
            header_terminator: pos.terminator,
            content_length: cl.as_ref().ok().copied().flatten(),
            chunked: chunked == Some(true),
            body_bytes: 0,
            missing_bytes: 0,
            wire_bytes: pos.wire,
            complete: false,
            ts_start_ns: pos.ts_start,
            ts_end_ns: pos.ts_end,
            expect_continue: head.expect_continue(),
            keep_alive: head.keep_alive(&line.version),
            method: line.method.clone(),
            uri: line.uri.clone(),
            version: line.version.clone(),
        };
        let txn = core.new_txn(Some(request), None);
        core.push_pending(Pending {
            txn,
            head: line.method == "HEAD",
            connect: line.method == "CONNECT",
        });
        let body = if let Some(why) = broken {
            Err(why)
        } else if !line.ok {
            Err(format!(
                "malformed request line {:?}",
                head::short(&head.start)
            ))
        } else {
            match (chunked, cl) {
                (Some(true), _) => {
                    if head.has("content-length") {
                        core.warn(format!(
                            "client: transaction {txn}: both Transfer-Encoding and Content-Length; chunked wins"
                        ));
                    }
                    Ok(Some(Body::Chunked(Chunk::size())))
                }
                (Some(false), _) => {
                    Err("request Transfer-Encoding does not end in chunked".to_string())
                }
                (None, Err(e)) => Err(e),
                (None, Ok(None | Some(0))) => Ok(None),
                (None, Ok(Some(n))) => Ok(Some(Body::Length(n))),
            }
        };
        self.start_body(core, sink, txn, pos, body);
    }

    fn response_head(
        &mut self,
        core: &mut Core,
        sink: &mut dyn BodySink,
        head: &Head,
        pos: HeadPos,
        broken: Option<String>,
    ) {
        let line = head::status_line(&head.start);
        let status = line.status;
        if line.ok && (100..200).contains(&status) && status != 101 {
            if core.interim.len() < MAX_INTERIM {
                core.interim.push(status);
            }
            match broken {
                Some(why) => {
                    core.warn(format!("server: interim {status} response: {why}"));
                    self.enter_sync(AFTER_BROKEN);
                }
                None => self.state = State::Idle,
            }
            return;
        }
        let pending = core.pending.pop_front();
        let to_head = pending.is_some_and(|p| p.head);
        let to_connect = pending.is_some_and(|p| p.connect);
        let cl = head.content_length();
        let chunked = head.chunked();
        let tunnel = line.ok && (status == 101 || (to_connect && (200..300).contains(&status)));
        let no_body = (100..200).contains(&status) || status == 204 || status == 304 || to_head;
        let body = if let Some(why) = broken {
            Err(why)
        } else if !line.ok {
            Err(format!(
                "malformed status line {:?}",
                head::short(&head.start)
            ))
        } else if tunnel || no_body {
            Ok(None)
        } else {
            match (chunked, cl.clone()) {
                (Some(is_chunked), _) => {
                    if head.has("content-length") {
                        core.warn(format!(
                            "server: status {status}: both Transfer-Encoding and Content-Length; Transfer-Encoding wins"
                        ));
                    }
                    Ok(Some(if is_chunked {
                        Body::Chunked(Chunk::size())
                    } else {
                        Body::Close
                    }))
                }
                (None, Err(e)) => Err(e),
                (None, Ok(Some(0))) => Ok(None),
                (None, Ok(Some(n))) => Ok(Some(Body::Length(n))),
                (None, Ok(None)) => Ok(Some(Body::Close)),
            }
        };
        let response = Response {
            keep_alive: head.keep_alive(&line.version),
            version: line.version,
            status,
            reason: line.reason,
            header_length: pos.header_length,
            header_terminator: pos.terminator,
            content_length: cl.ok().flatten(),
            content_type: head.get("content-type").map(str::to_string),
            content_encoding: head.get("content-encoding").map(str::to_string),
            chunked: chunked == Some(true),
            close_delimited: matches!(body, Ok(Some(Body::Close))),
            body_bytes: 0,
            missing_bytes: 0,
            wire_bytes: pos.wire,
            complete: false,
            ts_first_byte_ns: pos.ts_start,
            ts_last_byte_ns: pos.ts_end,
            interim: std::mem::take(&mut core.interim),
        };
        let txn = match pending {
            Some(p) => {
                if let Some(t) = core.txns.get_mut(p.txn) {
                    t.response = Some(response);
                }
                p.txn
            }
            None => core.new_txn(None, Some(response)),
        };
        self.start_body(core, sink, txn, pos, body);
        if tunnel {
            self.state = State::Tunnel;
            core.tunnel = true;
        }
    }

    /// Enters the body phase, or ends the message at once when it has none
    /// (or cannot be read: warning, then resynchronisation).
    fn start_body(
        &mut self,
        core: &mut Core,
        sink: &mut dyn BodySink,
        txn: usize,
        pos: HeadPos,
        body: Result<Option<Body>, String>,
    ) {
        self.msg = Some(Msg {
            txn,
            body_bytes: 0,
            wire_bytes: pos.wire,
            missing: 0,
            ts_last: pos.ts_end,
        });
        match body {
            Ok(Some(b)) => self.state = State::Body(b),
            Ok(None) => self.end_msg(core, sink, true),
            Err(why) => {
                core.warn(format!(
                    "{}: transaction {txn}: {why}; message incomplete",
                    self.side
                ));
                self.end_msg(core, sink, false);
                self.enter_sync(AFTER_BROKEN);
            }
        }
    }

    /// Ends the current message: tells the sink, fills in the record.
    fn end_msg(&mut self, core: &mut Core, sink: &mut dyn BodySink, complete: bool) {
        self.state = State::Idle;
        let Some(m) = self.msg.take() else {
            return;
        };
        let complete = complete && m.missing == 0;
        sink.end(m.txn, self.side, complete);
        let Some(t) = core.txns.get_mut(m.txn) else {
            return;
        };
        match self.side {
            Side::Client => {
                if let Some(r) = t.request.as_mut() {
                    r.body_bytes = m.body_bytes;
                    r.missing_bytes = m.missing;
                    r.wire_bytes = m.wire_bytes;
                    r.complete = complete;
                    r.ts_end_ns = m.ts_last;
                }
            }
            Side::Server => {
                if let Some(r) = t.response.as_mut() {
                    r.body_bytes = m.body_bytes;
                    r.missing_bytes = m.missing;
                    r.wire_bytes = m.wire_bytes;
                    r.complete = complete;
                    r.ts_last_byte_ns = m.ts_last;
                }
            }
        }
    }

    fn body_step(
        &mut self,
        core: &mut Core,
        ts: i64,
        rest: &[u8],
        sink: &mut dyn BodySink,
    ) -> usize {
        let side = self.side;
        let max_trailer = core.limits.max_header_bytes;
        let State::Body(body) = &mut self.state else {
            return 0;
        };
        let Some(m) = self.msg.as_mut() else {
            self.state = State::Idle;
            return 0;
        };
        m.ts_last = ts;
        let mut done = false;
        let mut broken = None;
        let n = match body {
            Body::Close => {
                sink.body(m.txn, side, rest);
                m.add(rest.len() as u64, rest.len() as u64);
                rest.len()
            }
            Body::Length(rem) | Body::Chunked(Chunk::Data(rem)) => {
                let take = take_len(*rem, rest.len());
                let data = rest.get(..take).unwrap_or_default();
                sink.body(m.txn, side, data);
                m.add(take as u64, take as u64);
                *rem -= take as u64;
                if *rem == 0 {
                    match body {
                        Body::Chunked(c) => *c = Chunk::DataEnd { cr: false },
                        _ => done = true,
                    }
                }
                take
            }
            Body::Chunked(c) => {
                let mut n = rest.len();
                for (i, &b) in rest.iter().enumerate() {
                    m.add(0, 1);
                    match chunk_byte(c, b, max_trailer) {
                        ChunkEv::More if matches!(c, Chunk::Data(_)) => {
                            n = i + 1;
                            break;
                        }
                        ChunkEv::More => {}
                        ChunkEv::Done => {
                            n = i + 1;
                            done = true;
                            break;
                        }
                        ChunkEv::Err(e) => {
                            n = i + 1;
                            broken = Some(e);
                            break;
                        }
                    }
                }
                n
            }
        };
        let txn = m.txn;
        if done {
            self.end_msg(core, sink, true);
        } else if let Some(e) = broken {
            core.warn(format!(
                "{side}: transaction {txn}: {e}; message incomplete"
            ));
            self.end_msg(core, sink, false);
            self.enter_sync(AFTER_BROKEN);
        }
        n
    }

    fn gap(&mut self, core: &mut Core, ts: i64, len: u64, sink: &mut dyn BodySink) {
        if len == 0 {
            return;
        }
        let side = self.side;
        match &mut self.state {
            State::Tunnel => self.tunnel_bytes = self.tunnel_bytes.saturating_add(len),
            State::Sync => {}
            State::Idle => {
                core.warn(format!("{side}: {len} bytes missing between messages"));
                self.enter_sync(AFTER_GAP);
            }
            State::Header(_) => {
                let why = format!("{len} bytes missing inside the message head");
                self.abandon_head(core, sink, &why);
                self.sync_reason = Some(AFTER_GAP);
            }
            State::Body(body) => {
                let Some(m) = self.msg.as_mut() else {
                    self.enter_sync(AFTER_GAP);
                    return;
                };
                m.ts_last = ts;
                let txn = m.txn;
                let first_gap = m.missing == 0;
                let overrun = match body {
                    Body::Close => {
                        m.add(len, len);
                        m.missing = m.missing.saturating_add(len);
                        false
                    }
                    Body::Length(rem) | Body::Chunked(Chunk::Data(rem)) => {
                        let k = len.min(*rem);
                        m.add(k, k);
                        m.missing = m.missing.saturating_add(k);
                        *rem -= k;
                        if len > k {
                            true
                        } else {
                            if *rem == 0 {
                                match body {
                                    Body::Chunked(c) => *c = Chunk::DataEnd { cr: false },
                                    _ => self.state = State::Idle,
                                }
                            }
                            false
                        }
                    }
                    Body::Chunked(_) => true,
                };
                if overrun {
                    core.warn(format!(
                        "{side}: transaction {txn}: {len} bytes missing past the body's known extent; message incomplete"
                    ));
                    self.end_msg(core, sink, false);
                    self.enter_sync(AFTER_GAP);
                } else {
                    if first_gap {
                        core.warn(format!(
                            "{side}: transaction {txn}: bytes missing inside the body (first gap: {len} bytes; the message's missing_bytes counts them all)"
                        ));
                    }
                    if matches!(self.state, State::Idle) {
                        self.end_msg(core, sink, false);
                    }
                }
            }
        }
    }

    /// Ends this side's input (close, end of capture, or protocol switch).
    fn stop(&mut self, core: &mut Core, sink: &mut dyn BodySink, how: Stop) {
        let side = self.side;
        let what = match how {
            Stop::Close => "connection closed",
            Stop::Finish => "input ended",
            Stop::Tunnel => "protocol switched",
        };
        match self.state {
            State::Header(_) => {
                self.abandon_head(core, sink, &format!("{what} inside the message head"));
            }
            State::Body(Body::Close) if how == Stop::Close => self.end_msg(core, sink, true),
            State::Body(b) => {
                let txn = self.msg.map_or(0, |m| m.txn);
                let detail = if matches!(b, Body::Close) {
                    "before the server closed: close-delimited body may be truncated"
                } else {
                    "before the end of the body"
                };
                core.warn(format!(
                    "{side}: transaction {txn}: {what} {detail}; message incomplete"
                ));
                self.end_msg(core, sink, false);
            }
            State::Sync | State::Idle | State::Tunnel => {}
        }
        if how == Stop::Tunnel {
            self.state = State::Tunnel;
        }
    }

    /// Final reports of this side, at finish.
    fn report(&mut self, core: &mut Core) {
        self.end_sync(core);
        if self.tunnel_bytes > 0 {
            core.warn(format!(
                "{}: {} bytes after a protocol switch (101 or CONNECT) not parsed",
                self.side, self.tunnel_bytes
            ));
        }
    }
}

/// The HTTP/1.x parser of one TCP connection: feed both directions, then [`finish`](Conversation::finish).
#[derive(Debug)]
pub struct Conversation {
    core: Core,
    client: Dir,
    server: Dir,
}

impl Default for Conversation {
    fn default() -> Self {
        Conversation::new(Limits::default())
    }
}

impl Conversation {
    /// A conversation with nothing seen yet on either side.
    #[must_use]
    pub fn new(limits: Limits) -> Self {
        Conversation {
            core: Core {
                limits,
                txns: Vec::new(),
                pending: VecDeque::new(),
                interim: Vec::new(),
                warnings: Vec::new(),
                suppressed: 0,
                tunnel: false,
            },
            client: Dir::new(Side::Client),
            server: Dir::new(Side::Server),
        }
    }

    fn parts(&mut self, side: Side) -> (&mut Dir, &mut Core) {
        match side {
            Side::Client => (&mut self.client, &mut self.core),
            Side::Server => (&mut self.server, &mut self.core),
        }
    }

    /// Once one side switched protocols, the other follows.
    fn follow_tunnel(&mut self, sink: &mut dyn BodySink) {
        if !self.core.tunnel {
            return;
        }
        for dir in [&mut self.client, &mut self.server] {
            if !matches!(dir.state, State::Tunnel) {
                dir.stop(&mut self.core, sink, Stop::Tunnel);
            }
        }
    }

    /// The next in-order bytes of `side`'s stream (one TCP segment's new
    /// payload: chunk starts are where resynchronisation looks).
    pub fn data(&mut self, side: Side, ts_ns: i64, bytes: &[u8], sink: &mut dyn BodySink) {
        let (dir, core) = self.parts(side);
        dir.data(core, ts_ns, bytes, sink);
        self.follow_tunnel(sink);
    }

    /// `len` bytes of this side's stream are missing (never seen or cut by snaplen).
    pub fn gap(&mut self, side: Side, ts_ns: i64, len: u64, sink: &mut dyn BodySink) {
        let (dir, core) = self.parts(side);
        dir.gap(core, ts_ns, len, sink);
        self.follow_tunnel(sink);
    }

    /// This side sent FIN or RST: a close-delimited body ends here; any
    /// other unfinished message on this side is incomplete.
    pub fn close(&mut self, side: Side, ts_ns: i64, sink: &mut dyn BodySink) {
        let (dir, core) = self.parts(side);
        // The close time is not part of the records: bodies end at their last byte.
        let _ = ts_ns;
        dir.stop(core, sink, Stop::Close);
    }

    /// Transactions recorded so far (messages still in progress show
    /// `complete: false` and partial counts).
    #[must_use]
    pub fn transactions(&self) -> &[Transaction] {
        &self.core.txns
    }

    /// End of input: finalises open messages (incomplete ones marked so)
    /// and returns everything.
    pub fn finish(mut self, sink: &mut dyn BodySink) -> HttpSummary {
        let core = &mut self.core;
        for dir in [&mut self.client, &mut self.server] {
            dir.stop(core, sink, Stop::Finish);
            dir.report(core);
        }
        if core.suppressed > 0 {
            let n = core.suppressed;
            core.warnings
                .push(format!("{n} further warnings suppressed"));
        }
        HttpSummary {
            transactions: std::mem::take(&mut core.txns),
            warnings: std::mem::take(&mut core.warnings),
        }
    }
}
