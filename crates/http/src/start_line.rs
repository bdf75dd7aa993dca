//! Start-line detection: whether bytes begin like a request line or a
//! status line. This is what decides where a message starts, both while a
//! head is buffered and when a side resynchronises at a chunk start.

use super::Side;

const MAX_METHOD_LEN: usize = 24;

/// Does the input so far begin like a message of a side?
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Check {
    /// It cannot be one.
    No,
    /// Not decided yet: more bytes are needed.
    Maybe,
    /// It does: as much of the start line as is checked is valid.
    Yes,
}

/// Incremental validation of a start line, one byte at a time: the
/// server's must begin `HTTP/1.d ddd` (then SP, CR or LF); the client's
/// must be a whole `METHOD SP target SP HTTP/1.d` line with an upper-case
/// method token (the target being everything up to the last space). Only a
/// head whose start line passed counts as a message, which keeps text such
/// as `HTTP/1.1 is...` at a segment start from being taken for one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Start {
    /// Server: status-line bytes matched so far.
    Status(u8),
    /// Client: method bytes so far.
    Method(u8),
    /// Client: inside the request-target (whether it has a byte yet).
    Target(bool),
    /// Client: version bytes matched so far.
    Version(u8),
    /// Client: CR after the version.
    Cr,
}

const VERSION_PREFIX: &[u8] = b"HTTP/1.";

impl Start {
    /// Nothing seen yet of a start line sent by `side`.
    pub(super) fn new(side: Side) -> Self {
        match side {
            Side::Client => Start::Method(0),
            Side::Server => Start::Status(0),
        }
    }

    /// Takes the next byte of the start line.
    pub(super) fn feed(&mut self, b: u8) -> Check {
        let next = match *self {
            Start::Status(n) => {
                let ok = match n {
                    0..=6 => VERSION_PREFIX.get(usize::from(n)) == Some(&b),
                    7 | 9..=11 => b.is_ascii_digit(),
                    8 => b == b' ',
                    _ => {
                        return if matches!(b, b' ' | b'\r' | b'\n') {
                            Check::Yes
                        } else {
                            Check::No
                        };
                    }
                };
                ok.then_some(Start::Status(n + 1))
            }
            Start::Method(n) => {
                if b == b' ' && n > 0 {
                    Some(Start::Target(false))
                } else if (b.is_ascii_uppercase() || b == b'-' || b == b'_')
                    && usize::from(n) < MAX_METHOD_LEN
                {
                    Some(Start::Method(n + 1))
                } else {
                    None
                }
            }
            Start::Target(any) => {
                if b == b' ' && any {
                    Some(Start::Version(0))
                } else if b > b' ' && b != 0x7f {
                    Some(Start::Target(true))
                } else {
                    None
                }
            }
            Start::Version(n) => {
                let matched = match n {
                    0..=6 => (VERSION_PREFIX.get(usize::from(n)) == Some(&b))
                        .then_some(Start::Version(n + 1)),
                    7 => b.is_ascii_digit().then_some(Start::Version(8)),
                    _ => match b {
                        b'\r' => Some(Start::Cr),
                        b'\n' => return Check::Yes,
                        _ => None,
                    },
                };
                // Not the version after all: the space was inside the
                // target (lenient to unescaped spaces in request-targets).
                matched.or(match b {
                    b' ' => Some(Start::Version(0)),
                    _ if b > b' ' && b != 0x7f => Some(Start::Target(true)),
                    _ => None,
                })
            }
            Start::Cr => return if b == b'\n' { Check::Yes } else { Check::No },
        };
        match next {
            Some(s) => {
                *self = s;
                Check::Maybe
            }
            None => Check::No,
        }
    }
}

/// Whether `bytes` (a chunk's start) begin like a message of `side`.
pub(super) fn looks_like_start(side: Side, bytes: &[u8]) -> Check {
    let mut start = Start::new(side);
    for &b in bytes {
        match start.feed(b) {
            Check::Maybe => {}
            done => return done,
        }
    }
    Check::Maybe
}

/// The role of a sender whose payload begins with `bytes`, when they tell:
/// a whole request line (the client's) or a status line (the server's).
pub fn sender_role(bytes: &[u8]) -> Option<Side> {
    [Side::Client, Side::Server]
        .into_iter()
        .find(|&side| looks_like_start(side, bytes) == Check::Yes)
}
