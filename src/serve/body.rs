//! What goes into synthetic bodies and how a body is cut, framed and paced. No I/O.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Length of the repeating unit of the synthetic pattern: a prime, so that no power-of-two
/// shift of a body (a lost 4 KiB page, a duplicated 64 KiB segment) goes unnoticed.
pub(crate) const PATTERN_PERIOD: usize = 65_521;

/// The most bytes [`pattern`] hands out at once.
pub(crate) const PATTERN_WINDOW: usize = 64 * 1024;

/// Largest piece of a body given to one `write()` when the rate is not limited.
pub(crate) const PIECE_MAX: usize = 64 * 1024;

/// Largest piece of a body given to one `write()` when `--rate` paces it.
pub(crate) const PACED_PIECE_MAX: usize = 16 * 1024;

/// The byte at `offset` of every synthetic body (`/bytes/N`, `/chunked/N`).
pub fn pattern_byte(offset: u64) -> u8 {
    mix(offset % PATTERN_PERIOD as u64)
}

/// The synthetic body's bytes from `offset`, `len` of them (`len` at most
/// [`PATTERN_WINDOW`]). Served from one table built on first use, so bodies of any size
/// cost no allocation and no per-byte work.
pub(crate) fn pattern(offset: u64, len: usize) -> &'static [u8] {
    static TABLE: OnceLock<Box<[u8]>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        (0..(PATTERN_PERIOD + PATTERN_WINDOW) as u64)
            .map(|i| mix(i % PATTERN_PERIOD as u64))
            .collect()
    });
    let start = (offset % PATTERN_PERIOD as u64) as usize;
    &table[start..start + len.min(PATTERN_WINDOW)]
}

/// splitmix64's finaliser, top byte.
fn mix(i: u64) -> u8 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 56) as u8
}

/// The size of the pieces a body is written in: [`PIECE_MAX`] unpaced; paced, at most
/// [`PACED_PIECE_MAX`] and at most a twentieth of a second's worth, so the pacing is
/// smooth at low rates.
pub(crate) fn piece_size(rate: Option<u64>) -> usize {
    match rate {
        None => PIECE_MAX,
        Some(r) => usize::try_from(r / 20)
            .unwrap_or(usize::MAX)
            .clamp(1, PACED_PIECE_MAX),
    }
}

/// How long to wait before writing the next piece so that the body does not get ahead of
/// `rate` bytes per second: `sent` bytes are allowed once `sent / rate` seconds have
/// passed since the body started. The schedule is absolute, so oversleeping is made up
/// and the average rate holds.
pub(crate) fn pace_delay(rate: u64, sent: u64, elapsed: Duration) -> Duration {
    let due = Duration::from_nanos(
        u64::try_from(u128::from(sent) * 1_000_000_000 / u128::from(rate.max(1)))
            .unwrap_or(u64::MAX),
    );
    due.saturating_sub(elapsed)
}

/// MSS the path `--rtt` imitates announces: Ethernet's 1500-byte MTU less 40 bytes of
/// IPv4 and TCP headers.
pub(crate) const PATH_MSS_OPTION: u32 = 1460;

/// Payload of a full segment on that path: the MSS less the 12 bytes of the timestamp
/// option Linux puts in every segment.
pub(crate) const PATH_MSS: u64 = 1448;

/// Segments in the first round trip (Linux's initial congestion window, RFC 6928).
const INITIAL_SEGMENTS: u64 = 10;

/// The round trip from which the rounds stop growing: 10 << 3 = 80 segments.
const LAST_GROWING_ROUND: u32 = 3;

/// Bytes the path `--rtt` imitates delivers in round trip `round` (from 0): slow start
/// without loss, 10 segments doubling each round, then 80 per round.
pub(crate) fn round_budget(round: u32) -> u64 {
    (INITIAL_SEGMENTS * PATH_MSS) << round.min(LAST_GROWING_ROUND)
}

/// A body handed to the socket the way an internet path with round-trip time `rtt`
/// delivers it: [`round_budget`] bytes at once, then nothing until the next round trip.
/// A round starts when the previous one was written and `rtt` has passed since it began,
/// so a sender held back by the receiver's window does not make up the lost rounds.
#[derive(Debug)]
pub(crate) struct Rounds {
    rtt: Duration,
    round: u32,
    left: u64,
    started: Option<Instant>,
}

impl Rounds {
    pub(crate) fn new(rtt: Duration) -> Rounds {
        Rounds {
            rtt,
            round: 0,
            left: round_budget(0),
            started: None,
        }
    }

    /// Before the next write at `now`: how long to wait, and the most bytes the write
    /// may carry.
    pub(crate) fn next(&mut self, now: Instant) -> (Duration, u64) {
        let started = *self.started.get_or_insert(now);
        if self.left > 0 {
            return (Duration::ZERO, self.left);
        }
        self.round = self.round.saturating_add(1);
        self.left = round_budget(self.round);
        let due = started + self.rtt;
        self.started = Some(due.max(now));
        (due.saturating_duration_since(now), self.left)
    }

    /// Counts `n` bytes written in the current round.
    pub(crate) fn wrote(&mut self, n: u64) {
        self.left = self.left.saturating_sub(n);
    }
}

/// The line that opens a chunk of `len` bytes in a chunked body.
pub(crate) fn chunk_header(len: usize) -> String {
    format!("{len:x}\r\n")
}

/// What closes every chunk's data.
pub(crate) const CHUNK_END: &[u8] = b"\r\n";

/// The last chunk and the empty trailer section that end a chunked body.
pub(crate) const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_slices_agree_with_pattern_byte_across_the_period() {
        for offset in [
            0u64,
            1,
            4095,
            65_520,
            65_521,
            1 << 20,
            64 << 30,
            u64::MAX - 70_000,
        ] {
            let s = pattern(offset, PATTERN_WINDOW);
            assert_eq!(s.len(), PATTERN_WINDOW);
            for (i, &b) in s.iter().enumerate() {
                assert_eq!(b, pattern_byte(offset + i as u64), "offset {offset}+{i}");
            }
        }
        assert_eq!(pattern(5, 10 * PATTERN_WINDOW).len(), PATTERN_WINDOW);
    }

    #[test]
    fn pattern_detects_power_of_two_shifts_and_uses_every_byte_value() {
        let base: Vec<u8> = (0..4096).map(pattern_byte).collect();
        for shift in [1u64, 2, 512, 1024, 4096, 16384, 65536] {
            let shifted: Vec<u8> = (shift..shift + 4096).map(pattern_byte).collect();
            assert_ne!(base, shifted, "shift {shift}");
        }
        let mut seen = [false; 256];
        for i in 0..PATTERN_PERIOD as u64 {
            seen[pattern_byte(i) as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    fn pieces_are_a_twentieth_of_a_second_when_paced() {
        assert_eq!(piece_size(None), PIECE_MAX);
        assert_eq!(piece_size(Some(1_000_000)), PACED_PIECE_MAX);
        assert_eq!(piece_size(Some(100_000)), 5_000);
        assert_eq!(piece_size(Some(10)), 1);
        assert_eq!(piece_size(Some(u64::MAX)), PACED_PIECE_MAX);
    }

    #[test]
    fn pacing_follows_an_absolute_schedule() {
        let ms = Duration::from_millis;
        assert_eq!(pace_delay(1_000_000, 0, ms(0)), ms(0));
        assert_eq!(pace_delay(1_000_000, 100_000, ms(0)), ms(100));
        assert_eq!(pace_delay(1_000_000, 100_000, ms(40)), ms(60));
        assert_eq!(pace_delay(1_000_000, 100_000, ms(150)), ms(0));
        assert_eq!(
            pace_delay(1, u64::MAX, ms(0)),
            Duration::from_nanos(u64::MAX)
        );
    }

    #[test]
    fn rounds_grow_like_slow_start_then_hold() {
        let budgets: Vec<u64> = (0..6).map(round_budget).collect();
        assert_eq!(budgets, [14_480, 28_960, 57_920, 115_840, 115_840, 115_840]);
        assert_eq!(round_budget(u32::MAX), 115_840);
    }

    #[test]
    fn a_round_waits_one_rtt_after_the_last_began_unless_writing_took_longer() {
        let ms = Duration::from_millis;
        let t0 = Instant::now();
        let mut r = Rounds::new(ms(20));
        assert_eq!(r.next(t0), (Duration::ZERO, 14_480));
        r.wrote(10_000);
        assert_eq!(r.next(t0 + ms(1)), (Duration::ZERO, 4_480));
        r.wrote(4_480);
        assert_eq!(r.next(t0 + ms(2)), (ms(18), 28_960));
        r.wrote(28_960);
        assert_eq!(r.next(t0 + ms(100)), (Duration::ZERO, 57_920));
        r.wrote(57_920);
        assert_eq!(r.next(t0 + ms(101)), (ms(19), 115_840));
    }

    #[test]
    fn chunk_framing() {
        assert_eq!(chunk_header(16384), "4000\r\n");
        assert_eq!(chunk_header(1), "1\r\n");
        assert_eq!(LAST_CHUNK, b"0\r\n\r\n");
    }
}
