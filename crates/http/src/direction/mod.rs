//! The parser of one direction of the connection: a state machine that
//! resynchronises on message starts, buffers heads ([`head_phase`]) and
//! frames bodies ([`body_phase`]), recording into the [`Core`] both
//! directions share.

use super::conversation::Core;
use super::start_line::{Check, looks_like_start};
use super::{BodySink, Broken, Cut, HttpWarning, Side, SkipReason};

mod body_phase;
pub(crate) mod head_phase;

use body_phase::Body;
use head_phase::Scan;

/// Capacity the head buffer keeps between messages; a larger one is shrunk.
const KEEP_BUF_CAPACITY: usize = 8 * 1024;

/// Why a side is resynchronising (told in the skipped-bytes warning).
const MID_STREAM: SkipReason = SkipReason::CaptureStartedInsideMessage;
const NOT_HTTP: SkipReason = SkipReason::NotHttp;
const NOT_A_START: SkipReason = SkipReason::NotAMessageStart;
const AFTER_GAP: SkipReason = SkipReason::AfterGap;
const AFTER_BROKEN: SkipReason = SkipReason::AfterUnparseableMessage;

/// What a side is doing.
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
    /// Body bytes lost: never seen on the wire.
    missing: u64,
    /// Body bytes seen on the wire that the snaplen did not keep.
    not_captured: u64,
    ts_last: i64,
}

impl Msg {
    /// Counts `body` decoded and `wire` on-the-wire bytes.
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

/// One direction's parser.
#[derive(Debug)]
pub(super) struct Dir {
    side: Side,
    state: State,
    /// The head being buffered (never more than `max_header_bytes`).
    buf: Vec<u8>,
    /// The message being read, from its head's end to its end.
    msg: Option<Msg>,
    /// Bytes skipped in the current resynchronisation.
    skipped: u64,
    /// Set while resynchronising: why.
    sync_reason: Option<SkipReason>,
    tunnel_bytes: u64,
}

impl Dir {
    /// A side with nothing seen yet: it resynchronises, since the capture
    /// may start inside a message.
    pub(super) fn new(side: Side) -> Self {
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

    /// The side's stream is captured from its first byte: what it skips
    /// before a message starts is not HTTP.
    pub(super) fn began(&mut self) {
        if self.sync_reason == Some(MID_STREAM) && self.skipped == 0 {
            self.sync_reason = Some(NOT_HTTP);
        }
    }

    /// Whether the side no longer carries HTTP (after a protocol switch).
    pub(super) fn in_tunnel(&self) -> bool {
        matches!(self.state, State::Tunnel)
    }

    /// The head buffer, for tests of its memory bound.
    #[cfg(test)]
    pub(super) fn head_buf(&self) -> &Vec<u8> {
        &self.buf
    }

    /// Nothing of this side's stream seen yet.
    fn untouched(&self) -> bool {
        matches!(self.state, State::Sync)
            && self.sync_reason == Some(MID_STREAM)
            && self.skipped == 0
    }

    fn enter_sync(&mut self, reason: SkipReason) {
        self.state = State::Sync;
        self.sync_reason.get_or_insert(reason);
        self.reset_buf();
    }

    fn skip(&mut self, n: usize) {
        self.skipped = self.skipped.saturating_add(n as u64);
    }

    /// Ends a resynchronisation, reporting what it skipped.
    fn end_sync(&mut self, core: &mut Core) {
        if let Some(why) = self.sync_reason.take()
            && self.skipped > 0
        {
            core.warn(HttpWarning::Skipped {
                side: self.side,
                bytes: self.skipped,
                why,
            });
        }
        self.skipped = 0;
    }

    fn reset_buf(&mut self) {
        self.buf.clear();
        if self.buf.capacity() > KEEP_BUF_CAPACITY {
            self.buf.shrink_to(KEEP_BUF_CAPACITY);
        }
    }

    /// The next in-order bytes of this side's stream (one chunk).
    pub(super) fn data(&mut self, core: &mut Core, ts: i64, bytes: &[u8], sink: &mut dyn BodySink) {
        let mut off = 0;
        let mut stalls = 0u8;
        while let Some(rest) = bytes.get(off..).filter(|r| !r.is_empty()) {
            let n = self.step(core, ts, rest, off == 0, sink).min(rest.len());
            if n == 0 {
                // Only state changes that are followed by consuming steps
                // return 0; this guard is a backstop against looping.
                stalls += 1;
                if stalls > 4 {
                    core.warn(HttpWarning::ParserStalled { side: self.side });
                    self.stop(core, sink, Cut::InputEnded);
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

    /// Ends this side's input (close, end of capture, or protocol switch).
    pub(super) fn stop(&mut self, core: &mut Core, sink: &mut dyn BodySink, by: Cut) {
        let side = self.side;
        match self.state {
            State::Header(_) => self.abandon_head(core, sink, Broken::HeadCut { by }),
            State::Body(Body::Close) if by == Cut::ConnectionClosed => {
                self.end_msg(core, sink, true);
            }
            State::Body(b) => {
                let txn = self.msg.map_or(0, |m| m.txn);
                core.warn(if matches!(b, Body::Close) {
                    HttpWarning::CloseDelimitedBodyCut { side, txn, by }
                } else {
                    HttpWarning::BodyCut { side, txn, by }
                });
                self.end_msg(core, sink, false);
            }
            State::Sync | State::Idle | State::Tunnel => {}
        }
        if by == Cut::ProtocolSwitched {
            self.state = State::Tunnel;
        }
    }

    /// Final reports of this side, at finish.
    pub(super) fn report(&mut self, core: &mut Core) {
        self.end_sync(core);
        if self.tunnel_bytes > 0 {
            core.warn(HttpWarning::TunnelBytesNotParsed {
                side: self.side,
                bytes: self.tunnel_bytes,
            });
        }
    }
}
