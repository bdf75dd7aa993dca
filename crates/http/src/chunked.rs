//! Decoding of the chunked transfer coding (RFC 9112 §7.1), one framing
//! byte at a time. Chunk data itself is not seen here: the caller streams
//! it to the body sink, counting down [`ChunkState::Data`].

use super::Broken;

const MAX_CHUNK_LINE: usize = 4096;

/// Where a chunked body's decoding stands.
#[derive(Clone, Copy, Debug)]
pub(super) enum ChunkState {
    /// In a chunk-size line: the size so far and its digit count, whether
    /// blanks followed the digits, an extension or a CR was seen, and the
    /// line's length.
    Size {
        value: u64,
        digits: u32,
        after: bool,
        ext: bool,
        cr: bool,
        line: usize,
    },
    /// In chunk data: bytes left.
    Data(u64),
    /// After chunk data, expecting CRLF (`cr`: the CR was seen).
    DataEnd { cr: bool },
    /// In the trailer section: bytes of the current line and of all lines.
    Trailer { line: usize, total: usize },
}

impl ChunkState {
    /// Expecting a chunk-size line.
    pub(super) fn size() -> Self {
        ChunkState::Size {
            value: 0,
            digits: 0,
            after: false,
            ext: false,
            cr: false,
            line: 0,
        }
    }
}

/// What one framing byte did.
pub(super) enum ChunkEv {
    /// The body goes on.
    More,
    /// The body ended (the trailer section is over).
    Done,
    /// The framing is broken: why.
    Err(Broken),
}

fn hex_val(b: u8) -> Option<u64> {
    (b as char).to_digit(16).map(u64::from)
}

/// Advances the chunked framing (everything but chunk data) by one byte.
pub(super) fn chunk_byte(c: &mut ChunkState, b: u8, max_trailer: usize) -> ChunkEv {
    match c {
        ChunkState::Size {
            value,
            digits,
            after,
            ext,
            cr,
            line,
        } => {
            *line += 1;
            if *line > MAX_CHUNK_LINE {
                return ChunkEv::Err(Broken::ChunkSizeLineTooLong);
            }
            if *cr && b != b'\n' {
                return ChunkEv::Err(Broken::StrayCrInChunkSize);
            }
            match b {
                b'\n' => {
                    if *digits == 0 {
                        return ChunkEv::Err(Broken::MissingChunkSize);
                    }
                    let v = *value;
                    *c = if v == 0 {
                        ChunkState::Trailer { line: 0, total: 0 }
                    } else {
                        ChunkState::Data(v)
                    };
                }
                b'\r' => *cr = true,
                _ if *ext => {}
                b';' if *digits > 0 => *ext = true,
                b' ' | b'\t' => *after |= *digits > 0,
                _ => match hex_val(b) {
                    Some(d) if !*after => {
                        match value.checked_mul(16).and_then(|v| v.checked_add(d)) {
                            Some(v) => *value = v,
                            None => return ChunkEv::Err(Broken::ChunkSizeOverflow),
                        }
                        *digits = digits.saturating_add(1);
                    }
                    _ => return ChunkEv::Err(Broken::InvalidChunkSize),
                },
            }
            ChunkEv::More
        }
        ChunkState::Data(_) => ChunkEv::More,
        ChunkState::DataEnd { cr } => match b {
            b'\r' if !*cr => {
                *cr = true;
                ChunkEv::More
            }
            b'\n' => {
                *c = ChunkState::size();
                ChunkEv::More
            }
            _ => ChunkEv::Err(Broken::MissingCrlfAfterChunkData),
        },
        ChunkState::Trailer { line, total } => match b {
            b'\n' if *line == 0 => ChunkEv::Done,
            b'\n' => {
                *line = 0;
                ChunkEv::More
            }
            b'\r' => ChunkEv::More,
            _ => {
                *line += 1;
                *total += 1;
                if *total > max_trailer {
                    ChunkEv::Err(Broken::TrailerTooLarge)
                } else {
                    ChunkEv::More
                }
            }
        },
    }
}
