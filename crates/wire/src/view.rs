//! What the checked header views ([`crate::ip`], [`crate::tcp`]) share:
//! their error, and big-endian reads at offsets a check has proved present.

use std::fmt;

/// Why a buffer cannot be viewed as a header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ViewError {
    /// The buffer ends before the header's fixed part does.
    Truncated,
    /// A field contradicts the format: the IP version, or a header length
    /// shorter than the fixed header or longer than the buffer.
    Malformed,
}

impl fmt::Display for ViewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ViewError::Truncated => "header truncated",
            ViewError::Malformed => "header malformed",
        })
    }
}

impl std::error::Error for ViewError {}

/// The 16-bit big-endian field at `at`; the caller has checked `at + 2 <= b.len()`.
#[inline(always)]
pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// The 32-bit big-endian field at `at`; the caller has checked `at + 4 <= b.len()`.
#[inline(always)]
pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
