//! The `http://host[:port]/path` URLs `fetch` accepts.

use std::fmt;

/// A parsed `http://` URL: where to connect and what to ask for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Url {
    /// Host name or address as written (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

/// Why a URL cannot be fetched.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UrlError {
    #[error(
        "{0}: https is encrypted, so the wire would show only TLS records, never the HTTP header or body recv() returns; use an http:// URL (for example a local `recvscope serve`)"
    )]
    Https(String),
    #[error("{0}: only http:// URLs can be fetched")]
    Scheme(String),
    #[error("{0}: the URL has no host")]
    NoHost(String),
    #[error("{0}: the port must be a number from 1 to 65535")]
    Port(String),
    #[error("{0}: the URL contains a space or control character; percent-encode it")]
    Character(String),
}

impl Url {
    /// Parses a URL; a missing scheme means `http://`.
    pub(crate) fn parse(text: &str) -> Result<Url, UrlError> {
        let err_text = text.to_string();
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(UrlError::Character(err_text));
        }
        let rest = match text.split_once("://") {
            Some((scheme, rest)) => match scheme.to_ascii_lowercase().as_str() {
                "http" => rest,
                "https" => return Err(UrlError::Https(err_text)),
                _ => return Err(UrlError::Scheme(err_text)),
            },
            None => text,
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) if rest.as_bytes()[i] == b'?' => (&rest[..i], format!("/{}", &rest[i..])),
            Some(i) => (&rest[..i], rest[i..].to_string()),
            None => (rest, "/".to_string()),
        };
        let path = path.split('#').next().unwrap_or("/").to_string();
        let authority = authority.rsplit('@').next().unwrap_or(authority);
        let (host, port) = split_host_port(authority).ok_or(UrlError::Port(err_text.clone()))?;
        if host.is_empty() {
            return Err(UrlError::NoHost(err_text));
        }
        Ok(Url {
            host: host.to_string(),
            port,
            path,
        })
    }

    /// `host[:port]` as it goes in a request line or `Host` field (port
    /// only when not 80, IPv6 in brackets).
    pub(crate) fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 80 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The last path segment, the name the book's program saves under;
    /// `index.html` for a directory.
    pub(crate) fn file_name(&self) -> String {
        let path = self.path.split('?').next().unwrap_or("");
        match path.rsplit('/').next() {
            Some(name) if !name.is_empty() && name != "." && name != ".." => name.to_string(),
            _ => "index.html".to_string(),
        }
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}{}", self.authority(), self.path)
    }
}

fn split_host_port(authority: &str) -> Option<(&str, u16)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        None | Some("") => 80,
        Some(p) => match p.parse::<u16>() {
            Ok(0) | Err(_) => return None,
            Ok(n) => n,
        },
    };
    Some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(host: &str, port: u16, path: &str) -> Url {
        Url {
            host: host.into(),
            port,
            path: path.into(),
        }
    }

    #[test]
    fn the_books_url_parses_to_host_port_80_and_path() {
        assert_eq!(
            Url::parse("http://data.pr4e.org/cover3.jpg"),
            Ok(url("data.pr4e.org", 80, "/cover3.jpg"))
        );
    }

    #[test]
    fn port_query_ipv6_and_missing_scheme() {
        assert_eq!(
            Url::parse("127.0.0.1:8080/a?b=1#frag"),
            Ok(url("127.0.0.1", 8080, "/a?b=1"))
        );
        assert_eq!(Url::parse("http://[::1]:81"), Ok(url("::1", 81, "/")));
        assert_eq!(Url::parse("http://h?x"), Ok(url("h", 80, "/?x")));
        assert_eq!(Url::parse("HTTP://u:p@h/x"), Ok(url("h", 80, "/x")));
    }

    #[test]
    fn https_is_refused_with_the_reason() {
        let e = Url::parse("https://data.pr4e.org/cover3.jpg").unwrap_err();
        assert!(matches!(e, UrlError::Https(_)));
        assert!(e.to_string().contains("only TLS"));
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        assert!(matches!(Url::parse("ftp://h/x"), Err(UrlError::Scheme(_))));
        assert!(matches!(Url::parse("http:///x"), Err(UrlError::NoHost(_))));
        assert!(matches!(Url::parse("http://h:0/"), Err(UrlError::Port(_))));
        assert!(matches!(
            Url::parse("http://h:99999/"),
            Err(UrlError::Port(_))
        ));
        assert!(matches!(
            Url::parse("http://h/a b"),
            Err(UrlError::Character(_))
        ));
    }

    #[test]
    fn authority_and_file_name() {
        assert_eq!(url("h", 80, "/").authority(), "h");
        assert_eq!(url("::1", 8080, "/").authority(), "[::1]:8080");
        assert_eq!(
            url("h", 80, "/img/cover3.jpg?x=1").file_name(),
            "cover3.jpg"
        );
        assert_eq!(url("h", 80, "/img/").file_name(), "index.html");
        assert_eq!(url("h", 80, "/..").file_name(), "index.html");
    }
}
