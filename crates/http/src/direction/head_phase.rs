//! The head phase of a direction: buffering a message head up to its
//! blank line (at most `Limits::max_header_bytes` of it), validating
//! its start line on the way, then recording the request or response it
//! describes and choosing how its body is framed.

use super::body_phase::Body;
use super::{AFTER_BROKEN, Dir, HeadPos, NOT_A_START, State};
use crate::chunked::ChunkState;
use crate::conversation::{Core, Pending};
use crate::head::{self, Head};
use crate::start_line::{Check, Start};
use crate::{BodySink, Broken, HttpWarning, Request, Response, Side};
use recvscope_wire::WireText;

/// Most 1xx statuses kept for one final response ([`Response::interim`]).
const MAX_INTERIM: usize = 16;

/// Bytes the head search has examined on this thread: each head byte should
/// be examined once however the head is split (the tests count it).
#[cfg(test)]
pub(crate) mod examined {
    use std::cell::Cell;

    thread_local!(static BYTES: Cell<u64> = const { Cell::new(0) });

    pub(crate) fn add(n: usize) {
        BYTES.with(|b| b.set(b.get() + n as u64));
    }

    /// The count so far, reset to 0.
    pub(crate) fn take() -> u64 {
        BYTES.with(|b| b.replace(0))
    }
}

/// Incremental search for the end of a head, one byte at a time.
#[derive(Clone, Copy, Debug)]
pub(super) struct Scan {
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

impl Dir {
    /// Starts buffering a head whose first byte comes next.
    pub(super) fn begin_header(&mut self, ts: i64) {
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

    /// Buffers head bytes of `rest` up to the head's end, then records it;
    /// returns the bytes consumed (0 when only the state changed).
    pub(super) fn header_step(
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
                    core.warn(HttpWarning::StartLineTooLong {
                        side: self.side,
                        max,
                    });
                }
                self.abandon_head(core, sink, Broken::HeadTooLarge { max });
                self.skip(rest.len() - i);
                return rest.len();
            }
            let b = if scan.confirmed {
                // Field lines: copy up to the next line feed at once.
                let avail = &rest[i..rest.len().min(i + max - self.buf.len())];
                let line = memchr::memchr(b'\n', avail);
                let text = &avail[..line.unwrap_or(avail.len())];
                #[cfg(test)]
                examined::add(text.len() + usize::from(line.is_some()));
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
                #[cfg(test)]
                examined::add(1);
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
    pub(super) fn abandon_head(&mut self, core: &mut Core, sink: &mut dyn BodySink, why: Broken) {
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
        self.record_head(core, sink, &Head::parse(&buf, false), pos, Some(why));
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
        broken: Option<Broken>,
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
        broken: Option<Broken>,
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
            not_captured_bytes: 0,
            wire_bytes: pos.wire,
            complete: false,
            ts_start_ns: pos.ts_start,
            ts_end_ns: pos.ts_end,
            expect_continue: head.expect_continue(),
            keep_alive: head.keep_alive(&line.version),
            method: line.method.as_str().into(),
            uri: line.uri.as_str().into(),
            version: line.version.as_str().into(),
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
            Err(Broken::MalformedRequestLine {
                line: head::short(&head.start),
            })
        } else {
            match (chunked, cl) {
                (Some(true), _) => {
                    if head.has("content-length") {
                        core.warn(HttpWarning::RequestChunkedWithContentLength { txn });
                    }
                    Ok(Some(Body::Chunked(ChunkState::size())))
                }
                (Some(false), _) => Err(Broken::RequestTransferEncodingNotChunked),
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
        broken: Option<Broken>,
    ) {
        let line = head::status_line(&head.start);
        let status = line.status;
        if line.ok && (100..200).contains(&status) && status != 101 {
            if core.interim.len() < MAX_INTERIM {
                core.interim.push(status);
            }
            match broken {
                Some(why) => {
                    core.warn(HttpWarning::InterimBroken { status, why });
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
            Err(Broken::MalformedStatusLine {
                line: head::short(&head.start),
            })
        } else if tunnel || no_body {
            Ok(None)
        } else {
            match (chunked, cl.clone()) {
                (Some(is_chunked), _) => {
                    if head.has("content-length") {
                        core.warn(HttpWarning::ResponseTransferEncodingWithContentLength {
                            status,
                        });
                    }
                    Ok(Some(if is_chunked {
                        Body::Chunked(ChunkState::size())
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
            version: line.version.into(),
            status,
            reason: line.reason.into(),
            header_length: pos.header_length,
            header_terminator: pos.terminator,
            content_length: cl.ok().flatten(),
            content_type: head.get("content-type").map(WireText::from),
            content_encoding: head.get("content-encoding").map(WireText::from),
            chunked: chunked == Some(true),
            close_delimited: matches!(body, Ok(Some(Body::Close))),
            body_bytes: 0,
            missing_bytes: 0,
            not_captured_bytes: 0,
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
}
