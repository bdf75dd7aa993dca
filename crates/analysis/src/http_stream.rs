//! HTTP riding on TCP: each connection's stream sink is an HTTP
//! conversation, and decoded bodies go to one capture-wide [`BodySink`].

use recvscope_http::{self as http, Conversation, HttpSummary};
use recvscope_tcp::StreamSink;
use recvscope_wire::{Gap, Side};

/// Receives the HTTP bodies of every connection, for extraction.
pub trait BodySink {
    fn body(&mut self, conn: u64, txn: usize, side: Side, bytes: &[u8]);
    fn end(&mut self, conn: u64, txn: usize, side: Side, complete: bool);
}

/// The capture-wide body sink, as every connection's HTTP stream shares it.
pub type Bodies = dyn BodySink;

/// A sink that keeps nothing.
pub struct NoBodies;

impl BodySink for NoBodies {
    fn body(&mut self, _: u64, _: usize, _: Side, _: &[u8]) {}
    fn end(&mut self, _: u64, _: usize, _: Side, _: bool) {}
}

/// Adapts the capture-wide sink to one conversation's.
struct ConnBodies<'a> {
    conn: u64,
    inner: &'a mut dyn BodySink,
}

impl http::BodySink for ConnBodies<'_> {
    fn body(&mut self, txn: usize, side: Side, bytes: &[u8]) {
        self.inner.body(self.conn, txn, side, bytes);
    }
    fn end(&mut self, txn: usize, side: Side, complete: bool) {
        self.inner.end(self.conn, txn, side, complete);
    }
}

/// One connection's HTTP conversation, fed by TCP reassembly.
pub(crate) struct HttpStream(Conversation);

impl HttpStream {
    /// End of the connection: the conversation's transactions and warnings.
    pub(crate) fn finish(self, conn: u64, bodies: &mut dyn BodySink) -> HttpSummary {
        self.0.finish(&mut ConnBodies {
            conn,
            inner: bodies,
        })
    }
}

impl StreamSink for HttpStream {
    type Config = http::Limits;
    type Out = Bodies;

    fn open(limits: &http::Limits) -> Self {
        HttpStream(Conversation::new(*limits))
    }
    fn sender_role(payload: &[u8]) -> Option<Side> {
        http::sender_role(payload)
    }
    fn data(&mut self, out: &mut Self::Out, conn: u64, side: Side, ts_ns: i64, bytes: &[u8]) {
        let mut bodies = ConnBodies { conn, inner: out };
        self.0.data(side, ts_ns, bytes, &mut bodies);
    }
    fn gap(&mut self, out: &mut Self::Out, conn: u64, side: Side, ts_ns: i64, gap: Gap) {
        let mut bodies = ConnBodies { conn, inner: out };
        self.0.gap(side, ts_ns, gap, &mut bodies);
    }
    fn close(&mut self, out: &mut Self::Out, conn: u64, side: Side, ts_ns: i64) {
        let mut bodies = ConnBodies { conn, inner: out };
        self.0.close(side, ts_ns, &mut bodies);
    }
    fn began(&mut self, _: &mut Self::Out, _: u64, side: Side) {
        self.0.began(side);
    }
}
