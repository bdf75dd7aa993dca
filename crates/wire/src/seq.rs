//! Wrapping TCP sequence-number arithmetic (RFC 1982 serial numbers).
//!
//! Sequence numbers wrap at 2^32, so they are never compared as plain `u32`:
//! `a` is before `b` when the signed distance from `a` to `b` is positive.

use std::cmp::Ordering;
use std::ops::{Add, AddAssign, Sub};

/// A TCP sequence or acknowledgement number, as on the wire.
///
/// Ordered by signed distance, as Wireshark's `LT_SEQ`/`GT_SEQ` order them;
/// that order is not total: numbers exactly 2^31 apart are each before the
/// other. Adding a length wraps at 2^32.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SeqNumber(pub u32);

impl SeqNumber {
    /// This number relative to `base`, modulo 2^32 (Wireshark's relative
    /// sequence numbers).
    #[inline]
    pub fn relative_to(self, base: SeqNumber) -> u32 {
        self.0.wrapping_sub(base.0)
    }
}

impl From<SeqNumber> for u32 {
    fn from(s: SeqNumber) -> u32 {
        s.0
    }
}

impl PartialOrd for SeqNumber {
    #[inline]
    fn partial_cmp(&self, other: &SeqNumber) -> Option<Ordering> {
        Some((*self - *other).cmp(&0))
    }
}

/// Advances by a length, modulo 2^32.
impl Add<usize> for SeqNumber {
    type Output = SeqNumber;
    #[inline]
    fn add(self, len: usize) -> SeqNumber {
        SeqNumber(self.0.wrapping_add(len as u32))
    }
}

impl AddAssign<usize> for SeqNumber {
    #[inline]
    fn add_assign(&mut self, len: usize) {
        *self = *self + len;
    }
}

/// Goes back by a length, modulo 2^32.
impl Sub<usize> for SeqNumber {
    type Output = SeqNumber;
    #[inline]
    fn sub(self, len: usize) -> SeqNumber {
        SeqNumber(self.0.wrapping_sub(len as u32))
    }
}

/// The signed distance from `other` to `self`: positive when `self` is later.
impl Sub for SeqNumber {
    type Output = i32;
    #[inline]
    fn sub(self, other: SeqNumber) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }
}

/// `a < b` for relative sequence numbers kept as `u32` (packet records).
#[inline]
pub fn lt(a: u32, b: u32) -> bool {
    SeqNumber(a) < SeqNumber(b)
}

/// `a > b` for relative sequence numbers kept as `u32`.
#[inline]
pub fn gt(a: u32, b: u32) -> bool {
    SeqNumber(a) > SeqNumber(b)
}

/// `a >= b` for relative sequence numbers kept as `u32`.
#[inline]
pub fn ge(a: u32, b: u32) -> bool {
    SeqNumber(a) >= SeqNumber(b)
}

/// The later of two relative sequence numbers kept as `u32`.
#[inline]
pub fn max(a: u32, b: u32) -> u32 {
    if gt(a, b) { a } else { b }
}

/// A 32-bit sequence number (relative or raw) as the 64-bit stream
/// position nearest `near`: how a stream longer than 4 GiB is followed
/// through the wrap. Saturates at 0 and `u64::MAX`.
#[inline]
pub fn unwrap_near(near: u64, seq: u32) -> u64 {
    let diff = i64::from(SeqNumber(seq) - SeqNumber(near as u32));
    near.saturating_add_signed(diff)
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn s(n: u32) -> SeqNumber {
        SeqNumber(n)
    }

    #[test]
    fn unwrap_near_follows_a_stream_past_four_gibibytes() {
        assert_eq!(unwrap_near(0, 10), 10);
        assert_eq!(unwrap_near(u64::from(u32::MAX) - 5, 4), (1 << 32) + 4);
        assert_eq!(
            unwrap_near((1 << 32) + 4, u32::MAX - 5),
            u64::from(u32::MAX) - 5
        );
        assert_eq!(unwrap_near(3, u32::MAX), 0, "never below zero");
    }

    #[test]
    fn comparisons_wrap_around_zero() {
        assert!(s(u32::MAX) < s(0));
        assert!(s(0) > s(u32::MAX));
        assert!(s(0xffff_ff00) < s(0x10));
        assert!(s(5) <= s(5) && s(5) >= s(5));
        assert!(!lt(5, 5) && !gt(5, 5));
        assert!(lt(u32::MAX, 0) && gt(0, u32::MAX) && ge(7, 7));
        assert_eq!(max(u32::MAX - 1, 3), 3);
    }

    #[test]
    fn half_the_space_apart_is_ordered_by_sign() {
        assert!(s(0) < s(0x7fff_ffff));
        assert!(s(0) > s(0x8000_0001));
        // Exactly 2^31 apart: each is before the other, as in Wireshark.
        assert!(s(0) < s(0x8000_0000) && s(0x8000_0000) < s(0));
        assert!(!gt(0, 0x8000_0000) && !ge(0, 0x8000_0000));
    }

    #[test]
    fn arithmetic_wraps_at_two_to_the_32() {
        assert_eq!(s(u32::MAX) + 2, s(1));
        assert_eq!(s(1) - 2usize, s(u32::MAX));
        let mut n = s(u32::MAX - 1);
        n += 3;
        assert_eq!(n, s(1));
        assert_eq!(s(1) - s(u32::MAX), 2);
        assert_eq!(s(u32::MAX) - s(1), -2);
        assert_eq!(s(3).relative_to(s(u32::MAX)), 4);
        assert_eq!(s(u32::MAX).relative_to(s(3)), u32::MAX - 3);
    }
}
