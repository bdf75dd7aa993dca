//! Frame times: a libpcap timestamp (seconds and a fraction of them, from
//! a file's record header or a `struct timeval`) as nanoseconds since the
//! Unix epoch in an `i64`, the one conversion every capture path uses.

/// What a timestamp's fraction counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fraction {
    /// Microseconds: classic pcap (magic `a1b2c3d4`).
    Micros,
    /// Nanoseconds: nanosecond pcap (`a1b23c4d`), and what libpcap hands
    /// out when opened with nanosecond precision.
    Nanos,
}

/// `sec` seconds plus `frac` counted in `unit`, in nanoseconds.
///
/// The policy, for hostile files too: the exact value
/// `sec × 10⁹ + frac × unit`, clamped to `i64`'s range (about ±292 years
/// from 1970), never wrapping or panicking. The fraction is not checked
/// against a second: 1 500 000 µs carries 1.5 s, as libpcap's own
/// scaling does. Any timestamp libpcap can give on a 64-bit system, and
/// every one a pcap record can hold, converts exactly.
pub(crate) fn timestamp_ns(sec: i64, frac: i64, unit: Fraction) -> i64 {
    let per = match unit {
        Fraction::Micros => 1_000,
        Fraction::Nanos => 1,
    };
    let ns = i128::from(sec) * 1_000_000_000 + i128::from(frac) * per;
    // The clamp makes the conversion lossless.
    ns.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

#[cfg(test)]
mod tests {
    use super::Fraction::{Micros, Nanos};
    use super::*;

    #[test]
    fn ordinary_times_are_exact_in_either_unit() {
        assert_eq!(timestamp_ns(0, 0, Micros), 0);
        assert_eq!(
            timestamp_ns(1_700_000_000, 123_456, Micros),
            1_700_000_000_123_456_000
        );
        assert_eq!(
            timestamp_ns(1_700_000_000, 123_456_789, Nanos),
            1_700_000_000_123_456_789
        );
    }

    #[test]
    fn a_fraction_of_a_second_or_more_carries_into_the_seconds() {
        assert_eq!(timestamp_ns(1, 1_000_000, Micros), 2_000_000_000);
        assert_eq!(timestamp_ns(1, 1_500_000, Micros), 2_500_000_000);
        assert_eq!(timestamp_ns(1, 2_500_000_000, Nanos), 3_500_000_000);
    }

    #[test]
    fn every_pcap_record_time_is_exact() {
        let max = i64::from(u32::MAX);
        assert_eq!(
            timestamp_ns(max, max, Micros),
            4_294_967_295_000_000_000 + 4_294_967_295_000
        );
        assert_eq!(
            timestamp_ns(max, max, Nanos),
            4_294_967_295_000_000_000 + 4_294_967_295
        );
    }

    #[test]
    fn times_before_1970_are_negative() {
        assert_eq!(timestamp_ns(-1, 0, Nanos), -1_000_000_000);
        assert_eq!(timestamp_ns(-1, 999_999_999, Nanos), -1);
        assert_eq!(timestamp_ns(0, -1, Micros), -1_000);
        assert_eq!(
            timestamp_ns(-2_147_483_648, 0, Micros),
            -2_147_483_648_000_000_000
        );
    }

    #[test]
    fn the_ends_of_i64_are_reached_exactly_and_not_passed() {
        assert_eq!(timestamp_ns(9_223_372_036, 854_775_807, Nanos), i64::MAX);
        assert_eq!(timestamp_ns(9_223_372_036, 854_775_808, Nanos), i64::MAX);
        assert_eq!(timestamp_ns(9_223_372_036, 854_776, Micros), i64::MAX);
        assert_eq!(
            timestamp_ns(9_223_372_036, 854_775, Micros),
            9_223_372_036_854_775_000
        );
        assert_eq!(timestamp_ns(-9_223_372_036, -854_775_808, Nanos), i64::MIN);
        assert_eq!(timestamp_ns(-9_223_372_036, -854_775_809, Nanos), i64::MIN);
    }

    #[test]
    fn hostile_extremes_saturate_instead_of_wrapping() {
        for unit in [Micros, Nanos] {
            assert_eq!(timestamp_ns(i64::MAX, 0, unit), i64::MAX);
            assert_eq!(timestamp_ns(i64::MAX, i64::MAX, unit), i64::MAX);
            assert_eq!(timestamp_ns(i64::MAX, i64::MIN, unit), i64::MAX);
            assert_eq!(timestamp_ns(i64::MIN, 0, unit), i64::MIN);
            assert_eq!(timestamp_ns(i64::MIN, i64::MAX, unit), i64::MIN);
            assert_eq!(timestamp_ns(i64::MIN, i64::MIN, unit), i64::MIN);
        }
        assert_eq!(timestamp_ns(0, i64::MAX, Nanos), i64::MAX);
        assert_eq!(timestamp_ns(0, i64::MAX, Micros), i64::MAX);
        assert_eq!(timestamp_ns(0, i64::MIN, Micros), i64::MIN);
        assert_eq!(timestamp_ns(1, i64::MAX, Nanos), i64::MAX);
        assert_eq!(timestamp_ns(-1, i64::MIN, Nanos), i64::MIN);
        assert_eq!(timestamp_ns(1, i64::MIN, Nanos), i64::MIN + 1_000_000_000);
    }
}
