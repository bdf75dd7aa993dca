//! The reply as the application sees it: bytes from `recv()`, split into
//! header and body the way the book does, framed by the HTTP parser so
//! Content-Length, chunked and close-delimited bodies all end right.

use crate::http::{self, Conversation, Side};
use crate::wire::WireText;

/// The largest header `fetch` waits for before giving up on a blank line.
pub(crate) const MAX_HEADER: usize = 64 * 1024;

/// Why the reply cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum ResponseError {
    #[error("the server sent no bytes before closing the connection")]
    Empty,
    #[error("the reply is not HTTP: it starts with {0:?} instead of \"HTTP/\"")]
    NotHttp(String),
    #[error(
        "the server closed the connection after {0} bytes, before the end of the HTTP header (no blank line yet)"
    )]
    ClosedInHeader(u64),
    #[error("no blank line after {MAX_HEADER} bytes of HTTP header: this is not a usable reply")]
    NoBlankLine,
    #[error("the status line {line:?} is malformed: {why}")]
    BadStatusLine { line: String, why: StatusLineFault },
}

/// What is wrong with a status line that starts with `HTTP/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum StatusLineFault {
    #[error("the status code must be 3 digits")]
    Code,
    #[error("it must read HTTP/1.x, a space, a 3-digit code, a space and a reason")]
    Shape,
}

/// What the reply turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResponseFacts {
    /// Bytes before the blank line, as the book prints it.
    pub header_length: u64,
    /// Bytes of the blank line ending the header: 4 for `\r\n\r\n`, 2 for `\n\n`.
    pub header_terminator: u8,
    /// The header, as text (invalid UTF-8 replaced).
    pub header: WireText,
    pub status: u16,
    pub reason: WireText,
    pub content_length: Option<u64>,
    pub chunked: bool,
    /// Decoded body bytes (de-chunked).
    pub body_bytes: u64,
    /// The body ended where its framing says it ends.
    pub complete: bool,
    /// Why the parser could not read the reply to its end, when it says.
    pub broken: Option<http::Broken>,
    /// Bytes that arrived after the body's end (past its Content-Length
    /// or its last chunk): not part of the reply, and not saved.
    pub extra_bytes: u64,
}

/// Receives the decoded body.
pub(crate) trait Body {
    fn write(&mut self, bytes: &[u8]);
}

/// Splits recv() data into header and body.
pub(crate) struct ResponseReader {
    head: Vec<u8>,
    head_end: Option<(usize, u8)>,
    received: u64,
    conv: Conversation,
}

struct ServerBody<'a>(&'a mut dyn Body);

impl http::BodySink for ServerBody<'_> {
    fn body(&mut self, txn: usize, side: Side, bytes: &[u8]) {
        if txn == 0 && side == Side::Server {
            self.0.write(bytes);
        }
    }
    fn end(&mut self, _: usize, _: Side, _: bool) {}
}

impl ResponseReader {
    /// A reader for the reply to `request` (which decides, for example,
    /// whether a body may follow).
    pub(crate) fn new(request: &[u8]) -> ResponseReader {
        let mut conv = Conversation::new(http::Limits::default());
        conv.data(Side::Client, 0, request, &mut http::NoBodies);
        ResponseReader {
            head: Vec::new(),
            head_end: None,
            received: 0,
            conv,
        }
    }

    /// The bytes of one recv().
    pub(crate) fn data(&mut self, bytes: &[u8], body: &mut dyn Body) -> Result<(), ResponseError> {
        self.received += bytes.len() as u64;
        if self.head_end.is_none() {
            let from = self.head.len().saturating_sub(3);
            let room = MAX_HEADER + 4 - self.head.len();
            self.head.extend_from_slice(&bytes[..bytes.len().min(room)]);
            check_start(&self.head)?;
            self.head_end = head_end(&self.head, from);
            if self.head_end.is_none() && self.head.len() > MAX_HEADER {
                return Err(ResponseError::NoBlankLine);
            }
        }
        self.conv
            .data(Side::Server, 0, bytes, &mut ServerBody(body));
        Ok(())
    }

    /// The server closed the connection (recv() returned 0).
    pub(crate) fn finish(mut self, body: &mut dyn Body) -> Result<ResponseFacts, ResponseError> {
        if self.received == 0 {
            return Err(ResponseError::Empty);
        }
        if !self.head.starts_with(b"HTTP/") {
            return Err(ResponseError::NotHttp(preview(&self.head)));
        }
        let Some((len, term)) = self.head_end else {
            return Err(ResponseError::ClosedInHeader(self.received));
        };
        let mut sink = ServerBody(body);
        self.conv.close(Side::Server, 0, &mut sink);
        let summary = self.conv.finish(&mut sink);
        let broken = summary.warnings.iter().find_map(|w| match w {
            http::HttpWarning::MessageIncomplete {
                side: Side::Server,
                txn: 0,
                why,
            } => Some(why.clone()),
            _ => None,
        });
        let bad_line = || {
            let line = status_line(&self.head);
            ResponseError::BadStatusLine {
                why: status_line_fault(&line),
                line,
            }
        };
        if let Some(http::Broken::MalformedStatusLine { .. }) = broken {
            return Err(bad_line());
        }
        let response = summary
            .transactions
            .first()
            .and_then(|t| t.response.clone())
            .ok_or_else(bad_line)?;
        let extra_bytes = if response.complete && response.interim.is_empty() {
            self.received.saturating_sub(response.wire_bytes)
        } else {
            0
        };
        Ok(ResponseFacts {
            header_length: len as u64,
            header_terminator: term,
            header: String::from_utf8_lossy(&self.head[..len])
                .into_owned()
                .into(),
            status: response.status,
            reason: response.reason,
            content_length: response.content_length,
            chunked: response.chunked,
            body_bytes: response.body_bytes,
            complete: response.complete,
            broken,
            extra_bytes,
        })
    }
}

/// The head's first line, without its line end.
fn status_line(head: &[u8]) -> String {
    let end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let line = String::from_utf8_lossy(&head[..end]);
    line.trim_end_matches('\r').chars().take(64).collect()
}

/// Why `line` (which starts with `HTTP/`) is not a status line.
fn status_line_fault(line: &str) -> StatusLineFault {
    match line.split(' ').nth(1) {
        Some(code) if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) => {
            StatusLineFault::Code
        }
        _ => StatusLineFault::Shape,
    }
}

/// Fails as soon as the first bytes cannot begin a status line.
fn check_start(head: &[u8]) -> Result<(), ResponseError> {
    let n = head.len().min(5);
    if head[..n] != b"HTTP/"[..n] {
        return Err(ResponseError::NotHttp(preview(head)));
    }
    Ok(())
}

fn preview(head: &[u8]) -> String {
    String::from_utf8_lossy(&head[..head.len().min(24)]).into_owned()
}

/// Where the header ends: its length before the blank line and the
/// blank line's length (`\r\n\r\n`, `\n\n` or a mixture), searching from `from`.
fn head_end(buf: &[u8], from: usize) -> Option<(usize, u8)> {
    let mut i = from;
    while i < buf.len() {
        if buf[i] == b'\n' {
            let next = &buf[i + 1..];
            let second = if next.starts_with(b"\n") {
                Some(1)
            } else if next.starts_with(b"\r\n") {
                Some(2)
            } else {
                None
            };
            if let Some(second) = second {
                let start = if i > 0 && buf[i - 1] == b'\r' {
                    i - 1
                } else {
                    i
                };
                let term = (i - start + 1 + second) as u8;
                return Some((start, term));
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect(Vec<u8>);
    impl Body for Collect {
        fn write(&mut self, bytes: &[u8]) {
            self.0.extend_from_slice(bytes);
        }
    }

    const REQ: &[u8] = b"GET http://h/x HTTP/1.0\r\n\r\n";

    fn read(parts: &[&[u8]]) -> (Result<ResponseFacts, ResponseError>, Vec<u8>) {
        let mut r = ResponseReader::new(REQ);
        let mut body = Collect::default();
        for p in parts {
            if let Err(e) = r.data(p, &mut body) {
                return (Err(e), body.0);
            }
        }
        (r.finish(&mut body), body.0)
    }

    #[test]
    fn header_split_at_the_blank_line_like_the_book() {
        let (facts, body) = read(&[
            b"HTTP/1.1 200 OK\r\nContent-Le",
            b"ngth: 5\r\n\r",
            b"\nhel",
            b"lo",
        ]);
        let facts = facts.unwrap();
        assert_eq!(facts.header_length, 34);
        assert_eq!(facts.header_terminator, 4);
        assert_eq!(facts.header, "HTTP/1.1 200 OK\r\nContent-Length: 5");
        assert_eq!((facts.status, facts.content_length), (200, Some(5)));
        assert_eq!(body, b"hello");
        assert!(facts.complete);
    }

    #[test]
    fn bare_newlines_end_the_header_too() {
        let (facts, body) = read(&[b"HTTP/1.0 200 OK\nX: y\n\nbody"]);
        let facts = facts.unwrap();
        assert_eq!((facts.header_length, facts.header_terminator), (20, 2));
        assert_eq!(body, b"body");
        assert!(facts.complete, "close-delimited body ends at the close");
    }

    #[test]
    fn chunked_body_is_decoded() {
        let (facts, body) = read(&[
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
            b"2\r\nde\r\n0\r\n\r\n",
        ]);
        let facts = facts.unwrap();
        assert!(facts.chunked && facts.complete);
        assert_eq!(body, b"abcde");
    }

    #[test]
    fn a_status_code_of_six_digits_reads_as_a_malformed_status_line() {
        let e = read(&[b"HTTP/1.1 999999 OK\r\n\r\n"]).0.unwrap_err();
        assert_eq!(
            e.to_string(),
            "the status line \"HTTP/1.1 999999 OK\" is malformed: the status code must be 3 digits"
        );
    }

    #[test]
    fn bytes_past_the_content_length_are_counted() {
        let (facts, body) = read(&[b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhello"]);
        let facts = facts.unwrap();
        assert_eq!((facts.complete, facts.extra_bytes), (true, 3));
        assert_eq!(body, b"he");
    }

    #[test]
    fn broken_chunked_framing_is_named() {
        let (facts, body) =
            read(&[b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n"]);
        let facts = facts.unwrap();
        assert_eq!(
            (facts.complete, facts.broken),
            (false, Some(http::Broken::InvalidChunkSize))
        );
        assert_eq!(body, b"hello");
    }

    #[test]
    fn body_shorter_than_content_length_is_incomplete() {
        let (facts, body) = read(&[b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"]);
        let facts = facts.unwrap();
        assert_eq!((facts.body_bytes, facts.complete), (3, false));
        assert_eq!(body, b"abc");
    }

    #[test]
    fn each_broken_reply_has_its_own_error() {
        assert_eq!(read(&[]).0, Err(ResponseError::Empty));
        assert_eq!(
            read(&[b"SSH-2.0-OpenSSH\r\n"]).0,
            Err(ResponseError::NotHttp("SSH-2.0-OpenSSH\r\n".into()))
        );
        assert_eq!(read(&[b"HTT"]).0, Err(ResponseError::NotHttp("HTT".into())));
        assert_eq!(
            read(&[b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"]).0,
            Err(ResponseError::ClosedInHeader(36))
        );
        assert_eq!(
            read(&[b"HTTP/1.1 999999 OK\r\nContent-Length: 2\r\n\r\nhi"]).0,
            Err(ResponseError::BadStatusLine {
                line: "HTTP/1.1 999999 OK".into(),
                why: StatusLineFault::Code
            })
        );
        let endless = vec![b'a'; MAX_HEADER];
        assert_eq!(
            read(&[b"HTTP/1.1 200 OK\r\nX: ", &endless]).0,
            Err(ResponseError::NoBlankLine)
        );
    }
}
