//! Parsing of one buffered message head (start line + header fields).
//!
//! Everything here is lenient and total: any byte sequence yields a value,
//! with `ok` flags / [`Broken`] reasons telling the caller what was malformed.

use std::borrow::Cow;

use recvscope_wire::WireText;

use super::Broken;

/// A message head split into its start line and its header fields,
/// borrowing from the buffered head wherever it is valid UTF-8.
#[derive(Debug, Default)]
pub(super) struct Head<'a> {
    /// The start line, without its line ending, lossily decoded.
    pub start: Cow<'a, str>,
    /// Header fields in order: (name as sent, trimmed value).
    fields: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

/// Optional whitespace around field values (RFC 9110 OWS).
fn is_ows(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn trim_ows(s: &str) -> &str {
    s.trim_matches(is_ows)
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// A field line's name and trimmed value; `None` without a colon or a name.
fn field(line: &str) -> Option<(&str, &str)> {
    let (name, value) = line.split_once(':')?;
    let name = trim_ows(name);
    (!name.is_empty()).then(|| (name, trim_ows(value)))
}

/// At most 64 characters of `s` (then `…`), for quoting input in warnings.
pub(super) fn short(s: &str) -> WireText {
    let mut out: String = s.chars().take(64).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out.into()
}

impl<'a> Head<'a> {
    /// Splits `buf` into start line and fields. With `complete` false the
    /// head was cut short: a trailing partial field line is ignored (a
    /// partial start line is kept, it is all there is).
    pub(crate) fn parse(buf: &'a [u8], complete: bool) -> Head<'a> {
        let (start, after) = match memchr::memchr(b'\n', buf) {
            Some(i) => (&buf[..i], &buf[i + 1..]),
            None => (buf, &buf[buf.len()..]),
        };
        let lines = if complete {
            after
        } else {
            memchr::memrchr(b'\n', after).map_or(&after[..0], |j| &after[..j])
        };
        let mut fields: Vec<(Cow<'a, str>, Cow<'a, str>)> = Vec::new();
        for line in lines.split(|&b| b == b'\n') {
            let line = strip_cr(line);
            if line.is_empty() {
                break;
            }
            let text = String::from_utf8_lossy(line);
            if line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
                // obs-fold: continuation of the previous field's value.
                if let Some((_, value)) = fields.last_mut() {
                    let more = trim_ows(&text);
                    if !more.is_empty() {
                        let value = value.to_mut();
                        if !value.is_empty() {
                            value.push(' ');
                        }
                        value.push_str(more);
                    }
                }
                continue;
            }
            let field = match text {
                Cow::Borrowed(t) => field(t).map(|(n, v)| (Cow::Borrowed(n), Cow::Borrowed(v))),
                Cow::Owned(t) => {
                    field(&t).map(|(n, v)| (n.to_string().into(), v.to_string().into()))
                }
            };
            fields.extend(field);
        }
        Head {
            start: String::from_utf8_lossy(strip_cr(start)),
            fields,
        }
    }

    /// Values of every field called `name`, in any case.
    fn all<'s, 'n>(&'s self, name: &'n str) -> impl Iterator<Item = &'s str> + use<'s, 'a, 'n> {
        self.fields
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }

    /// First value of field `name` (lower-case), if present and non-empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.all(name).next().filter(|v| !v.is_empty())
    }

    /// Whether a field called `name` (lower-case) is present.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.all(name).next().is_some()
    }

    /// Comma-separated list elements of every `name` field, trimmed, non-empty.
    fn list<'s, 'n>(&'s self, name: &'n str) -> impl Iterator<Item = &'s str> + use<'s, 'a, 'n> {
        self.all(name)
            .flat_map(|v| v.split(','))
            .map(trim_ows)
            .filter(|s| !s.is_empty())
    }

    /// The Content-Length, checking every occurrence: `Ok(None)` when absent,
    /// `Err` for a non-numeric, overflowing or conflicting value. Repeated
    /// identical values (`42, 42`) are accepted (RFC 9110 §8.6).
    pub(crate) fn content_length(&self) -> Result<Option<u64>, Broken> {
        let mut found: Option<u64> = None;
        for raw in self.all("content-length") {
            for part in raw.split(',').map(trim_ows) {
                if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(Broken::InvalidContentLength { value: short(raw) });
                }
                let Ok(value) = part.parse::<u64>() else {
                    return Err(Broken::ContentLengthOverflow { value: short(part) });
                };
                match found {
                    Some(prev) if prev != value => {
                        return Err(Broken::ConflictingContentLengths {
                            first: prev,
                            second: value,
                        });
                    }
                    _ => found = Some(value),
                }
            }
        }
        Ok(found)
    }

    /// `None` without a Transfer-Encoding (obsolete `identity` codings are
    /// ignored); otherwise whether the last coding is `chunked`.
    pub(crate) fn chunked(&self) -> Option<bool> {
        let mut last: Option<String> = None;
        for coding in self.list("transfer-encoding") {
            let name = trim_ows(coding.split(';').next().unwrap_or_default()).to_ascii_lowercase();
            if name != "identity" {
                last = Some(name);
            }
        }
        last.map(|name| name == "chunked")
    }

    /// Persistence per RFC 9112 §9.3: `close` wins; HTTP/1.0 needs an
    /// explicit `keep-alive`; later versions persist by default.
    pub(crate) fn keep_alive(&self, version: &str) -> bool {
        let mut close = false;
        let mut keep = false;
        for token in self.list("connection") {
            close |= token.eq_ignore_ascii_case("close");
            keep |= token.eq_ignore_ascii_case("keep-alive");
        }
        if close {
            false
        } else if version == "HTTP/1.0" {
            keep
        } else {
            true
        }
    }

    /// Whether the request carries `Expect: 100-continue`.
    pub(crate) fn expect_continue(&self) -> bool {
        self.list("expect")
            .any(|v| v.eq_ignore_ascii_case("100-continue"))
    }
}

/// `HTTP/1.` followed by one digit.
pub(super) fn valid_version(v: &str) -> bool {
    v.len() == 8 && v.starts_with("HTTP/1.") && v.as_bytes().get(7).is_some_and(u8::is_ascii_digit)
}

/// A request line split leniently; `ok` when it is well formed.
#[derive(Debug)]
pub(super) struct RequestLine {
    pub method: String,
    pub uri: String,
    pub version: String,
    pub ok: bool,
}

/// Splits `METHOD SP request-target SP HTTP-version`. The target is taken
/// as everything between the first and the last space, so a target with
/// stray spaces still yields something.
pub(super) fn request_line(line: &str) -> RequestLine {
    let line = trim_ows(line);
    let (method, rest) = line.split_once(is_ows).unwrap_or((line, ""));
    let rest = trim_ows(rest);
    let (uri, version) = match rest.rsplit_once(is_ows) {
        Some((uri, version)) if version.starts_with("HTTP/") => (trim_ows(uri), version),
        _ => (rest, ""),
    };
    let ok = !method.is_empty()
        && method
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b == b'-' || b == b'_')
        && !uri.is_empty()
        && valid_version(version);
    RequestLine {
        method: method.to_string(),
        uri: uri.to_string(),
        version: version.to_string(),
        ok,
    }
}

/// A status line split leniently; `status` is 0 when unreadable.
#[derive(Debug)]
pub(super) struct StatusLine {
    pub version: String,
    pub status: u16,
    pub reason: String,
    pub ok: bool,
}

/// Splits `HTTP-version SP 3DIGIT [SP reason]` (the reason may be absent).
pub(super) fn status_line(line: &str) -> StatusLine {
    let (version, rest) = line.split_once(' ').unwrap_or((line, ""));
    let rest = rest.trim_start_matches(' ');
    let status = rest
        .get(..3)
        .filter(|code| code.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|code| code.parse::<u16>().ok());
    let after = rest.get(3..).unwrap_or_default();
    let ok = status.is_some_and(|s| s >= 100)
        && (after.is_empty() || after.starts_with(is_ows))
        && valid_version(version);
    StatusLine {
        version: version.to_string(),
        status: status.unwrap_or(0),
        reason: trim_ows(after).to_string(),
        ok,
    }
}

/// The host a request is for: the authority of an absolute-form target
/// (which RFC 9112 §3.2.2 says overrides Host), the target of CONNECT
/// (authority-form), else the Host field.
pub(super) fn request_host(method: &str, uri: &str, head: &Head) -> Option<WireText> {
    if let Some((_, after)) = uri.split_once("://").filter(|_| !uri.starts_with('/')) {
        let authority = after.split(['/', '?', '#']).next().unwrap_or_default();
        let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
        if !authority.is_empty() {
            return Some(authority.into());
        }
    }
    if method == "CONNECT" && !uri.is_empty() {
        return Some(uri.into());
    }
    head.get("host").map(WireText::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'h>(head: &'h Head<'_>) -> Vec<(&'h str, &'h str)> {
        head.fields
            .iter()
            .map(|(n, v)| (n.as_ref(), v.as_ref()))
            .collect()
    }

    #[test]
    fn fields_are_split_trimmed_and_found_in_any_case() {
        let head = Head::parse(
            b"HTTP/1.1 200 OK\r\nContent-Length:  42 \r\nno colon\r\n: no name\r\nX-A:\t\r\n\r\nbody: no",
            true,
        );
        assert_eq!(head.start, "HTTP/1.1 200 OK");
        assert_eq!(fields(&head), [("Content-Length", "42"), ("X-A", "")]);
        assert_eq!(head.get("content-length"), Some("42"));
        assert!(head.has("x-a"));
        assert_eq!(head.get("x-a"), None, "present but empty");
    }

    #[test]
    fn a_head_cut_short_drops_its_partial_last_line_but_keeps_a_partial_start_line() {
        let cut = Head::parse(b"GET / HTTP/1.1\r\nHost: a\r\nAcce", false);
        assert_eq!(fields(&cut), [("Host", "a")]);
        assert_eq!(Head::parse(b"GET / HT", false).start, "GET / HT");
        assert!(Head::parse(b"GET / HTTP/1.1\r\n", false).fields.is_empty());
    }

    #[test]
    fn folded_lines_join_the_value_and_invalid_utf8_is_replaced() {
        let head = Head::parse(
            b"HTTP/1.0 200 OK\nX-Long: one\n  two\n\tthree\nX-Bin: a\xffb\n\n",
            true,
        );
        assert_eq!(
            fields(&head),
            [("X-Long", "one two three"), ("X-Bin", "a\u{fffd}b")]
        );
        assert!(matches!(head.fields[0].1, Cow::Owned(_)), "folding copies");
        assert!(
            matches!(head.fields[0].0, Cow::Borrowed(_)),
            "names stay borrowed"
        );
    }
}
