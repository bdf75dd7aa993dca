//! The words for the HTTP parser's warnings: one sentence per
//! [`HttpWarning`], prefixed with the side it concerns.

use recvscope_http::{Broken, Cut, HttpWarning, SkipReason};

use crate::findings::not_captured;
use crate::shown::shown;

/// What an exchange whose response head fell in a capture gap shows in
/// place of its response.
pub(crate) const RESPONSE_HEAD_MISSING: &str = "response head not in the capture";

/// The sentence the text report shows for `w`, from a capture whose
/// frames the snaplen cut to `snaplen` bytes, if it cut any.
pub(crate) fn http_warning(w: &HttpWarning, snaplen: Option<u32>) -> String {
    match w {
        HttpWarning::Skipped { side, bytes, why } => {
            format!("{side}: skipped {bytes} bytes ({})", skip_reason(*why))
        }
        HttpWarning::ParserStalled { side } => format!("{side}: parser stalled; skipping"),
        HttpWarning::MessageIncomplete {
            side,
            txn,
            why: why @ (Broken::HeadNotCaptured { .. } | Broken::ChunkFramingNotCaptured { .. }),
        } => format!(
            "{side}: transaction {txn}: {}; the rest of the message cannot be read from the capture",
            broken(why, snaplen)
        ),
        HttpWarning::MessageIncomplete { side, txn, why } => {
            format!(
                "{side}: transaction {txn}: {}; message incomplete",
                broken(why, snaplen)
            )
        }
        HttpWarning::InterimBroken { status, why } => {
            format!(
                "server: interim {status} response: {}",
                broken(why, snaplen)
            )
        }
        HttpWarning::StartLineTooLong { side, max } => {
            format!("{side}: start line exceeds the {max}-byte head limit")
        }
        HttpWarning::BodyCut { side, txn, by } => format!(
            "{side}: transaction {txn}: {} before the end of the body; message incomplete",
            cut(*by)
        ),
        HttpWarning::CloseDelimitedBodyCut { side, txn, by } => format!(
            "{side}: transaction {txn}: {} before the server closed: close-delimited body may be truncated; message incomplete",
            cut(*by)
        ),
        HttpWarning::RequestChunkedWithContentLength { txn } => format!(
            "client: transaction {txn}: both Transfer-Encoding and Content-Length; chunked wins"
        ),
        HttpWarning::ResponseTransferEncodingWithContentLength { status } => format!(
            "server: status {status}: both Transfer-Encoding and Content-Length; Transfer-Encoding wins"
        ),
        HttpWarning::BytesMissingBetweenMessages { side, bytes } => {
            format!("{side}: {bytes} bytes missing between messages")
        }
        HttpWarning::BytesNotCapturedBetweenMessages { side, bytes } => format!(
            "{side}: {} between messages: the next message's start is not in the capture",
            not_captured(*bytes, snaplen)
        ),
        HttpWarning::BytesMissingInBody {
            side,
            txn,
            first_gap,
        } => format!(
            "{side}: transaction {txn}: bytes missing inside the body (first gap: {first_gap} bytes; the message's missing_bytes counts them all)"
        ),
        HttpWarning::BytesMissingPastBody { side, txn, bytes } => format!(
            "{side}: transaction {txn}: {bytes} bytes missing past the body's known extent; message incomplete"
        ),
        HttpWarning::TunnelBytesNotParsed { side, bytes } => {
            format!("{side}: {bytes} bytes after a protocol switch (101 or CONNECT) not parsed")
        }
        HttpWarning::TooManyPendingRequests { max, txn } => format!(
            "client: more than {max} requests awaiting a response; transaction {txn} will not be paired"
        ),
        HttpWarning::Suppressed { count } => format!("{count} further warnings suppressed"),
    }
}

/// Why a message broke, as a clause (`message head exceeds 65536 bytes`).
pub(crate) fn broken(b: &Broken, snaplen: Option<u32>) -> String {
    match b {
        Broken::HeadCut { by } => format!("{} inside the message head", cut(*by)),
        Broken::HeadTooLarge { max } => format!("message head exceeds {max} bytes"),
        Broken::MissingInHead { bytes } => {
            format!("{bytes} bytes missing inside the message head")
        }
        Broken::HeadNotCaptured { bytes } => {
            format!("{} inside the message head", not_captured(*bytes, snaplen))
        }
        Broken::ChunkFramingNotCaptured { bytes } => {
            format!(
                "{} where the chunked framing is",
                not_captured(*bytes, snaplen)
            )
        }
        Broken::MalformedRequestLine { line } => {
            format!("malformed request line \"{}\"", shown(line))
        }
        Broken::MalformedStatusLine { line } => {
            format!("malformed status line \"{}\"", shown(line))
        }
        Broken::InvalidContentLength { value } => {
            format!("invalid Content-Length \"{}\"", shown(value))
        }
        Broken::ContentLengthOverflow { value } => {
            format!("Content-Length {} overflows u64", shown(value))
        }
        Broken::ConflictingContentLengths { first, second } => {
            format!("conflicting Content-Length values {first} and {second}")
        }
        Broken::RequestTransferEncodingNotChunked => {
            "request Transfer-Encoding does not end in chunked".into()
        }
        Broken::ChunkSizeLineTooLong => "chunk-size line too long".into(),
        Broken::StrayCrInChunkSize => "stray CR in chunk-size line".into(),
        Broken::MissingChunkSize => "missing chunk size".into(),
        Broken::InvalidChunkSize => "invalid chunk size".into(),
        Broken::ChunkSizeOverflow => "chunk size overflows u64".into(),
        Broken::MissingCrlfAfterChunkData => "missing CRLF after chunk data".into(),
        Broken::TrailerTooLarge => "trailer section too large".into(),
    }
}

fn cut(c: Cut) -> &'static str {
    match c {
        Cut::ConnectionClosed => "connection closed",
        Cut::InputEnded => "input ended",
        Cut::ProtocolSwitched => "protocol switched",
    }
}

fn skip_reason(r: SkipReason) -> &'static str {
    match r {
        SkipReason::CaptureStartedInsideMessage => "capture started inside a message",
        SkipReason::NotHttp => "not HTTP",
        SkipReason::NotAMessageStart => "data that is not an HTTP message start",
        SkipReason::AfterGap => "after a capture gap",
        SkipReason::AfterUnparseableMessage => "after an unparseable message",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sentence for `w` in a capture whose snaplen was 256.
    fn words(w: &HttpWarning) -> String {
        http_warning(w, Some(256))
    }
    use recvscope_http::Side::{Client as C, Server as S};

    fn incomplete(why: Broken) -> String {
        words(&HttpWarning::MessageIncomplete {
            side: S,
            txn: 3,
            why,
        })
    }

    #[test]
    fn bytes_the_snaplen_did_not_keep_are_not_captured_never_missing() {
        assert_eq!(
            words(&HttpWarning::BytesNotCapturedBetweenMessages { side: S, bytes: 40 }),
            "server: 40 bytes not captured (snaplen 256) between messages: the next message's start is not in the capture"
        );
        assert_eq!(
            words(&HttpWarning::MessageIncomplete {
                side: S,
                txn: 0,
                why: Broken::HeadNotCaptured { bytes: 52 }
            }),
            "server: transaction 0: 52 bytes not captured (snaplen 256) inside the message head; the rest of the message cannot be read from the capture"
        );
        assert_eq!(
            http_warning(
                &HttpWarning::MessageIncomplete {
                    side: S,
                    txn: 1,
                    why: Broken::ChunkFramingNotCaptured { bytes: 7 }
                },
                None
            ),
            "server: transaction 1: 7 bytes not captured (snaplen) where the chunked framing is; the rest of the message cannot be read from the capture"
        );
    }

    #[test]
    fn skipped_tells_each_reason() {
        let said = |side, bytes, why| words(&HttpWarning::Skipped { side, bytes, why });
        assert_eq!(
            said(C, 30, SkipReason::CaptureStartedInsideMessage),
            "client: skipped 30 bytes (capture started inside a message)"
        );
        assert_eq!(
            said(S, 21, SkipReason::NotHttp),
            "server: skipped 21 bytes (not HTTP)"
        );
        assert_eq!(
            said(C, 9, SkipReason::NotAMessageStart),
            "client: skipped 9 bytes (data that is not an HTTP message start)"
        );
        assert_eq!(
            said(S, 16, SkipReason::AfterGap),
            "server: skipped 16 bytes (after a capture gap)"
        );
        assert_eq!(
            said(S, 1, SkipReason::AfterUnparseableMessage),
            "server: skipped 1 bytes (after an unparseable message)"
        );
    }

    #[test]
    fn parser_stalled() {
        assert_eq!(
            words(&HttpWarning::ParserStalled { side: C }),
            "client: parser stalled; skipping"
        );
    }

    #[test]
    fn message_incomplete() {
        assert_eq!(
            words(&HttpWarning::MessageIncomplete {
                side: C,
                txn: 0,
                why: Broken::MissingInHead { bytes: 359 }
            }),
            "client: transaction 0: 359 bytes missing inside the message head; message incomplete"
        );
    }

    #[test]
    fn interim_broken() {
        assert_eq!(
            words(&HttpWarning::InterimBroken {
                status: 100,
                why: Broken::HeadTooLarge { max: 1024 }
            }),
            "server: interim 100 response: message head exceeds 1024 bytes"
        );
    }

    #[test]
    fn start_line_too_long() {
        assert_eq!(
            words(&HttpWarning::StartLineTooLong {
                side: S,
                max: 65536
            }),
            "server: start line exceeds the 65536-byte head limit"
        );
    }

    #[test]
    fn body_cut_tells_each_cut() {
        let said = |by| {
            words(&HttpWarning::BodyCut {
                side: C,
                txn: 2,
                by,
            })
        };
        assert_eq!(
            said(Cut::ConnectionClosed),
            "client: transaction 2: connection closed before the end of the body; message incomplete"
        );
        assert_eq!(
            said(Cut::InputEnded),
            "client: transaction 2: input ended before the end of the body; message incomplete"
        );
        assert_eq!(
            said(Cut::ProtocolSwitched),
            "client: transaction 2: protocol switched before the end of the body; message incomplete"
        );
    }

    #[test]
    fn close_delimited_body_cut() {
        assert_eq!(
            words(&HttpWarning::CloseDelimitedBodyCut {
                side: S,
                txn: 0,
                by: Cut::InputEnded
            }),
            "server: transaction 0: input ended before the server closed: close-delimited body may be truncated; message incomplete"
        );
    }

    #[test]
    fn request_chunked_with_content_length() {
        assert_eq!(
            words(&HttpWarning::RequestChunkedWithContentLength { txn: 4 }),
            "client: transaction 4: both Transfer-Encoding and Content-Length; chunked wins"
        );
    }

    #[test]
    fn response_transfer_encoding_with_content_length() {
        assert_eq!(
            words(&HttpWarning::ResponseTransferEncodingWithContentLength { status: 200 }),
            "server: status 200: both Transfer-Encoding and Content-Length; Transfer-Encoding wins"
        );
    }

    #[test]
    fn bytes_missing_between_messages() {
        assert_eq!(
            words(&HttpWarning::BytesMissingBetweenMessages {
                side: S,
                bytes: 100
            }),
            "server: 100 bytes missing between messages"
        );
    }

    #[test]
    fn bytes_missing_in_body() {
        assert_eq!(
            words(&HttpWarning::BytesMissingInBody {
                side: S,
                txn: 5,
                first_gap: 3038
            }),
            "server: transaction 5: bytes missing inside the body (first gap: 3038 bytes; the message's missing_bytes counts them all)"
        );
    }

    #[test]
    fn bytes_missing_past_body() {
        assert_eq!(
            words(&HttpWarning::BytesMissingPastBody {
                side: S,
                txn: 0,
                bytes: 45
            }),
            "server: transaction 0: 45 bytes missing past the body's known extent; message incomplete"
        );
    }

    #[test]
    fn tunnel_bytes_not_parsed() {
        assert_eq!(
            words(&HttpWarning::TunnelBytesNotParsed { side: C, bytes: 23 }),
            "client: 23 bytes after a protocol switch (101 or CONNECT) not parsed"
        );
    }

    #[test]
    fn too_many_pending_requests() {
        assert_eq!(
            words(&HttpWarning::TooManyPendingRequests { max: 1024, txn: 0 }),
            "client: more than 1024 requests awaiting a response; transaction 0 will not be paired"
        );
    }

    #[test]
    fn suppressed() {
        assert_eq!(
            words(&HttpWarning::Suppressed { count: 12 }),
            "12 further warnings suppressed"
        );
    }

    #[test]
    fn head_cut_tells_each_cut() {
        assert_eq!(
            incomplete(Broken::HeadCut {
                by: Cut::ConnectionClosed
            }),
            "server: transaction 3: connection closed inside the message head; message incomplete"
        );
        assert_eq!(
            incomplete(Broken::HeadCut {
                by: Cut::InputEnded
            }),
            "server: transaction 3: input ended inside the message head; message incomplete"
        );
        assert_eq!(
            incomplete(Broken::HeadCut {
                by: Cut::ProtocolSwitched
            }),
            "server: transaction 3: protocol switched inside the message head; message incomplete"
        );
    }

    #[test]
    fn head_too_large() {
        assert_eq!(
            incomplete(Broken::HeadTooLarge { max: 65536 }),
            "server: transaction 3: message head exceeds 65536 bytes; message incomplete"
        );
    }

    #[test]
    fn missing_in_head() {
        assert_eq!(
            incomplete(Broken::MissingInHead { bytes: 10 }),
            "server: transaction 3: 10 bytes missing inside the message head; message incomplete"
        );
    }

    #[test]
    fn malformed_request_line_quotes_its_excerpt() {
        assert_eq!(
            incomplete(Broken::MalformedRequestLine {
                line: "get / HTTP/1.1\u{1}".into()
            }),
            "server: transaction 3: malformed request line \"get / HTTP/1.1\\x01\"; message incomplete"
        );
    }

    #[test]
    fn malformed_status_line_quotes_its_excerpt() {
        assert_eq!(
            incomplete(Broken::MalformedStatusLine {
                line: "HTTP/1.1 20\r0…".into()
            }),
            "server: transaction 3: malformed status line \"HTTP/1.1 20\\x0d0…\"; message incomplete"
        );
    }

    #[test]
    fn invalid_content_length_quotes_its_value() {
        assert_eq!(
            incomplete(Broken::InvalidContentLength {
                value: "12abc".into()
            }),
            "server: transaction 3: invalid Content-Length \"12abc\"; message incomplete"
        );
    }

    #[test]
    fn content_length_overflow_shows_its_value_unquoted() {
        assert_eq!(
            incomplete(Broken::ContentLengthOverflow {
                value: "18446744073709551616".into()
            }),
            "server: transaction 3: Content-Length 18446744073709551616 overflows u64; message incomplete"
        );
    }

    #[test]
    fn conflicting_content_lengths() {
        assert_eq!(
            incomplete(Broken::ConflictingContentLengths {
                first: 5,
                second: 6
            }),
            "server: transaction 3: conflicting Content-Length values 5 and 6; message incomplete"
        );
    }

    #[test]
    fn request_transfer_encoding_not_chunked() {
        assert_eq!(
            incomplete(Broken::RequestTransferEncodingNotChunked),
            "server: transaction 3: request Transfer-Encoding does not end in chunked; message incomplete"
        );
    }

    #[test]
    fn chunk_size_line_too_long() {
        assert_eq!(
            incomplete(Broken::ChunkSizeLineTooLong),
            "server: transaction 3: chunk-size line too long; message incomplete"
        );
    }

    #[test]
    fn stray_cr_in_chunk_size() {
        assert_eq!(
            incomplete(Broken::StrayCrInChunkSize),
            "server: transaction 3: stray CR in chunk-size line; message incomplete"
        );
    }

    #[test]
    fn missing_chunk_size() {
        assert_eq!(
            incomplete(Broken::MissingChunkSize),
            "server: transaction 3: missing chunk size; message incomplete"
        );
    }

    #[test]
    fn invalid_chunk_size() {
        assert_eq!(
            incomplete(Broken::InvalidChunkSize),
            "server: transaction 3: invalid chunk size; message incomplete"
        );
    }

    #[test]
    fn chunk_size_overflow() {
        assert_eq!(
            incomplete(Broken::ChunkSizeOverflow),
            "server: transaction 3: chunk size overflows u64; message incomplete"
        );
    }

    #[test]
    fn missing_crlf_after_chunk_data() {
        assert_eq!(
            incomplete(Broken::MissingCrlfAfterChunkData),
            "server: transaction 3: missing CRLF after chunk data; message incomplete"
        );
    }

    #[test]
    fn trailer_too_large() {
        assert_eq!(
            incomplete(Broken::TrailerTooLarge),
            "server: transaction 3: trailer section too large; message incomplete"
        );
    }

    #[test]
    fn json_names_the_kind_and_carries_the_figures() {
        let w = HttpWarning::MessageIncomplete {
            side: S,
            txn: 0,
            why: Broken::HeadTooLarge { max: 1024 },
        };
        assert_eq!(
            serde_json::to_value(&w).ok(),
            Some(serde_json::json!({
                "kind": "message_incomplete",
                "side": "server",
                "txn": 0,
                "why": {"kind": "head_too_large", "max": 1024}
            }))
        );
        let w = HttpWarning::Skipped {
            side: C,
            bytes: 9,
            why: SkipReason::NotAMessageStart,
        };
        assert_eq!(
            serde_json::to_value(&w).ok(),
            Some(serde_json::json!({
                "kind": "skipped",
                "side": "client",
                "bytes": 9,
                "why": "not_a_message_start"
            }))
        );
    }
}
