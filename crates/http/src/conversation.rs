//! The [`Conversation`]: the two directions' parsers and the [`Core`]
//! they share, where requests are paired with responses and the records
//! and warnings are kept.

use std::collections::VecDeque;

use super::direction::Dir;
use super::{
    BodySink, Cut, Gap, HttpSummary, HttpWarning, Limits, Request, Response, Side, Transaction,
};

/// Most warnings kept; the rest are only counted.
pub(super) const MAX_WARNINGS: usize = 256;

/// A request awaiting its response.
#[derive(Clone, Copy, Debug)]
pub(super) struct Pending {
    /// Its transaction.
    pub(super) txn: usize,
    /// It was a HEAD request: the response has no body.
    pub(super) head: bool,
    /// It was a CONNECT request: a 2xx response starts a tunnel.
    pub(super) connect: bool,
}

/// State shared by both sides: records, pairing queue, warnings.
#[derive(Debug)]
pub(super) struct Core {
    pub(super) limits: Limits,
    /// The records, indexed by [`Transaction::index`].
    pub(super) txns: Vec<Transaction>,
    /// Requests awaiting a response, oldest first.
    pub(super) pending: VecDeque<Pending>,
    /// 1xx statuses seen since the last final response.
    pub(super) interim: Vec<u16>,
    warnings: Vec<HttpWarning>,
    /// Warnings beyond [`MAX_WARNINGS`], only counted.
    suppressed: u64,
    /// A side switched protocols; the other follows.
    pub(super) tunnel: bool,
}

impl Core {
    /// Keeps a warning (or counts it, beyond [`MAX_WARNINGS`]).
    pub(super) fn warn(&mut self, w: HttpWarning) {
        if self.warnings.len() < MAX_WARNINGS {
            self.warnings.push(w);
        } else {
            self.suppressed = self.suppressed.saturating_add(1);
        }
    }

    /// Records a new transaction; returns its index.
    pub(super) fn new_txn(
        &mut self,
        request: Option<Request>,
        response: Option<Response>,
    ) -> usize {
        let index = self.txns.len();
        self.txns.push(Transaction {
            index,
            request,
            response,
            response_head_missing: false,
        });
        index
    }

    /// The server's next bytes, the head of the oldest waiting request's
    /// response, fell in a capture gap: that request stops waiting, marked
    /// so, and the next status line pairs with the request after it.
    pub(super) fn response_head_missing(&mut self) {
        if let Some(p) = self.pending.pop_front()
            && let Some(t) = self.txns.get_mut(p.txn)
        {
            t.response_head_missing = true;
        }
    }

    /// Queues a request for pairing; beyond the limit the oldest is dropped.
    pub(super) fn push_pending(&mut self, p: Pending) {
        while self.pending.len() >= self.limits.max_pending_requests.max(1) {
            if let Some(old) = self.pending.pop_front() {
                self.warn(HttpWarning::TooManyPendingRequests {
                    max: self.limits.max_pending_requests,
                    txn: old.txn,
                });
            }
        }
        self.pending.push_back(p);
    }
}

/// The HTTP/1.x parser of one TCP connection: feed both directions, then [`finish`](Conversation::finish).
#[derive(Debug)]
pub struct Conversation {
    core: Core,
    client: Dir,
    server: Dir,
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
            if !dir.in_tunnel() {
                dir.stop(&mut self.core, sink, Cut::ProtocolSwitched);
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

    /// Bytes of `side`'s stream that the capture does not hold: lost, or
    /// seen on the wire and not kept by the snaplen.
    pub fn gap(&mut self, side: Side, ts_ns: i64, gap: Gap, sink: &mut dyn BodySink) {
        let (dir, core) = self.parts(side);
        dir.gap(core, ts_ns, gap, sink);
        self.follow_tunnel(sink);
    }

    /// `side`'s stream is captured from its first byte (its SYN was seen):
    /// bytes skipped before its first message are not HTTP, rather than
    /// the inside of a message the capture started in.
    pub fn began(&mut self, side: Side) {
        self.parts(side).0.began();
    }

    /// This side sent FIN or RST: a close-delimited body ends here; any
    /// other unfinished message on this side is incomplete.
    pub fn close(&mut self, side: Side, ts_ns: i64, sink: &mut dyn BodySink) {
        let (dir, core) = self.parts(side);
        // The close time is not part of the records: bodies end at their last byte.
        let _ = ts_ns;
        dir.stop(core, sink, Cut::ConnectionClosed);
    }

    /// End of input: finalises open messages (incomplete ones marked so)
    /// and returns everything.
    pub fn finish(mut self, sink: &mut dyn BodySink) -> HttpSummary {
        let core = &mut self.core;
        for dir in [&mut self.client, &mut self.server] {
            dir.stop(core, sink, Cut::InputEnded);
            dir.report(core);
        }
        if core.suppressed > 0 {
            core.warnings.push(HttpWarning::Suppressed {
                count: core.suppressed,
            });
        }
        HttpSummary {
            transactions: std::mem::take(&mut core.txns),
            warnings: std::mem::take(&mut core.warnings),
        }
    }
}

#[cfg(test)]
impl Conversation {
    /// The head buffer of `side`, for tests of its memory bound.
    pub(super) fn head_buf(&self, side: Side) -> &Vec<u8> {
        match side {
            Side::Client => self.client.head_buf(),
            Side::Server => self.server.head_buf(),
        }
    }
}
