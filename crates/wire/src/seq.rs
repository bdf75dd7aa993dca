//! Wrapping TCP sequence-number arithmetic (RFC 1982 serial numbers).
//!
//! Sequence numbers wrap at 2^32, so they are never compared as plain `u32`
//! and have no `PartialOrd`: every comparison names the Wireshark macro it
//! is (`lt_seq`, `le_seq`, `gt_seq`, `ge_seq`, from `packet-tcp.h`). Those
//! macros are not one order: at a distance of exactly 2^31 all four hold
//! in both directions, and `!lt_seq` is not `ge_seq` there.

use std::ops::{Add, AddAssign, Sub};

/// A TCP sequence or acknowledgement number, as on the wire.
///
/// Compared only through Wireshark's macros (see the module); adding a
/// length wraps at 2^32.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SeqNumber(pub u32);

impl SeqNumber {
    /// Wireshark's `LT_SEQ(self, other)`: `(gint32)(self - other) < 0`.
    #[inline]
    pub fn lt_seq(self, other: SeqNumber) -> bool {
        self - other < 0
    }

    /// Wireshark's `LE_SEQ(self, other)`: `(gint32)(self - other) <= 0`.
    #[inline]
    pub fn le_seq(self, other: SeqNumber) -> bool {
        self - other <= 0
    }

    /// Wireshark's `GT_SEQ(self, other)`: `(gint32)(other - self) < 0`.
    #[inline]
    pub fn gt_seq(self, other: SeqNumber) -> bool {
        other - self < 0
    }

    /// Wireshark's `GE_SEQ(self, other)`: `(gint32)(other - self) <= 0`.
    #[inline]
    pub fn ge_seq(self, other: SeqNumber) -> bool {
        other - self <= 0
    }

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

/// `LT_SEQ(a, b)` for relative sequence numbers kept as `u32` (packet records).
#[inline]
pub fn lt(a: u32, b: u32) -> bool {
    SeqNumber(a).lt_seq(SeqNumber(b))
}

/// `GT_SEQ(a, b)` for relative sequence numbers kept as `u32`.
#[inline]
pub fn gt(a: u32, b: u32) -> bool {
    SeqNumber(a).gt_seq(SeqNumber(b))
}

/// `GE_SEQ(a, b)` for relative sequence numbers kept as `u32`.
#[inline]
pub fn ge(a: u32, b: u32) -> bool {
    SeqNumber(a).ge_seq(SeqNumber(b))
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
        assert!(s(u32::MAX).lt_seq(s(0)));
        assert!(s(0).gt_seq(s(u32::MAX)));
        assert!(s(0xffff_ff00).lt_seq(s(0x10)));
        assert!(s(5).le_seq(s(5)) && s(5).ge_seq(s(5)));
        assert!(!s(5).lt_seq(s(5)) && !s(5).gt_seq(s(5)));
        assert!(lt(u32::MAX, 0) && gt(0, u32::MAX) && ge(7, 7));
        assert_eq!(max(u32::MAX - 1, 3), 3);
    }

    /// Each of the four macros at distance `d` from 0 to `d`, and back.
    fn macros_at(d: u32) -> [[bool; 4]; 2] {
        let (a, b) = (s(0), s(d));
        [
            [a.lt_seq(b), a.le_seq(b), a.gt_seq(b), a.ge_seq(b)],
            [b.lt_seq(a), b.le_seq(a), b.gt_seq(a), b.ge_seq(a)],
        ]
    }

    #[test]
    fn exactly_two_to_the_31_apart_every_macro_holds_both_ways() {
        // GT_SEQ(x, y) is (gint32)(y - x) < 0: i32::MIN both ways.
        assert_eq!(macros_at(0x8000_0000), [[true; 4]; 2]);
        assert!(gt(0, 0x8000_0000) && gt(0x8000_0000, 0));
        assert!(lt(0, 0x8000_0000) && lt(0x8000_0000, 0));
        assert!(ge(0, 0x8000_0000) && ge(0x8000_0000, 0));
    }

    #[test]
    fn one_short_of_or_past_two_to_the_31_the_order_is_by_sign() {
        // 0 before 2^31 - 1; 2^31 + 1 before 0 (it is 2^31 - 1 behind).
        let before = [[true, true, false, false], [false, false, true, true]];
        assert_eq!(macros_at(0x7fff_ffff), before);
        let after = [[false, false, true, true], [true, true, false, false]];
        assert_eq!(macros_at(0x8000_0001), after);
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
