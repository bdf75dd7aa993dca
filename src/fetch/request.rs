//! The one request `fetch` sends, byte for byte.

use super::url::Url;

/// The HTTP version of the request line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub(crate) enum HttpVersion {
    /// The book's request: absolute-form target, no header fields.
    #[serde(rename = "1.0")]
    V10,
    /// Origin-form target with `Host` and `Connection: close`.
    #[serde(rename = "1.1")]
    V11,
}

/// The request bytes: HTTP/1.0 exactly as the book sends it
/// (`GET http://host/path HTTP/1.0` and a blank line), or a minimal
/// HTTP/1.1 request that asks the server to close when done.
pub(crate) fn request_bytes(url: &Url, version: HttpVersion) -> Vec<u8> {
    match version {
        HttpVersion::V10 => format!("GET {url} HTTP/1.0\r\n\r\n").into_bytes(),
        HttpVersion::V11 => format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            url.path,
            url.authority()
        )
        .into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_1_0_is_the_books_absolute_form_request() {
        let url = Url::parse("http://data.pr4e.org/cover3.jpg").unwrap();
        assert_eq!(
            request_bytes(&url, HttpVersion::V10),
            b"GET http://data.pr4e.org/cover3.jpg HTTP/1.0\r\n\r\n"
        );
    }

    #[test]
    fn http_1_1_sends_host_with_port_and_asks_to_close() {
        let url = Url::parse("http://127.0.0.1:8080/x?y").unwrap();
        assert_eq!(
            request_bytes(&url, HttpVersion::V11),
            b"GET /x?y HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\n\r\n"
        );
    }
}
