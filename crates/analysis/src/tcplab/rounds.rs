//! The bulk sender's flights, one per round trip, and where slow start ends.
//!
//! A round is what the sender sends in one RTT. A new round starts with the
//! first send after an ACK for data of the current round arrived (the ACK
//! clock ticked once), or after a pause longer than half the median
//! SampleRTT (the sender had run dry).

use serde::Serialize;

use crate::ConnectionSummary;
use recvscope_wire::{Side, seq};

use super::{RttTable, View, is_data};

/// A round grows the flight "by half" when it is at least this many times
/// the largest earlier flight; slow start doubles it.
const GROWTH: f64 = 1.5;

/// The data sender's rounds and the slow-start reading.
#[derive(Debug, Clone, Serialize)]
pub struct SlowStart {
    pub sender: Side,
    /// Sends further apart than this start a new round; `null` without an RTT.
    pub split_gap_ns: Option<i64>,
    /// What the gap is half of.
    pub split_gap_basis: Option<GapBasis>,
    pub rounds: Vec<Round>,
    /// The last round (1-based) that grew the flight by half or more over
    /// every earlier one: slow start seems to end there.
    pub slow_start_ends_after: Option<usize>,
    pub reading: SlowStartReading,
}

/// The RTT that rounds are split by half of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum GapBasis {
    #[serde(rename = "median SampleRTT")]
    MedianSampleRtt,
    #[serde(rename = "handshake RTT")]
    HandshakeRtt,
}

/// What the rounds say about slow start.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SlowStartReading {
    /// Fewer than two rounds of data.
    TooShort { rounds: usize },
    /// No round grew the flight by half over the one before.
    NoGrowth { first_round_bytes: u64 },
    /// The flight grew from round 1 to round `round` (sent at `at_ns`),
    /// where slow start appears to end.
    Ends {
        first_round_bytes: u64,
        top_bytes: u64,
        round: usize,
        at_ns: i64,
        /// The rounds after it, leaving out the last (often cut short);
        /// `None` when fewer than two.
        after: Option<AfterSlowStart>,
    },
}

/// How the flight moved after slow start.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "trend", rename_all = "snake_case")]
pub enum AfterSlowStart {
    /// It stayed within `lo..=hi` bytes for `rounds` rounds, growing by
    /// less than half a segment per round: something caps it.
    Flat {
        lo: u64,
        hi: u64,
        rounds: usize,
        cap: FlightCap,
        /// The largest window the receiver offered, bytes.
        receiver_max_window: u64,
    },
    /// It grew by about this much per round (congestion avoidance).
    Grows {
        bytes_per_round: f64,
        segments_per_round: f64,
    },
    /// It shrank by about this much per round.
    Shrinks { bytes_per_round: f64 },
}

/// What held a flat flight: the receiver's window (the flight reached 90 %
/// of the largest it offered) or, otherwise, the sender itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlightCap {
    ReceiverWindow,
    Sender,
}

/// One flight.
#[derive(Debug, Clone, Serialize)]
pub struct Round {
    /// 1-based.
    pub index: usize,
    pub first_frame: u64,
    pub last_frame: u64,
    pub start_ns: i64,
    pub segments: u64,
    pub bytes: u64,
}

fn median(values: &[i64]) -> Option<i64> {
    let mut v = values.to_vec();
    v.sort_unstable();
    v.get(v.len() / 2).copied()
}

fn rounds(view: &View<'_>, gap: Option<i64>) -> Vec<Round> {
    let mut out: Vec<Round> = Vec::new();
    // The current round's first sequence number, whether an ACK for its
    // data came in, and its last send time.
    let mut current: Option<(u32, bool, i64)> = None;
    for r in view.rows {
        if view.is_ack(r)
            && let (Some((start, acked, _)), Some(ack)) = (current.as_mut(), r.rel_ack)
            && seq::gt(ack, *start)
        {
            *acked = true;
        }
        if r.from != view.sender || !is_data(r) {
            continue;
        }
        let new =
            current.is_none_or(|(_, acked, last)| acked || gap.is_some_and(|g| r.ts_ns - last > g));
        if new {
            out.push(Round {
                index: out.len() + 1,
                first_frame: r.frame,
                last_frame: r.frame,
                start_ns: r.ts_ns - view.t0,
                segments: 0,
                bytes: 0,
            });
            current = Some((r.rel_seq, false, r.ts_ns));
        }
        if let (Some(round), Some(cur)) = (out.last_mut(), current.as_mut()) {
            round.last_frame = r.frame;
            round.segments += 1;
            round.bytes += u64::from(r.len);
            cur.2 = r.ts_ns;
        }
    }
    out
}

/// The last round that grew the flight by [`GROWTH`] over every earlier one.
fn slow_start_end(rounds: &[Round]) -> Option<usize> {
    let mut peak = rounds.first()?.bytes;
    let mut end = None;
    for r in &rounds[1..] {
        if r.bytes as f64 >= GROWTH * peak as f64 {
            end = Some(r.index);
        }
        peak = peak.max(r.bytes);
    }
    end
}

pub(super) fn slow_start(view: &View<'_>, conn: &ConnectionSummary, rtt: &RttTable) -> SlowStart {
    let basis = median(&rtt.all_samples_ns)
        .map(|r| (r, GapBasis::MedianSampleRtt))
        .or(conn
            .tcp
            .handshake
            .rtt_ns
            .map(|r| (r, GapBasis::HandshakeRtt)));
    let split_gap_ns = basis.map(|(r, _)| r / 2);
    let rounds = rounds(view, split_gap_ns);
    let end = slow_start_end(&rounds);
    let segment = super::acks::coverage(view)
        .typical_segment
        .unwrap_or(1)
        .max(1);
    let receiver_max = view
        .rows
        .iter()
        .filter(|r| r.from == view.receiver)
        .map(|r| r.window)
        .max()
        .unwrap_or(0);
    let reading = read(&rounds, end, segment, receiver_max);
    SlowStart {
        sender: view.sender,
        split_gap_ns,
        split_gap_basis: basis.map(|(_, b)| b),
        rounds,
        slow_start_ends_after: end,
        reading,
    }
}

fn read(rounds: &[Round], end: Option<usize>, segment: u64, receiver_max: u64) -> SlowStartReading {
    let Some(first) = rounds.first().filter(|_| rounds.len() >= 2) else {
        return SlowStartReading::TooShort {
            rounds: rounds.len(),
        };
    };
    let Some(k) = end else {
        return SlowStartReading::NoGrowth {
            first_round_bytes: first.bytes,
        };
    };
    let top = &rounds[k - 1];
    // The last round is often cut short by the end of the data: leave it out.
    let later = rounds.get(k..rounds.len() - 1).unwrap_or_default();
    let after = (later.len() >= 2).then(|| {
        let lo = later.iter().map(|r| r.bytes).min().unwrap_or(0);
        let hi = later.iter().map(|r| r.bytes).max().unwrap_or(0);
        let slope = (later[later.len() - 1].bytes as f64 - later[0].bytes as f64)
            / (later.len() - 1) as f64;
        if slope.abs() < segment as f64 / 2.0 {
            AfterSlowStart::Flat {
                lo,
                hi,
                rounds: later.len(),
                cap: if hi as f64 >= 0.9 * receiver_max as f64 {
                    FlightCap::ReceiverWindow
                } else {
                    FlightCap::Sender
                },
                receiver_max_window: receiver_max,
            }
        } else if slope > 0.0 {
            AfterSlowStart::Grows {
                bytes_per_round: slope,
                segments_per_round: slope / segment as f64,
            }
        } else {
            AfterSlowStart::Shrinks {
                bytes_per_round: -slope,
            }
        }
    });
    SlowStartReading::Ends {
        first_round_bytes: first.bytes,
        top_bytes: top.bytes,
        round: k,
        at_ns: top.start_ns,
        after,
    }
}

#[cfg(test)]
mod tests {
    use super::super::answer;
    use super::super::tests::{handshake, listed};
    use super::{AfterSlowStart, FlightCap, SlowStartReading};
    use recvscope_testkit::{Pkt, Trace};

    /// The client uploads 1, 2, 4, 8, 8, 8, 8 segments of 100 bytes per
    /// round trip (10 ms), each round ACKed by one ACK.
    fn doubling_then_flat() -> Trace {
        let mut t = Trace::new();
        handshake(&mut t);
        let mut seq = 1001;
        for n in [1, 2, 4, 8, 8, 8, 8] {
            for _ in 0..n {
                t.at(10, Pkt::c2s(seq, &[1; 100]).ack(5001).window(8192));
                seq += 100;
            }
            t.at(10_000, Pkt::s2c(5001, b"").ack(seq).window(60000));
        }
        t
    }

    #[test]
    fn rounds_follow_the_ack_clock_and_slow_start_ends_when_doubling_stops() {
        let a = answer(&listed(&doubling_then_flat()), 0).expect("listed");
        let s = &a.slow_start;
        let segs: Vec<u64> = s.rounds.iter().map(|r| r.segments).collect();
        assert_eq!(segs, [1, 2, 4, 8, 8, 8, 8]);
        let bytes: Vec<u64> = s.rounds.iter().map(|r| r.bytes).collect();
        assert_eq!(bytes, [100, 200, 400, 800, 800, 800, 800]);
        assert_eq!(s.rounds[1].first_frame, 6);
        assert_eq!(s.slow_start_ends_after, Some(4));
        let SlowStartReading::Ends { round, after, .. } = &s.reading else {
            panic!("{:?}", s.reading);
        };
        assert_eq!(*round, 4);
        assert_eq!(
            *after,
            Some(AfterSlowStart::Flat {
                lo: 800,
                hi: 800,
                rounds: 2,
                cap: FlightCap::Sender,
                receiver_max_window: 60000,
            })
        );
    }

    #[test]
    fn a_pause_longer_than_half_an_rtt_starts_a_new_round() {
        let mut t = Trace::new();
        handshake(&mut t);
        t.at(10, Pkt::c2s(1001, &[1; 100]).ack(5001).window(8192))
            .at(10_000, Pkt::s2c(5001, b"").ack(1101).window(60000))
            .at(10, Pkt::c2s(1101, &[1; 100]).ack(5001).window(8192))
            .at(6_000, Pkt::c2s(1201, &[1; 100]).ack(5001).window(8192))
            .at(1_000, Pkt::c2s(1301, &[1; 100]).ack(5001).window(8192));
        let a = answer(&listed(&t), 0).expect("listed");
        assert_eq!(a.slow_start.split_gap_ns, Some(5_000_000));
        let segs: Vec<u64> = a.slow_start.rounds.iter().map(|r| r.segments).collect();
        assert_eq!(segs, [1, 1, 2]);
        // Growth up to the very last round: nothing follows to describe.
        assert_eq!(a.slow_start.slow_start_ends_after, Some(3));
    }
}
