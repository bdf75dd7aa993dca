//! SampleRTT and EstimatedRTT of the bulk sender's first data segments.
//!
//! Which ACK measures which segment follows Wireshark's
//! `tcp.analysis.ack_rtt` (and the lab): the first ACK to cover a segment
//! measures it only when its acknowledgement number is exactly the
//! segment's end; a cumulative ACK reaching past it measures the later
//! segment it does end at. A segment sent more than once is never sampled
//! (Karn's algorithm), since its ACK cannot say which copy it answers.

use serde::Serialize;

use recvscope_wire::{Side, seq};

use super::{ALPHA, RTT_SEGMENTS, View, is_retransmission};

/// The lab's RTT table.
#[derive(Debug, Clone, Serialize)]
pub struct RttTable {
    /// "client" or "server": whose segments these are.
    pub sender: Side,
    pub alpha: f64,
    pub rows: Vec<RttRow>,
    /// Every SampleRTT of the connection's bulk data, in ACK order.
    pub all_samples_ns: Vec<i64>,
}

/// One data segment of the table.
#[derive(Debug, Clone, Serialize)]
pub struct RttRow {
    /// 1-based position among the bulk sender's data segments.
    pub segment: usize,
    pub frame: u64,
    pub rel_seq: u32,
    pub len: u32,
    pub sent_ns: i64,
    /// The first ACK whose acknowledgement number covers the segment.
    pub ack_frame: Option<u64>,
    pub ack_ns: Option<i64>,
    pub ack: Option<u32>,
    /// ACK time minus send time, when that ACK measures this segment.
    pub sample_rtt_ns: Option<i64>,
    /// EstimatedRTT once this row's ACK is in: (1 − α)·previous + α·SampleRTT,
    /// starting at the first SampleRTT; unchanged by a row without a sample.
    pub estimated_rtt_ns: Option<f64>,
    /// Why there is no sample, or why the sample is another segment's.
    pub note: Option<RttNote>,
}

/// Why a row of the RTT table has no sample of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RttNote {
    /// No ACK in the capture covers the segment.
    NotAcknowledged,
    /// The segment was sent more than once (Karn: not sampled).
    SentMoreThanOnce,
    /// The ACK that covers it (`ack_frame`, acknowledging `ack`) ends past
    /// it, so the sample measures the segment ending there.
    CumulativeAck { ack_frame: u64, ack: u32 },
}

struct Pending {
    row: usize,
    seq: u32,
    end: u32,
    ambiguous: bool,
}

/// How each of the bulk sender's data segments was acknowledged.
struct Acked {
    row: usize,
    ambiguous: bool,
    /// Row index of the first covering ACK.
    by: Option<usize>,
}

fn acknowledgements(view: &View<'_>) -> Vec<Acked> {
    let mut out: Vec<Acked> = Vec::new();
    let mut pending: Vec<Pending> = Vec::new();
    for (i, r) in view.rows.iter().enumerate() {
        if view.is_ack(r)
            && let Some(ack) = r.rel_ack
        {
            pending.retain(|p| {
                if seq::ge(ack, p.end) {
                    out.push(Acked {
                        row: p.row,
                        ambiguous: p.ambiguous,
                        by: Some(i),
                    });
                    false
                } else {
                    true
                }
            });
        }
        if r.from == view.sender && super::is_data(r) {
            let (s, end) = (r.rel_seq, r.end_seq());
            let again = is_retransmission(r);
            if again {
                for p in pending
                    .iter_mut()
                    .filter(|p| seq::lt(p.seq, end) && seq::gt(p.end, s))
                {
                    p.ambiguous = true;
                }
            }
            pending.push(Pending {
                row: i,
                seq: s,
                end,
                ambiguous: again,
            });
        }
    }
    out.extend(pending.into_iter().map(|p| Acked {
        row: p.row,
        ambiguous: p.ambiguous,
        by: None,
    }));
    out.sort_by_key(|a| a.row);
    out
}

/// The table for the first [`RTT_SEGMENTS`] data segments of the bulk sender.
pub(super) fn table(view: &View<'_>) -> RttTable {
    let acked = acknowledgements(view);
    let mut estimate: Option<f64> = None;
    let mut rows = Vec::new();
    let mut samples: Vec<(usize, i64)> = Vec::new();
    for (n, a) in acked.iter().enumerate() {
        let r = &view.rows[a.row];
        let ack_row = a.by.map(|i| &view.rows[i]);
        let ack = ack_row.and_then(|x| x.rel_ack);
        let exact = ack == Some(r.end_seq());
        let sample = match ack_row {
            Some(x) if exact && !a.ambiguous => Some(x.ts_ns - r.ts_ns),
            _ => None,
        };
        if let (Some(s), Some(i)) = (sample, a.by) {
            samples.push((i, s));
        }
        if n >= RTT_SEGMENTS {
            continue;
        }
        if let Some(s) = sample {
            let s = s as f64;
            estimate = Some(estimate.map_or(s, |e| (1.0 - ALPHA) * e + ALPHA * s));
        }
        let note = match (ack_row, ack) {
            (None, _) | (_, None) => Some(RttNote::NotAcknowledged),
            _ if a.ambiguous => Some(RttNote::SentMoreThanOnce),
            (Some(x), Some(ack)) if !exact => Some(RttNote::CumulativeAck {
                ack_frame: x.frame,
                ack,
            }),
            _ => None,
        };
        rows.push(RttRow {
            segment: n + 1,
            frame: r.frame,
            rel_seq: r.rel_seq,
            len: r.len,
            sent_ns: r.ts_ns - view.t0,
            ack_frame: ack_row.map(|x| x.frame),
            ack_ns: ack_row.map(|x| x.ts_ns - view.t0),
            ack,
            sample_rtt_ns: sample,
            estimated_rtt_ns: estimate,
            note,
        });
    }
    samples.sort_by_key(|&(i, _)| i);
    RttTable {
        sender: view.sender,
        alpha: ALPHA,
        rows,
        all_samples_ns: samples.into_iter().map(|(_, s)| s).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::answer;
    use super::super::tests::{handshake, listed};
    use super::RttNote;
    use recvscope_testkit::{Pkt, Trace};
    use recvscope_wire::Side;

    const MS: i64 = 1_000_000;

    fn samples(rows: &[super::RttRow]) -> Vec<Option<i64>> {
        rows.iter().map(|r| r.sample_rtt_ns).collect()
    }

    #[test]
    fn each_ack_ending_a_segment_gives_a_sample_and_the_ewma_follows() {
        let mut t = Trace::new();
        handshake(&mut t);
        // Client uploads six 100-byte segments; each is ACKed on its own,
        // 8, 16, 8, 24, 8 and 8 ms after it was sent.
        let rtts = [8, 16, 8, 24, 8, 8];
        let mut seq = 1001;
        for rtt in rtts {
            t.at(1000, Pkt::c2s(seq, &[1; 100]).ack(5001).window(8192));
            seq += 100;
            t.at(rtt * 1000, Pkt::s2c(5001, b"").ack(seq).window(4000));
        }
        let a = answer(&listed(&t), 0).expect("listed");
        let r = &a.rtt;
        assert_eq!(r.sender, Side::Client);
        assert_eq!(r.rows.len(), 6);
        assert_eq!(samples(&r.rows), rtts.map(|ms| Some(ms * MS)).to_vec());
        let est: Vec<f64> = r
            .rows
            .iter()
            .map(|x| x.estimated_rtt_ns.expect("estimate") / 1e6)
            .collect();
        // 8; 0.875·8 + 0.125·16 = 9; 0.875·9 + 1 = 8.875; 0.875·8.875 + 3 = 10.765625;
        // 0.875·10.765625 + 1 = 10.419921875; 0.875·10.419921875 + 1 = 10.117431640625.
        assert_eq!(
            est,
            [8.0, 9.0, 8.875, 10.765625, 10.419921875, 10.117431640625]
        );
        assert_eq!(r.rows[0].frame, 4);
        assert_eq!(r.rows[0].ack_frame, Some(5));
        assert_eq!(r.rows[1].rel_seq, 101);
        assert!(r.rows.iter().all(|x| x.note.is_none()));
    }

    #[test]
    fn a_cumulative_ack_measures_only_the_segment_it_ends() {
        let mut t = Trace::new();
        handshake(&mut t);
        t.push(Pkt::c2s(1001, &[1; 100]).ack(5001).window(8192))
            .push(Pkt::c2s(1101, &[1; 100]).ack(5001).window(8192))
            .push(Pkt::s2c(5001, b"").ack(1201).window(4000));
        let a = answer(&listed(&t), 0).expect("listed");
        let rows = &a.rtt.rows;
        assert_eq!(samples(rows), [None, Some(MS)]);
        assert_eq!(rows[0].ack_frame, Some(6));
        assert_eq!(
            rows[0].note,
            Some(RttNote::CumulativeAck {
                ack_frame: 6,
                ack: 201
            })
        );
        assert_eq!(rows[1].estimated_rtt_ns, Some(1e6));
    }

    #[test]
    fn karn_a_retransmitted_segment_is_never_sampled() {
        let mut t = Trace::new();
        handshake(&mut t);
        t.push(Pkt::c2s(1001, &[1; 100]).ack(5001).window(8192))
            .push(Pkt::s2c(5001, b"").ack(1101).window(4000))
            .push(Pkt::c2s(1101, &[1; 100]).ack(5001).window(8192))
            .at(300_000, Pkt::c2s(1101, &[1; 100]).ack(5001).window(8192))
            .at(2000, Pkt::s2c(5001, b"").ack(1201).window(4000));
        let a = answer(&listed(&t), 0).expect("listed");
        let rows = &a.rtt.rows;
        assert_eq!(rows.len(), 3);
        assert_eq!(samples(rows), [Some(MS), None, None]);
        assert!(
            rows[1..]
                .iter()
                .all(|r| r.note == Some(RttNote::SentMoreThanOnce))
        );
        assert_eq!(rows[2].estimated_rtt_ns, Some(1e6));
        assert_eq!(a.rtt.all_samples_ns, [MS]);
    }
}
