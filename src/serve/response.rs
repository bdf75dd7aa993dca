//! What a request maps to and the response head that announces it. No I/O.

use std::path::Path;

use super::request::Version;
use crate::units::parse_size;

/// The largest synthetic body served: enough for any benchmark on loopback.
pub(crate) const MAX_SYNTHETIC: u64 = 64 << 30;

/// What a path names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Resource {
    /// The built-in image (`/`, `/cover3.jpg`).
    Cover,
    /// `/bytes/N`: N pattern bytes with a `Content-Length`.
    Bytes(u64),
    /// `/chunked/N`: the same bytes, chunked for HTTP/1.1.
    Chunked(u64),
    /// A file under `--root`, by its (still encoded) URL path.
    File(String),
}

/// Maps a request path to a resource. With `--root` every path names a file (checked
/// later against the file system); without it only the built-in resources exist.
pub(crate) fn route(path: &str, files: bool) -> Result<Resource, (u16, &'static str)> {
    if files {
        return Ok(Resource::File(path.to_string()));
    }
    let size = |n: &str| match parse_size(n) {
        Ok(n) if n <= MAX_SYNTHETIC => Ok(n),
        Ok(_) => Err((400, "synthetic bodies are at most 64 GiB")),
        Err(_) => Err((404, "no such resource")),
    };
    match path {
        "/" | "/cover3.jpg" => Ok(Resource::Cover),
        _ => {
            if let Some(n) = path.strip_prefix("/bytes/") {
                size(n).map(Resource::Bytes)
            } else if let Some(n) = path.strip_prefix("/chunked/") {
                size(n).map(Resource::Chunked)
            } else {
                Err((404, "no such resource"))
            }
        }
    }
}

/// How the end of a body is marked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked` (HTTP/1.1 only).
    Chunked,
    /// The server closes the connection after the body (HTTP/1.0 and unknown length).
    Close,
}

/// The framing for a body of `len` bytes that the resource would like `chunked`.
pub(crate) fn framing(version: Version, chunked: bool, len: u64) -> Framing {
    match (chunked, version) {
        (false, _) => Framing::Length(len),
        (true, Version::Http11) => Framing::Chunked,
        (true, Version::Http10) => Framing::Close,
    }
}

/// The reason phrase for the statuses this server sends.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// What a cached copy is checked against: the book's server sent both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Validators {
    /// Seconds since the epoch, sent as `Last-Modified`.
    pub(crate) last_modified: u64,
    /// The `ETag` value, quotes included.
    pub(crate) etag: &'static str,
}

/// The head of one response. Its fields go out in the order Apache sends them, the order
/// of the header the book prints: Date, Server, Last-Modified, ETag, Accept-Ranges,
/// Content-Length, Connection, Content-Type.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Head<'a> {
    /// The request's version: it decides the framing and the connection's fate.
    pub(crate) version: Version,
    pub(crate) status: u16,
    pub(crate) content_type: &'a str,
    pub(crate) framing: Framing,
    /// What the server will do after the body; a close-delimited body always closes.
    pub(crate) keep_alive: bool,
    /// Seconds since the epoch, sent as `Date`.
    pub(crate) date: u64,
    pub(crate) validators: Option<Validators>,
}

impl Head<'_> {
    /// The status line and header fields, ending with the blank line. The status line
    /// says HTTP/1.1, the server's version, whatever the request's (as Apache does);
    /// HTTP/1.0 clients are told `Connection: keep-alive` when the connection stays.
    pub(crate) fn render(&self) -> String {
        let mut h = format!(
            "HTTP/1.1 {} {}\r\nDate: {}\r\nServer: recvscope\r\n",
            self.status,
            reason(self.status),
            http_date(self.date)
        );
        if let Some(v) = self.validators {
            h.push_str(&format!(
                "Last-Modified: {}\r\nETag: {}\r\nAccept-Ranges: none\r\n",
                http_date(v.last_modified),
                v.etag
            ));
        }
        match self.framing {
            Framing::Length(n) => h.push_str(&format!("Content-Length: {n}\r\n")),
            Framing::Chunked => h.push_str("Transfer-Encoding: chunked\r\n"),
            Framing::Close => {}
        }
        let keep_alive = self.keep_alive && self.framing != Framing::Close;
        match (self.version, keep_alive) {
            (_, false) => h.push_str("Connection: close\r\n"),
            (Version::Http10, true) => h.push_str("Connection: keep-alive\r\n"),
            (Version::Http11, true) => {}
        }
        h.push_str(&format!("Content-Type: {}\r\n\r\n", self.content_type));
        h
    }
}

/// `secs` since the epoch as an HTTP date (IMF-fixdate, always 29 characters):
/// `Fri, 04 Dec 2015 19:05:04 GMT`.
pub(crate) fn http_date(secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{}, {day:02} {} {year:04} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Year, month (1-12) and day (1-31) of the day `days` after 1970-01-01, in the
/// proleptic Gregorian calendar (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// The `Content-Type` for a file, by its extension.
pub(crate) fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("txt" | "md") => "text/plain; charset=utf-8",
        Some("css") => "text/css",
        Some("js") => "text/javascript",
        Some("json" | "jsonl") => "application/json",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        Some("svg") => "image/svg+xml",
        Some("pdf") => "application/pdf",
        Some("pcap" | "pcapng") => "application/vnd.tcpdump.pcap",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_routes() {
        assert_eq!(route("/", false), Ok(Resource::Cover));
        assert_eq!(route("/cover3.jpg", false), Ok(Resource::Cover));
        assert_eq!(route("/bytes/100", false), Ok(Resource::Bytes(100)));
        assert_eq!(route("/bytes/100M", false), Ok(Resource::Bytes(100 << 20)));
        assert_eq!(route("/chunked/64k", false), Ok(Resource::Chunked(65536)));
        assert_eq!(
            route("/bytes/64G", false),
            Ok(Resource::Bytes(MAX_SYNTHETIC))
        );
        assert_eq!(route("/bytes/65G", false).unwrap_err().0, 400);
        for missing in [
            "/bytes/",
            "/bytes/x",
            "/bytes/1/2",
            "/cover.jpg",
            "/chunked",
        ] {
            assert_eq!(route(missing, false).unwrap_err().0, 404, "{missing}");
        }
        assert_eq!(
            route("/cover3.jpg", true),
            Ok(Resource::File("/cover3.jpg".into()))
        );
    }

    #[test]
    fn chunked_only_for_http_1_1() {
        assert_eq!(framing(Version::Http11, true, 5), Framing::Chunked);
        assert_eq!(framing(Version::Http10, true, 5), Framing::Close);
        assert_eq!(framing(Version::Http10, false, 5), Framing::Length(5));
    }

    fn head(version: Version, framing: Framing, keep_alive: bool) -> Head<'static> {
        Head {
            version,
            status: 200,
            content_type: "x/y",
            framing,
            keep_alive,
            date: 1_365_231_098,
            validators: None,
        }
    }

    #[test]
    fn the_covers_head_is_the_books_field_for_field_and_242_bytes_long() {
        let h = Head {
            content_type: "image/jpeg",
            validators: Some(Validators {
                last_modified: 1_449_255_904,
                etag: "\"0a1b2c-111a9-526172f5b7cc9\"",
            }),
            ..head(Version::Http10, Framing::Length(70_057), false)
        }
        .render();
        assert_eq!(
            h,
            "HTTP/1.1 200 OK\r\n\
             Date: Sat, 06 Apr 2013 06:51:38 GMT\r\n\
             Server: recvscope\r\n\
             Last-Modified: Fri, 04 Dec 2015 19:05:04 GMT\r\n\
             ETag: \"0a1b2c-111a9-526172f5b7cc9\"\r\n\
             Accept-Ranges: none\r\n\
             Content-Length: 70057\r\n\
             Connection: close\r\n\
             Content-Type: image/jpeg\r\n\r\n"
        );
        assert_eq!(h.len() - 4, 242, "the book's Header Length");
    }

    #[test]
    fn heads_say_length_or_chunking_and_the_connections_fate() {
        let h = head(Version::Http10, Framing::Length(0), true).render();
        assert!(
            h.ends_with("Content-Length: 0\r\nConnection: keep-alive\r\nContent-Type: x/y\r\n\r\n")
        );
        let h = head(Version::Http11, Framing::Chunked, true).render();
        assert!(h.contains("Transfer-Encoding: chunked\r\n"));
        assert!(!h.contains("Connection") && !h.contains("Content-Length"));
        let h = head(Version::Http10, Framing::Close, true).render();
        assert!(h.ends_with("Connection: close\r\nContent-Type: x/y\r\n\r\n"));
        let h = Head {
            status: 404,
            ..head(Version::Http11, Framing::Length(3), false)
        };
        assert!(h.render().starts_with("HTTP/1.1 404 Not Found\r\n"));
    }

    #[test]
    fn http_dates_are_imf_fixdates() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(http_date(1_796_198_854), "Wed, 02 Dec 2026 08:07:34 GMT");
        assert_eq!(http_date(253_402_300_799), "Fri, 31 Dec 9999 23:59:59 GMT");
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type(Path::new("a/b.JPG")), "image/jpeg");
        assert_eq!(
            content_type(Path::new("index.html")),
            "text/html; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("noext")), "application/octet-stream");
    }
}
