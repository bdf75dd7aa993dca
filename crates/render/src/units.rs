//! How times read everywhere recvscope prints them: capture times in
//! seconds to the microsecond, recv-table times in milliseconds to a
//! tenth, and RTTs in milliseconds to the microsecond.

/// Nanoseconds as seconds to the microsecond: `1.234567`.
pub(crate) fn secs(ns: i64) -> String {
    format!("{:.6}", ns as f64 / 1e9)
}

/// Nanoseconds as seconds to the millisecond, for durations in sentences: `4.358`.
pub(crate) fn secs_to_ms(ns: i64) -> String {
    format!("{:.3}", ns as f64 / 1e9)
}

/// Nanoseconds as milliseconds to a tenth: `12.3`.
pub(crate) fn ms_tenths(ns: i64) -> String {
    format!("{:.1}", ns as f64 / 1e6)
}

/// Nanoseconds (possibly fractional, as an EstimatedRTT) as milliseconds to
/// the microsecond: `12.345`.
pub(crate) fn ms(ns: f64) -> String {
    format!("{:.3}", ns / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_unit_has_its_fixed_precision() {
        assert_eq!(secs(1_234_567_890), "1.234568");
        assert_eq!(secs(-2_000), "-0.000002");
        assert_eq!(secs_to_ms(4_358_049_095), "4.358");
        assert_eq!(ms_tenths(12_345_678), "12.3");
        assert_eq!(ms(12_345_678.0), "12.346");
        assert_eq!(ms(0.4), "0.000");
    }
}
