//! The public vocabulary of the parser: the resource
//! [`Limits`], the [`BodySink`] that receives bodies, and the records
//! ([`Request`], [`Response`], [`Transaction`], [`HttpSummary`]) it produces.

use serde::Serialize;

use recvscope_wire::WireText;

/// A direction of the connection: bytes sent by the client, or by the server.
pub use recvscope_wire::Side;

/// Stream bytes the capture does not hold: lost, or not kept by the snaplen.
pub use recvscope_wire::Gap;

/// Resource bounds of one [`Conversation`](super::Conversation).
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
    /// `txn` ([`Transaction::index`]). Bytes the capture does not hold
    /// (gaps) are skipped, never filled in.
    fn body(&mut self, txn: usize, side: Side, bytes: &[u8]);
    /// The message on `side` of transaction `txn` is over. Called exactly
    /// once per recorded message (also when the body is empty); `complete`
    /// is true when every body byte was passed: false when the message was
    /// cut short or some of its bytes are not in the capture.
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
    pub method: WireText,
    /// Request-target as sent: `/a.jpg`, `http://host/a.jpg`, `host:443`, `*`.
    pub uri: WireText,
    /// Version as sent, e.g. `HTTP/1.0`.
    pub version: WireText,
    /// Target host: authority of an absolute-form or CONNECT target, else the Host field.
    pub host: Option<WireText>,
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
    /// Decoded body length, including `missing_bytes` and `not_captured_bytes`.
    pub body_bytes: u64,
    /// Body bytes never seen on the wire (never passed to the sink).
    pub missing_bytes: u64,
    /// Body bytes seen on the wire that the snaplen did not keep (never
    /// passed to the sink).
    pub not_captured_bytes: u64,
    /// Bytes of the whole message on the wire: head, framing and body.
    pub wire_bytes: u64,
    /// Head and body seen on the wire to their end, nothing lost (bytes
    /// the snaplen did not keep were seen).
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
    pub version: WireText,
    /// Status code; 0 when the status line was unreadable.
    pub status: u16,
    /// Reason phrase (may be empty).
    pub reason: WireText,
    /// As [`Request::header_length`].
    pub header_length: u64,
    /// As [`Request::header_terminator`].
    pub header_terminator: u8,
    /// The Content-Length field, when present and valid.
    pub content_length: Option<u64>,
    /// The Content-Type field.
    pub content_type: Option<WireText>,
    /// The Content-Encoding field.
    pub content_encoding: Option<WireText>,
    /// Whether Transfer-Encoding ends in `chunked`.
    pub chunked: bool,
    /// The body was framed by the server closing the connection.
    pub close_delimited: bool,
    /// Decoded (de-chunked) body length, including `missing_bytes` and
    /// `not_captured_bytes`.
    pub body_bytes: u64,
    /// As [`Request::missing_bytes`].
    pub missing_bytes: u64,
    /// As [`Request::not_captured_bytes`].
    pub not_captured_bytes: u64,
    /// Bytes of the whole response on the wire: head, framing and body
    /// (interim 1xx responses not included).
    pub wire_bytes: u64,
    /// As [`Request::complete`]; a close-delimited body is complete only
    /// when the server's close was seen.
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
    /// The response's head fell in a capture gap (lost, or not kept by the
    /// snaplen): the server answered, `response` stays `None`, and the next
    /// status line pairs with the next request.
    pub response_head_missing: bool,
}

pub(crate) use super::warning::HttpWarning;

/// Everything parsed from one connection.
#[derive(Serialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpSummary {
    /// Transactions in order of creation (request head seen, or orphan response head seen).
    pub transactions: Vec<Transaction>,
    /// Anomalies (skipped bytes, gaps, bad framing) in the order noticed;
    /// capped, with a final [`HttpWarning::Suppressed`] count of those dropped.
    pub warnings: Vec<HttpWarning>,
}
