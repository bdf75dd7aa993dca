//! What a typical ACK acknowledges, and the connection's throughput.

use serde::Serialize;

use recvscope_wire::seq;

use super::{View, is_retransmission};

/// How much the receiver's ACKs acknowledge.
#[derive(Debug, Clone, Serialize)]
pub struct AckCoverage {
    /// ACKs that acknowledged new data of the bulk sender.
    pub acks: u64,
    /// Bytes newly acknowledged per ACK: value and how many ACKs, most common first.
    pub by_bytes: Vec<Bucket>,
    pub most_common_bytes: Option<u64>,
    /// Data segments whose last byte each ACK newly covered, most common first.
    pub by_segments: Vec<Bucket>,
    /// ACKs covering exactly two segments: a delayed ACK, every other segment.
    pub two_segment_acks: u64,
    /// The commonest data segment length, for reading the byte values.
    pub typical_segment: Option<u64>,
}

/// One histogram bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Bucket {
    pub value: u64,
    pub count: u64,
}

/// Bytes the receiver acknowledged over the time they took.
#[derive(Debug, Clone, Serialize)]
pub struct Throughput {
    /// From the first data byte to the highest acknowledged (FIN excluded).
    pub bytes: u64,
    pub first_data_frame: u64,
    pub first_data_ns: i64,
    /// The ACK that first acknowledged the last of those bytes.
    pub last_ack_frame: u64,
    pub last_ack_ns: i64,
    pub duration_ns: i64,
    pub bytes_per_second: f64,
}

/// Values with their counts, most common first, ties by value.
fn histogram(values: impl Iterator<Item = u64>) -> Vec<Bucket> {
    let mut counts = std::collections::BTreeMap::new();
    for v in values {
        *counts.entry(v).or_insert(0u64) += 1;
    }
    let mut out: Vec<Bucket> = counts
        .into_iter()
        .map(|(value, count)| Bucket { value, count })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
    out
}

/// Start and end of the bulk data, relative sequence numbers (end without FIN).
fn data_span(view: &View<'_>) -> Option<(u32, u32)> {
    let mut data = view.data().map(|(_, r)| r);
    let first = data.next()?;
    let end = data.fold(first.rel_seq.wrapping_add(first.len), |e, r| {
        seq::max(e, r.rel_seq.wrapping_add(r.len))
    });
    Some((first.rel_seq, end))
}

pub(super) fn coverage(view: &View<'_>) -> AckCoverage {
    let mut covered: Vec<(u64, u64)> = Vec::new();
    if let Some((start, end)) = data_span(view) {
        // Segment ends as offsets from the first data byte, so sorting and
        // counting them agree with sequence order across a wrap.
        let offset = |s: u32| s.wrapping_sub(start);
        let mut ends: Vec<u32> = view
            .data()
            .filter(|(_, r)| !is_retransmission(r))
            .map(|(_, r)| offset(r.rel_seq.wrapping_add(r.len)))
            .collect();
        ends.sort_unstable();
        let ended_by = |s: u32| ends.partition_point(|&e| e <= offset(s));
        let mut prev = start;
        for r in view.rows.iter().filter(|r| view.is_ack(r)) {
            let Some(ack) = r.rel_ack else { continue };
            let ack = if seq::gt(ack, end) { end } else { ack };
            if seq::gt(ack, prev) {
                let segments = ended_by(ack).saturating_sub(ended_by(prev));
                covered.push((u64::from(ack.wrapping_sub(prev)), segments as u64));
                prev = ack;
            }
        }
    }
    let by_bytes = histogram(covered.iter().map(|c| c.0));
    let by_segments = histogram(covered.iter().map(|c| c.1));
    AckCoverage {
        acks: covered.len() as u64,
        most_common_bytes: by_bytes.first().map(|b| b.value),
        two_segment_acks: covered.iter().filter(|c| c.1 == 2).count() as u64,
        by_bytes,
        by_segments,
        typical_segment: histogram(view.data().map(|(_, r)| u64::from(r.len)))
            .first()
            .map(|b| b.value),
    }
}

pub(super) fn throughput(view: &View<'_>) -> Option<Throughput> {
    let (start, end) = data_span(view)?;
    let (_, first) = view.data().next()?;
    let mut best: Option<(u32, &recvscope_tcp::PacketRecord)> = None;
    for r in view.rows.iter().filter(|r| view.is_ack(r)) {
        let Some(ack) = r.rel_ack else { continue };
        let ack = if seq::gt(ack, end) { end } else { ack };
        if seq::gt(ack, start) && best.is_none_or(|(b, _)| seq::gt(ack, b)) {
            best = Some((ack, r));
        }
    }
    let (acked, last) = best?;
    let duration_ns = last.ts_ns - first.ts_ns;
    if duration_ns <= 0 {
        return None;
    }
    let bytes = u64::from(acked.wrapping_sub(start));
    Some(Throughput {
        bytes,
        first_data_frame: first.frame,
        first_data_ns: first.ts_ns - view.t0,
        last_ack_frame: last.frame,
        last_ack_ns: last.ts_ns - view.t0,
        duration_ns,
        bytes_per_second: bytes as f64 / (duration_ns as f64 / 1e9),
    })
}

#[cfg(test)]
mod tests {
    use super::super::answer;
    use super::super::tests::{handshake, listed};
    use super::Bucket;
    use recvscope_testkit::{Pkt, Trace};
    use recvscope_wire::Side;

    /// The server sends eight 1000-byte segments; the client ACKs every
    /// other one, but the first alone and the last two plus a FIN.
    fn delayed_acks() -> Trace {
        let mut t = Trace::new();
        handshake(&mut t);
        t.push(
            Pkt::c2s(1001, b"GET / HTTP/1.0\r\n\r\n")
                .ack(5001)
                .window(8192),
        );
        let data = |i: u32| Pkt::s2c(5001 + 1000 * i, &[9; 1000]).ack(1019).window(4000);
        let ack = |n: u32| Pkt::c2s(1019, b"").ack(5001 + n).window(8192);
        t.push(data(0)).push(ack(1000));
        t.push(data(1)).push(data(2)).push(ack(3000));
        t.push(data(3)).push(data(4)).push(ack(5000));
        t.push(data(5)).push(data(6)).push(ack(7000));
        t.push(data(7))
            .push(Pkt::s2c(13001, b"").ack(1019).window(4000).fin());
        t.push(ack(8001));
        t
    }

    #[test]
    fn delayed_acks_cover_two_segments() {
        let a = answer(&listed(&delayed_acks()), 0).expect("listed");
        let c = &a.ack_coverage;
        assert_eq!(a.bulk_sender, Side::Server);
        assert_eq!(c.acks, 5);
        assert_eq!(
            c.by_bytes,
            [
                Bucket {
                    value: 2000,
                    count: 3
                },
                Bucket {
                    value: 1000,
                    count: 2
                }
            ]
        );
        assert_eq!(c.most_common_bytes, Some(2000));
        assert_eq!(
            c.by_segments,
            [Bucket { value: 2, count: 3 }, Bucket { value: 1, count: 2 }]
        );
        assert_eq!(c.two_segment_acks, 3);
        assert_eq!(c.typical_segment, Some(1000));
    }

    #[test]
    fn throughput_is_acknowledged_bytes_over_first_data_to_last_ack() {
        let a = answer(&listed(&delayed_acks()), 0).expect("listed");
        let t = a.throughput.expect("throughput");
        // Frames: 1-3 handshake, 4 GET, 5 first data, ..., 18 the ACK of the FIN.
        assert_eq!((t.first_data_frame, t.last_ack_frame), (5, 18));
        assert_eq!(t.bytes, 8000);
        // SYN at 1 ms, SYN-ACK 10 ms later, ACK 10 µs later, then a frame every millisecond.
        assert_eq!(t.first_data_ns, 13_010_000);
        assert_eq!(t.last_ack_ns, 26_010_000);
        assert_eq!(t.duration_ns, 13_000_000);
        assert_eq!(t.bytes_per_second, 8000.0 / 0.013);
    }

    /// Found by fuzzing (`tracker`): data whose end wraps past 2^32 relative
    /// to where it starts, then an ACK inside it, counted the covered
    /// segments by plain numeric order and went below zero.
    #[test]
    fn ack_coverage_across_a_sequence_wrap_counts_no_negative_segments() {
        use crate::Analyzer;
        use crate::{Limits, NoBodies};
        use recvscope_wire::{FrameMeta, LinkType};
        let frames: [&[u8]; 2] = [
            &[
                0x45, 0x00, 0x00, 0x34, 0xf7, 0xfb, 0x40, 0x00, 0x40, 0x06, 0x44, 0xc6, 0x7f, 0x00,
                0x00, 0x01, 0x7f, 0x00, 0x00, 0x01, 0xdd, 0x82, 0x46, 0xa2, 0x48, 0x1f, 0xb5, 0x98,
                0x93, 0xa2, 0x70, 0x15, 0x80, 0x10, 0x00, 0x40, 0xfe, 0x38, 0x30, 0x38, 0x32, 0x0a,
                0x0a, 0x00, 0x34, 0x00, 0xac, 0x36, 0x1e, 0xb7, 0x17, 0x8a,
            ],
            &[
                0x45, 0x00, 0x04, 0xf2, 0x5e, 0xf5, 0x40, 0x00, 0x40, 0x06, 0xd9, 0x0e, 0x7f, 0x00,
                0x00, 0x01, 0x7f, 0x00, 0x00, 0x01, 0x46, 0xa2, 0xdd, 0x82, 0x93, 0xa2, 0x70, 0x00,
                0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a,
            ],
        ];
        let mut a = Analyzer::new(LinkType::Raw, Limits::default(), Some(0));
        for (i, frame) in frames.iter().enumerate() {
            let meta = FrameMeta {
                number: i as u64 + 1,
                ts_ns: i as i64 * 100_000,
                orig_len: frame.len() as u32,
            };
            a.frame(meta, frame, &mut NoBodies);
        }
        let report = a.finish(&mut NoBodies);
        let answers = answer(&report.connections[0], 0).expect("listed");
        for b in &answers.ack_coverage.by_segments {
            assert!(b.value <= 2, "{b:?}");
        }
    }
}
