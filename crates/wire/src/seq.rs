//! Wrapping TCP sequence-number arithmetic (RFC 1982 serial numbers).
//!
//! Sequence numbers wrap at 2^32, so they are never compared as plain `u32`:
//! `a` is before `b` when the signed distance from `a` to `b` is positive.

/// `a < b` in sequence space (Wireshark's `LT_SEQ`).
#[inline]
pub fn lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// `a <= b` in sequence space (Wireshark's `LE_SEQ`).
#[inline]
pub fn le(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) <= 0
}

/// `a > b` in sequence space (Wireshark's `GT_SEQ`).
#[inline]
pub fn gt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// `a >= b` in sequence space (Wireshark's `GE_SEQ`).
#[inline]
pub fn ge(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) >= 0
}

/// The later of two sequence numbers.
#[inline]
pub fn max(a: u32, b: u32) -> u32 {
    if gt(a, b) { a } else { b }
}

/// A 32-bit sequence number (relative or raw) as the 64-bit stream
/// position nearest `near`: how a stream longer than 4 GiB is followed
/// through the wrap. Saturates at 0 and `u64::MAX`.
#[inline]
pub fn unwrap_near(near: u64, seq: u32) -> u64 {
    let diff = i64::from(seq.wrapping_sub(near as u32) as i32);
    near.saturating_add_signed(diff)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(lt(u32::MAX, 0));
        assert!(gt(0, u32::MAX));
        assert!(lt(0xffff_ff00, 0x10));
        assert!(le(5, 5) && ge(5, 5));
        assert!(!lt(5, 5) && !gt(5, 5));
        assert_eq!(max(u32::MAX - 1, 3), 3);
    }

    #[test]
    fn half_the_space_apart_is_ordered_by_sign() {
        assert!(lt(0, 0x7fff_ffff));
        assert!(gt(0, 0x8000_0001));
    }
}
