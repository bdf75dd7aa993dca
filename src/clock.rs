//! The one clock recvscope stamps events with: CLOCK_REALTIME, in
//! nanoseconds since the Unix epoch, as an `i64` like frame times. It is
//! the clock libpcap stamps frames with on Linux, so a recv or a send
//! lines up with the capture of the same connection.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now on CLOCK_REALTIME, in nanoseconds since the Unix epoch.
pub(crate) fn now_ns() -> i64 {
    ns_since_epoch(SystemTime::now())
}

/// `t` in nanoseconds since the Unix epoch: 0 for a time before it,
/// `i64::MAX` from 2262-04-11 on.
fn ns_since_epoch(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// `YYYYMMDD-HHMMSS` in UTC: the time in the names of saved runs.
pub(crate) fn utc_stamp(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn realtime_ns() -> i64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid timespec for the call to fill.
        assert_eq!(
            unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) },
            0
        );
        ts.tv_sec * 1_000_000_000 + ts.tv_nsec
    }

    #[test]
    fn now_is_clock_realtime() {
        let before = realtime_ns();
        let now = now_ns();
        let after = realtime_ns();
        assert!(before <= now && now <= after, "{before} {now} {after}");
    }

    #[test]
    fn times_are_nanoseconds_since_the_epoch_clamped_to_i64() {
        let at = |d: Duration| ns_since_epoch(UNIX_EPOCH + d);
        assert_eq!(at(Duration::ZERO), 0);
        assert_eq!(
            at(Duration::new(1_700_000_000, 5)),
            1_700_000_000_000_000_005
        );
        assert_eq!(at(Duration::new(9_223_372_036, 854_775_807)), i64::MAX);
        assert_eq!(at(Duration::new(9_223_372_036, 854_775_808)), i64::MAX);
        assert_eq!(at(Duration::from_secs(1 << 40)), i64::MAX);
        assert_eq!(ns_since_epoch(UNIX_EPOCH - Duration::from_nanos(1)), 0);
    }

    #[test]
    fn run_names_carry_a_utc_timestamp() {
        assert_eq!(utc_stamp(0), "19700101-000000");
        assert_eq!(utc_stamp(1_795_660_245_000_000_000), "20261126-023045");
        assert_eq!(utc_stamp(951_782_400_000_000_000), "20000229-000000");
    }
}
