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

/// The status line and headers of a response, ending with the blank line.
///
/// `keep_alive` is what the server will do after the body; a close-delimited body always
/// closes. HTTP/1.0 clients are told `Connection: keep-alive` when the connection stays.
pub(crate) fn head(
    version: Version,
    status: u16,
    content_type: &str,
    framing: Framing,
    keep_alive: bool,
) -> String {
    let mut h = format!(
        "{} {status} {}\r\nServer: recvscope\r\nContent-Type: {content_type}\r\n",
        version.as_str(),
        reason(status)
    );
    match framing {
        Framing::Length(n) => h.push_str(&format!("Content-Length: {n}\r\n")),
        Framing::Chunked => h.push_str("Transfer-Encoding: chunked\r\n"),
        Framing::Close => {}
    }
    let keep_alive = keep_alive && framing != Framing::Close;
    match (version, keep_alive) {
        (_, false) => h.push_str("Connection: close\r\n"),
        (Version::Http10, true) => h.push_str("Connection: keep-alive\r\n"),
        (Version::Http11, true) => {}
    }
    h.push_str("\r\n");
    h
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

    #[test]
    fn heads_say_length_type_server_and_connection() {
        assert_eq!(
            head(
                Version::Http10,
                200,
                "image/jpeg",
                Framing::Length(70057),
                false
            ),
            "HTTP/1.0 200 OK\r\nServer: recvscope\r\nContent-Type: image/jpeg\r\n\
             Content-Length: 70057\r\nConnection: close\r\n\r\n"
        );
        assert_eq!(
            head(Version::Http10, 404, "text/plain", Framing::Length(0), true),
            "HTTP/1.0 404 Not Found\r\nServer: recvscope\r\nContent-Type: text/plain\r\n\
             Content-Length: 0\r\nConnection: keep-alive\r\n\r\n"
        );
        let h = head(Version::Http11, 200, "x/y", Framing::Chunked, true);
        assert!(h.contains("Transfer-Encoding: chunked\r\n"));
        assert!(!h.contains("Connection") && !h.contains("Content-Length"));
        let h = head(Version::Http10, 200, "x/y", Framing::Close, true);
        assert!(h.ends_with("Content-Type: x/y\r\nConnection: close\r\n\r\n"));
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
