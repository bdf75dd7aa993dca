//! Reading an HTTP/1.x request head: where it ends, and what it asks for. No I/O.
//!
//! The server is lenient where real servers are (the book sends an absolute URI and may
//! end its lines with a bare `\n`) and strict where leniency would make the framing of
//! the next request on the connection a guess.

/// The largest request head accepted; a longer one gets 431.
pub(crate) const MAX_HEAD: usize = 64 * 1024;

/// HTTP version of a request: it decides the framing and whether the connection stays
/// open. Every response says HTTP/1.1, the server's own version, as Apache does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Version {
    Http10,
    Http11,
}

/// The methods served; everything else is answered with 501.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Head,
}

/// A request the server can answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub(crate) method: Method,
    /// The path part of the target, still percent-encoded, without query or fragment.
    /// Absolute-form targets (`http://host:port/path`) are reduced to their path.
    pub(crate) path: String,
    pub(crate) version: Version,
    /// Whether the connection stays open after the response.
    pub(crate) keep_alive: bool,
    /// Bytes of request body that follow the head (`Content-Length`), to be skipped.
    pub(crate) body_length: u64,
    /// The request line as received (lossily decoded), for logs.
    pub(crate) line: String,
}

/// Why a request head was not accepted; the response status and the version to use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub(crate) status: u16,
    pub(crate) version: Version,
    pub(crate) why: &'static str,
    /// The request line as far as it could be read, for logs.
    pub(crate) line: String,
}

/// Where a complete head lies in a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadSpan {
    /// Offset of the request line: blank lines before it are skipped, as RFC 9112 allows.
    pub start: usize,
    /// Offset just past the blank line that ends the head: where a body or the next
    /// request begins.
    pub end: usize,
}

/// Finds the end of the first request head in `buf`: the first empty line, whether lines
/// end in `\r\n` or a bare `\n` (so `\r\n\r\n`, `\n\n` and mixtures all count).
///
/// Returns `None` while the head is incomplete.
pub fn find_head(buf: &[u8]) -> Option<HeadSpan> {
    let mut start = 0;
    loop {
        match &buf[start..] {
            [b'\r', b'\n', ..] => start += 2,
            [b'\n', ..] => start += 1,
            [b'\r'] | [] => return None,
            _ => break,
        }
    }
    let mut i = start;
    while let Some(nl) = buf[i..].iter().position(|&b| b == b'\n') {
        let after = i + nl + 1;
        match &buf[after..] {
            [b'\n', ..] => {
                return Some(HeadSpan {
                    start,
                    end: after + 1,
                });
            }
            [b'\r', b'\n', ..] => {
                return Some(HeadSpan {
                    start,
                    end: after + 2,
                });
            }
            _ => i = after,
        }
    }
    None
}

/// Parses a complete head (the bytes `find_head` delimited).
pub fn parse(head: &[u8]) -> Result<Request, Rejection> {
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let first = lines.next().unwrap_or_default();
    let line = String::from_utf8_lossy(first).into_owned();
    let reject = |status, version, why| Rejection {
        status,
        version,
        why,
        line: line.clone(),
    };

    let mut parts = first.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(reject(
            400,
            Version::Http10,
            "request line is not METHOD TARGET VERSION",
        ));
    };
    let version = match version {
        b"HTTP/1.0" => Version::Http10,
        b"HTTP/1.1" => Version::Http11,
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', minor @ ..] if is_digits(minor) => {
            Version::Http11
        }
        [b'H', b'T', b'T', b'P', b'/', b'2'..=b'9', b'.', b'0'..=b'9'] => {
            return Err(reject(505, Version::Http11, "HTTP version not supported"));
        }
        _ => return Err(reject(400, Version::Http10, "bad HTTP version")),
    };
    if method.is_empty() || !method.iter().all(|&b| is_tchar(b)) {
        return Err(reject(400, version, "bad method"));
    }
    let method = match method {
        b"GET" => Method::Get,
        b"HEAD" => Method::Head,
        _ => return Err(reject(501, version, "method not implemented")),
    };
    let Some(path) = origin_path(target) else {
        return Err(reject(400, version, "bad request target"));
    };

    let mut connection_close = false;
    let mut connection_keep_alive = false;
    let mut body_length: Option<u64> = None;
    for field in lines.take_while(|l| !l.is_empty()) {
        let Some(colon) = field.iter().position(|&b| b == b':') else {
            return Err(reject(400, version, "header line without a colon"));
        };
        let (name, value) = (&field[..colon], trim(&field[colon + 1..]));
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            return Err(reject(400, version, "bad header name"));
        }
        if name.eq_ignore_ascii_case(b"connection") {
            for token in value.split(|&b| b == b',').map(trim) {
                connection_close |= token.eq_ignore_ascii_case(b"close");
                connection_keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        } else if name.eq_ignore_ascii_case(b"content-length") {
            let n = std::str::from_utf8(value)
                .ok()
                .filter(|v| is_digits(v.as_bytes()))
                .and_then(|v| v.parse::<u64>().ok());
            match (n, body_length) {
                (None, _) => return Err(reject(400, version, "bad Content-Length")),
                (Some(n), Some(prev)) if n != prev => {
                    return Err(reject(400, version, "conflicting Content-Length"));
                }
                (Some(n), _) => body_length = Some(n),
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            return Err(reject(
                501,
                version,
                "request bodies with Transfer-Encoding",
            ));
        }
    }

    let keep_alive = match version {
        Version::Http11 => !connection_close,
        Version::Http10 => connection_keep_alive && !connection_close,
    };
    Ok(Request {
        method,
        path,
        version,
        keep_alive,
        body_length: body_length.unwrap_or(0),
        line,
    })
}

/// The path of an origin-form (`/a/b?q`) or absolute-form (`http://host:port/a/b?q`)
/// target, without query or fragment. `None` for anything else.
fn origin_path(target: &[u8]) -> Option<String> {
    let target = std::str::from_utf8(target).ok()?;
    if target.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return None;
    }
    let path = if target.starts_with('/') {
        target
    } else {
        let scheme_end = target.find("://")?;
        if !target[..scheme_end].eq_ignore_ascii_case("http") {
            return None;
        }
        let rest = &target[scheme_end + 3..];
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        if authority_end == 0 {
            return None;
        }
        match &rest[authority_end..] {
            p if p.starts_with('/') => p,
            _ => "/",
        }
    };
    let end = path.find(['?', '#']).unwrap_or(path.len());
    Some(path[..end].to_string())
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

fn is_digits(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_digit)
}

/// RFC 9110 token characters.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(raw: &[u8]) -> Result<Request, Rejection> {
        let span = find_head(raw).expect("complete head");
        parse(&raw[span.start..span.end])
    }

    #[test]
    fn the_books_absolute_form_request_is_understood() {
        let r = parse_all(b"GET http://data.pr4e.org/cover3.jpg HTTP/1.0\r\n\r\n").unwrap();
        assert_eq!(r.method, Method::Get);
        assert_eq!(r.path, "/cover3.jpg");
        assert_eq!(r.version, Version::Http10);
        assert!(!r.keep_alive);
        assert_eq!(r.line, "GET http://data.pr4e.org/cover3.jpg HTTP/1.0");
    }

    #[test]
    fn absolute_form_with_port_query_and_no_path() {
        let r = parse_all(b"GET http://127.0.0.1:8080/a/b.jpg?x=1 HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(r.path, "/a/b.jpg");
        let r = parse_all(b"HEAD HTTP://localhost:8080 HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!((r.method, r.path.as_str()), (Method::Head, "/"));
        let r = parse_all(b"GET http://h?q HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(r.path, "/");
        for bad in ["ftp://h/x", "http:///x", "x/y", "*", "h:80"] {
            let raw = format!("GET {bad} HTTP/1.1\r\n\r\n");
            assert_eq!(parse_all(raw.as_bytes()).unwrap_err().status, 400, "{bad}");
        }
    }

    #[test]
    fn head_ends_at_the_first_empty_line_with_either_line_ending() {
        let crlf = b"GET / HTTP/1.0\r\nHost: a\r\n\r\nNEXT";
        assert_eq!(
            find_head(crlf),
            Some(HeadSpan {
                start: 0,
                end: crlf.len() - 4
            })
        );
        let lf = b"GET http://data.pr4e.org/cover3.jpg HTTP/1.0\n\nNEXT";
        assert_eq!(
            find_head(lf),
            Some(HeadSpan {
                start: 0,
                end: lf.len() - 4
            })
        );
        let mixed = b"GET / HTTP/1.0\r\nA: b\n\r\nX";
        assert_eq!(find_head(mixed).unwrap().end, mixed.len() - 1);
        assert!(parse_all(lf).is_ok());
        assert_eq!(parse_all(b"GET / HTTP/1.1\nHost: x\n\n").unwrap().path, "/");
    }

    #[test]
    fn incomplete_heads_are_not_found() {
        for partial in [
            &b""[..],
            b"\r",
            b"\r\n",
            b"GET / HTTP/1.0\r\n",
            b"GET / HTTP/1.0\r\n\r",
        ] {
            assert_eq!(find_head(partial), None, "{partial:?}");
        }
    }

    #[test]
    fn blank_lines_before_a_request_are_skipped() {
        let raw = b"\r\n\nGET / HTTP/1.1\r\n\r\n";
        assert_eq!(
            find_head(raw),
            Some(HeadSpan {
                start: 3,
                end: raw.len()
            })
        );
    }

    #[test]
    fn keep_alive_follows_the_version_and_connection_header() {
        let ka = |raw: &[u8]| parse_all(raw).unwrap().keep_alive;
        assert!(ka(b"GET / HTTP/1.1\r\n\r\n"));
        assert!(!ka(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
        assert!(!ka(
            b"GET / HTTP/1.1\r\nconnection: Keep-Alive, CLOSE\r\n\r\n"
        ));
        assert!(!ka(b"GET / HTTP/1.0\r\n\r\n"));
        assert!(ka(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
        assert!(ka(b"GET / HTTP/1.2\r\n\r\n"));
    }

    #[test]
    fn methods_other_than_get_and_head_are_not_implemented() {
        let e = parse_all(b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n").unwrap_err();
        assert_eq!((e.status, e.version), (501, Version::Http11));
        assert_eq!(
            parse_all(b"DELETE /x HTTP/1.0\r\n\r\n").unwrap_err().status,
            501
        );
        assert_eq!(
            parse_all(b"G(T / HTTP/1.0\r\n\r\n").unwrap_err().status,
            400
        );
    }

    #[test]
    fn malformed_heads_are_bad_requests() {
        for raw in [
            &b"GET /\r\n\r\n"[..],
            b"GET  / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1 x\r\n\r\n",
            b"GET / http/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nno colon here\r\n\r\n",
            b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
            b"GET / HTTP/1.1\r\n: empty\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"GET /\x01 HTTP/1.1\r\n\r\n",
            b"GET /\xff HTTP/1.1\r\n\r\n",
        ] {
            let e = parse_all(raw).unwrap_err();
            assert_eq!(e.status, 400, "{:?}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn other_http_versions() {
        assert_eq!(
            parse_all(b"GET / HTTP/2.0\r\n\r\n").unwrap_err().status,
            505
        );
        assert_eq!(
            parse_all(b"GET / HTTP/1.x\r\n\r\n").unwrap_err().status,
            400
        );
    }

    #[test]
    fn request_bodies_are_measured_so_they_can_be_skipped() {
        let r = parse_all(b"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\n").unwrap();
        assert_eq!(r.body_length, 5);
        let e = parse_all(b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap_err();
        assert_eq!(e.status, 501);
    }
}
