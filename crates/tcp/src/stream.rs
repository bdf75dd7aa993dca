//! The one way bytes leave TCP tracking: each connection's two streams,
//! in order, as reassembly releases them. What rides on them (HTTP, in
//! recvscope) is the sink's business; tcp knows nothing of it.

use recvscope_wire::{Gap, Side};

/// A consumer of one connection's in-order stream bytes, opened when the
/// connection is first seen and handed back when it is finished.
pub trait StreamSink: Sized {
    /// Settings every connection's sink is opened with.
    type Config;
    /// Capture-wide output the sinks share, passed on every call.
    type Out: ?Sized;
    /// A sink for a new connection.
    fn open(config: &Self::Config) -> Self;
    /// The role of a sender whose first captured payload is `payload`,
    /// when the protocol riding on the stream tells (roles of a connection
    /// whose handshake was not captured). None by default.
    fn sender_role(payload: &[u8]) -> Option<Side> {
        let _ = payload;
        None
    }
    /// The next in-order bytes `side` sent, with the time of the segment
    /// that released them.
    fn data(&mut self, out: &mut Self::Out, conn: u64, side: Side, ts_ns: i64, bytes: &[u8]);
    /// Bytes of `side`'s stream that the capture does not hold, and why.
    fn gap(&mut self, out: &mut Self::Out, conn: u64, side: Side, ts_ns: i64, gap: Gap);
    /// `side` sent a FIN or RST: its stream ends here.
    fn close(&mut self, out: &mut Self::Out, conn: u64, side: Side, ts_ns: i64);
    /// `side`'s SYN was captured before any of its bytes: its stream is
    /// whole from its first byte, not entered in the middle.
    fn began(&mut self, out: &mut Self::Out, conn: u64, side: Side);
}

/// No consumer: for callers that want only the TCP figures.
impl StreamSink for () {
    type Config = ();
    type Out = ();
    fn open(_: &()) {}
    fn data(&mut self, _: &mut (), _: u64, _: Side, _: i64, _: &[u8]) {}
    fn gap(&mut self, _: &mut (), _: u64, _: Side, _: i64, _: Gap) {}
    fn close(&mut self, _: &mut (), _: u64, _: Side, _: i64) {}
    fn began(&mut self, _: &mut (), _: u64, _: Side) {}
}
