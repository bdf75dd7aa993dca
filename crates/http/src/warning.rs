//! The parser's warnings as data: what happened, on which side, in which
//! transaction, with its figures. The words for them are the renderer's
//! (`recvscope_render::http_words`).

use serde::Serialize;

use recvscope_wire::WireText;

use super::Side;

/// One anomaly noticed while parsing a connection's HTTP, in the order
/// noticed ([`HttpSummary::warnings`](super::HttpSummary::warnings)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HttpWarning {
    /// `bytes` were skipped while looking for a message start (one
    /// warning per resynchronisation).
    Skipped {
        side: Side,
        bytes: u64,
        why: SkipReason,
    },
    /// A chunk made no progress and its rest was skipped (a backstop that
    /// should never fire).
    ParserStalled { side: Side },
    /// Transaction `txn`'s message on `side` could not be read to its end
    /// and was recorded incomplete.
    MessageIncomplete { side: Side, txn: usize, why: Broken },
    /// The head of an interim (1xx) response with `status` broke.
    InterimBroken { status: u16, why: Broken },
    /// A start line reached the `max`-byte head limit before its end.
    StartLineTooLong { side: Side, max: usize },
    /// A body with a known extent (length or chunked) was cut short.
    BodyCut { side: Side, txn: usize, by: Cut },
    /// A close-delimited body ended otherwise than by the server's close,
    /// so it may be truncated.
    CloseDelimitedBodyCut { side: Side, txn: usize, by: Cut },
    /// A chunked request also had a Content-Length (chunked was used).
    RequestChunkedWithContentLength { txn: usize },
    /// A response with `status` had both Transfer-Encoding and
    /// Content-Length (Transfer-Encoding was used).
    ResponseTransferEncodingWithContentLength { status: u16 },
    /// A capture gap of `bytes` between two messages.
    BytesMissingBetweenMessages { side: Side, bytes: u64 },
    /// `bytes` between two messages were on the wire but the snaplen did
    /// not keep them: the next message's start is not in the capture.
    BytesNotCapturedBetweenMessages { side: Side, bytes: u64 },
    /// Capture gaps inside a body, the first of `first_gap` bytes (the
    /// record's `missing_bytes` counts them all).
    BytesMissingInBody {
        side: Side,
        txn: usize,
        first_gap: u64,
    },
    /// A capture gap of `bytes` ran past the body's known extent.
    BytesMissingPastBody { side: Side, txn: usize, bytes: u64 },
    /// `bytes` after a protocol switch (101, or 2xx to CONNECT) were not parsed.
    TunnelBytesNotParsed { side: Side, bytes: u64 },
    /// More than `max` requests awaited a response: transaction `txn`
    /// (the oldest) stopped waiting and will not be paired.
    TooManyPendingRequests { max: usize, txn: usize },
    /// `count` further warnings beyond the cap were dropped (always last).
    Suppressed { count: u64 },
}

/// Why a side was resynchronising when it skipped bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The capture started inside a message: the side's SYN was not
    /// captured, and its first bytes did not start a message.
    CaptureStartedInsideMessage,
    /// The side's stream was captured from its first byte (its SYN was
    /// seen) and did not start with an HTTP message.
    NotHttp,
    /// The bytes did not start an HTTP message.
    NotAMessageStart,
    /// A capture gap came before them.
    AfterGap,
    /// The message before them could not be parsed.
    AfterUnparseableMessage,
}

/// What cut a message short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cut {
    /// The side sent FIN or RST.
    ConnectionClosed,
    /// The input ended.
    InputEnded,
    /// The connection switched protocols.
    ProtocolSwitched,
}

/// Why a message's head or body could not be read further. Excerpts of
/// the offending input are at most 64 characters (then `…`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Broken {
    /// The head was cut short.
    HeadCut { by: Cut },
    /// The head reached the `max`-byte limit before its blank line.
    HeadTooLarge { max: usize },
    /// A capture gap of `bytes` inside the head.
    MissingInHead { bytes: u64 },
    /// `bytes` of the head were on the wire but the snaplen did not keep them.
    HeadNotCaptured { bytes: u64 },
    /// `bytes` holding chunked framing were on the wire but the snaplen did
    /// not keep them, so the chunks cannot be followed further.
    ChunkFramingNotCaptured { bytes: u64 },
    /// The request line (excerpt) is malformed.
    MalformedRequestLine { line: WireText },
    /// The status line (excerpt) is malformed.
    MalformedStatusLine { line: WireText },
    /// A Content-Length field (excerpt of its value) is not a number list.
    InvalidContentLength { value: WireText },
    /// A Content-Length (excerpt) does not fit in 64 bits.
    ContentLengthOverflow { value: WireText },
    /// Content-Length values disagree.
    ConflictingContentLengths { first: u64, second: u64 },
    /// A request's Transfer-Encoding does not end in `chunked`.
    RequestTransferEncodingNotChunked,
    /// A chunk-size line is longer than 4096 bytes.
    ChunkSizeLineTooLong,
    /// A CR not followed by LF in a chunk-size line.
    StrayCrInChunkSize,
    /// A chunk-size line without digits.
    MissingChunkSize,
    /// A chunk size that is not hexadecimal.
    InvalidChunkSize,
    /// A chunk size that does not fit in 64 bits.
    ChunkSizeOverflow,
    /// Chunk data not followed by CRLF.
    MissingCrlfAfterChunkData,
    /// The trailer section exceeds the head limit.
    TrailerTooLarge,
}
