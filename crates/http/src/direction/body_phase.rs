//! The body phase of a direction: framing a body by Content-Length,
//! chunked coding or the server's close (RFC 9112 §6.3), streaming its
//! bytes to the [`BodySink`], accounting for capture gaps, and ending the
//! message's record.

use super::{AFTER_BROKEN, AFTER_GAP, Dir, HeadPos, Msg, State};
use crate::chunked::{ChunkEv, ChunkState, chunk_byte};
use crate::conversation::Core;
use crate::{BodySink, Broken, Gap, HttpWarning, Side};

/// How a body is framed, with the progress of reading it.
#[derive(Clone, Copy, Debug)]
pub(super) enum Body {
    /// Content-Length: bytes left.
    Length(u64),
    /// Until the server closes the connection.
    Close,
    /// Transfer-Encoding: chunked.
    Chunked(ChunkState),
}

/// `min(rem, avail)` without overflow.
fn take_len(rem: u64, avail: usize) -> usize {
    usize::try_from(rem).map_or(avail, |r| r.min(avail))
}

impl Dir {
    /// Enters the body phase, or ends the message at once when it has none
    /// (or cannot be read: warning, then resynchronisation).
    pub(super) fn start_body(
        &mut self,
        core: &mut Core,
        sink: &mut dyn BodySink,
        txn: usize,
        pos: HeadPos,
        body: Result<Option<Body>, Broken>,
    ) {
        self.msg = Some(Msg {
            txn,
            body_bytes: 0,
            wire_bytes: pos.wire,
            missing: 0,
            not_captured: 0,
            ts_last: pos.ts_end,
        });
        match body {
            Ok(Some(b)) => self.state = State::Body(b),
            Ok(None) => self.end_msg(core, sink, true),
            Err(why) => {
                core.warn(HttpWarning::MessageIncomplete {
                    side: self.side,
                    txn,
                    why,
                });
                self.end_msg(core, sink, false);
                self.enter_sync(AFTER_BROKEN);
            }
        }
    }

    /// Ends the current message: tells the sink, fills in the record.
    /// `complete`: it was read to its end on the wire.
    pub(super) fn end_msg(&mut self, core: &mut Core, sink: &mut dyn BodySink, complete: bool) {
        self.state = State::Idle;
        let Some(m) = self.msg.take() else {
            return;
        };
        let complete = complete && m.missing == 0;
        sink.end(m.txn, self.side, complete && m.not_captured == 0);
        let Some(t) = core.txns.get_mut(m.txn) else {
            return;
        };
        match self.side {
            Side::Client => {
                if let Some(r) = t.request.as_mut() {
                    r.body_bytes = m.body_bytes;
                    r.missing_bytes = m.missing;
                    r.not_captured_bytes = m.not_captured;
                    r.wire_bytes = m.wire_bytes;
                    r.complete = complete;
                    r.ts_end_ns = m.ts_last;
                }
            }
            Side::Server => {
                if let Some(r) = t.response.as_mut() {
                    r.body_bytes = m.body_bytes;
                    r.missing_bytes = m.missing;
                    r.not_captured_bytes = m.not_captured;
                    r.wire_bytes = m.wire_bytes;
                    r.complete = complete;
                    r.ts_last_byte_ns = m.ts_last;
                }
            }
        }
    }

    /// Consumes the body bytes at the start of `rest`.
    pub(super) fn body_step(
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
            Body::Length(rem) | Body::Chunked(ChunkState::Data(rem)) => {
                let take = take_len(*rem, rest.len());
                let data = rest.get(..take).unwrap_or_default();
                sink.body(m.txn, side, data);
                m.add(take as u64, take as u64);
                *rem -= take as u64;
                if *rem == 0 {
                    match body {
                        Body::Chunked(c) => *c = ChunkState::DataEnd { cr: false },
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
                        ChunkEv::More if matches!(c, ChunkState::Data(_)) => {
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
        } else if let Some(why) = broken {
            core.warn(HttpWarning::MessageIncomplete { side, txn, why });
            self.end_msg(core, sink, false);
            self.enter_sync(AFTER_BROKEN);
        }
        n
    }

    /// Bytes of this side's stream that the capture does not hold.
    pub(crate) fn gap(&mut self, core: &mut Core, ts: i64, gap: Gap, sink: &mut dyn BodySink) {
        let len = gap.bytes();
        if len == 0 {
            return;
        }
        let side = self.side;
        if self.untouched() && side == Side::Server && !core.pending.is_empty() {
            // A gap before anything else: reassembly knew where the stream
            // starts (it saw the SYN), so the gap begins the response to
            // the request waiting.
            self.state = State::Idle;
        }
        match &mut self.state {
            State::Tunnel => self.tunnel_bytes = self.tunnel_bytes.saturating_add(len),
            State::Sync => {}
            State::Idle => {
                core.warn(match gap {
                    Gap::Lost(bytes) => HttpWarning::BytesMissingBetweenMessages { side, bytes },
                    Gap::NotCaptured(bytes) => {
                        HttpWarning::BytesNotCapturedBetweenMessages { side, bytes }
                    }
                });
                self.message_start_missing(core);
                self.enter_sync(AFTER_GAP);
            }
            State::Header(_) => {
                let why = match gap {
                    Gap::Lost(bytes) => Broken::MissingInHead { bytes },
                    Gap::NotCaptured(bytes) => Broken::HeadNotCaptured { bytes },
                };
                self.abandon_head(core, sink, why);
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
                // The body bytes the gap covers; the rest lies past the body.
                let inside = match body {
                    Body::Close => len,
                    Body::Length(rem) | Body::Chunked(ChunkState::Data(rem)) => {
                        let k = len.min(*rem);
                        *rem -= k;
                        if *rem == 0 {
                            match body {
                                Body::Chunked(c) => *c = ChunkState::DataEnd { cr: false },
                                _ => self.state = State::Idle,
                            }
                        }
                        k
                    }
                    Body::Chunked(_) => 0,
                };
                m.add(inside, inside);
                match gap {
                    Gap::Lost(_) => m.missing = m.missing.saturating_add(inside),
                    Gap::NotCaptured(_) => m.not_captured = m.not_captured.saturating_add(inside),
                }
                let past = len - inside;
                match gap {
                    Gap::Lost(_) if past > 0 => {
                        core.warn(HttpWarning::BytesMissingPastBody {
                            side,
                            txn,
                            bytes: len,
                        });
                        self.end_msg(core, sink, false);
                        self.message_start_missing(core);
                        self.enter_sync(AFTER_GAP);
                    }
                    Gap::Lost(_) => {
                        if first_gap {
                            core.warn(HttpWarning::BytesMissingInBody {
                                side,
                                txn,
                                first_gap: len,
                            });
                        }
                        if matches!(self.state, State::Idle) {
                            self.end_msg(core, sink, false);
                        }
                    }
                    // Seen on the wire: a body with a known extent is whole
                    // once it is reached, whatever the snaplen kept of it.
                    Gap::NotCaptured(_) if matches!(self.state, State::Idle) => {
                        self.end_msg(core, sink, true);
                        self.gap(core, ts, Gap::NotCaptured(past), sink);
                    }
                    Gap::NotCaptured(_) if past > 0 => {
                        core.warn(HttpWarning::MessageIncomplete {
                            side,
                            txn,
                            why: Broken::ChunkFramingNotCaptured { bytes: past },
                        });
                        self.end_msg(core, sink, false);
                        self.enter_sync(AFTER_GAP);
                    }
                    Gap::NotCaptured(_) => {}
                }
            }
        }
    }

    /// A gap begins the next message of this side: from the server, the
    /// head of the oldest waiting request's response is missing.
    fn message_start_missing(&self, core: &mut Core) {
        if self.side == Side::Server {
            core.response_head_missing();
        }
    }
}
