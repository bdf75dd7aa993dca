//! Bounded in-order reassembly of one direction of a TCP connection.
//!
//! Bytes come out in stream order exactly once; what the capture does not
//! hold comes out as a gap of known length and kind, so the byte offsets of
//! everything after it stay true: [`Gap::Lost`] for bytes never seen (lost
//! segments, data overflowing the out-of-order buffer), [`Gap::NotCaptured`]
//! for bytes of a seen segment that the snaplen cut off.
//!
//! Where two captured copies of the same bytes overlap, the copy captured
//! first is kept, as Wireshark's reassembly keeps the first fragment's data,
//! and a copy that differs from it is counted as a conflict: against held
//! out-of-order bytes byte by byte, and against bytes already handed on by
//! a digest of each of the last [`HISTORY`] pieces handed on (a copy that
//! covers such a piece whole is compared; the bytes themselves are not kept).

use std::collections::{BTreeMap, VecDeque};

use recvscope_wire::{Gap, SeqNumber};

/// What reassembly hands on, in stream order.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Chunk<'a> {
    /// Captured bytes at the current stream offset.
    Data(&'a [u8]),
    /// Bytes of the stream that are not in the capture, and why.
    Gap(Gap),
}

/// Default cap on out-of-order bytes held per direction.
pub(crate) const DEFAULT_LIMIT: usize = 4 << 20;

/// Pieces handed on whose digests are kept, to compare retransmissions with.
const HISTORY: usize = 32;

/// A piece of the stream handed on: where, how long, and its digest.
#[derive(Clone, Copy, Debug)]
struct Handed {
    off: u64,
    len: usize,
    digest: [u64; 2],
}

/// What a segment's bytes were, next to earlier captured copies of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Copies {
    /// No earlier copy differed (or none was there to compare).
    Agree,
    /// Some byte differs from the copy captured first, which is kept.
    Conflict,
}

#[derive(Debug)]
struct Pending {
    bytes: Vec<u8>,
    /// Stream length the segment claims (its captured bytes may be fewer).
    len: u64,
}

/// Reassembly state for one direction.
#[derive(Debug)]
pub(crate) struct Reassembler {
    /// Sequence number of the next byte expected, once anything was seen.
    next_seq: Option<SeqNumber>,
    /// Stream offset of that byte: how much was handed on so far.
    next_off: u64,
    /// Stream offset of the FIN, once seen.
    fin_off: Option<u64>,
    pending: BTreeMap<u64, Pending>,
    pending_bytes: usize,
    limit: usize,
    lost_bytes: u64,
    not_captured_bytes: u64,
    overflowed: bool,
    handed: VecDeque<Handed>,
    conflicts: u64,
}

impl Reassembler {
    pub(crate) fn new(limit: usize) -> Reassembler {
        Reassembler {
            next_seq: None,
            next_off: 0,
            fin_off: None,
            pending: BTreeMap::new(),
            pending_bytes: 0,
            limit,
            lost_bytes: 0,
            not_captured_bytes: 0,
            overflowed: false,
            handed: VecDeque::new(),
            conflicts: 0,
        }
    }

    /// Bytes handed on so far, gaps included: the stream offset reached.
    pub(crate) fn offset(&self) -> u64 {
        self.next_off
    }

    /// Bytes reported as [`Gap::Lost`] so far.
    pub(crate) fn lost_bytes(&self) -> u64 {
        self.lost_bytes
    }

    /// Bytes reported as [`Gap::NotCaptured`] so far.
    pub(crate) fn not_captured_bytes(&self) -> u64 {
        self.not_captured_bytes
    }

    /// True once the out-of-order buffer had to be cut to stay in its limit.
    pub(crate) fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// Segments whose bytes differed from the copy captured first.
    pub(crate) fn conflicts(&self) -> u64 {
        self.conflicts
    }

    /// Stream offset of `seq`, relative to the next expected byte.
    fn offset_of(&self, seq: SeqNumber, next_seq: SeqNumber) -> i128 {
        i128::from(self.next_off) + i128::from(seq - next_seq)
    }

    /// A SYN: the stream starts after its sequence number. True when this
    /// SYN came before anything else of the stream, which is then whole
    /// from its first byte.
    pub(crate) fn syn(&mut self, seq: SeqNumber) -> bool {
        let first = self.next_seq.is_none();
        if first {
            self.next_seq = Some(seq + 1);
        }
        first
    }

    /// A segment carrying `payload_len` bytes from `seq`, of which `captured`
    /// are in the capture; `fin` when it also closes the stream. Says whether
    /// its bytes differed from a copy captured before.
    pub(crate) fn segment(
        &mut self,
        seq: SeqNumber,
        captured: &[u8],
        payload_len: u32,
        fin: bool,
        out: &mut dyn FnMut(Chunk<'_>),
    ) -> Copies {
        let next_seq = *self.next_seq.get_or_insert(seq);
        let Ok(off) = u64::try_from(self.offset_of(seq, next_seq)) else {
            return Copies::Agree; // entirely before the stream we track
        };
        let len = u64::from(payload_len);
        if fin {
            self.fin_off.get_or_insert(off + len);
        }
        if len == 0 {
            return Copies::Agree;
        }
        let captured = &captured[..captured.len().min(payload_len as usize)];
        let mut copies = if off < self.next_off {
            self.compare_with_handed(off, captured)
        } else {
            Copies::Agree
        };
        if off + len > self.next_off {
            if self.pending.is_empty() && off <= self.next_off {
                self.emit(off, captured, len, out);
            } else if self.hold_new_parts(off, captured, len, out) == Copies::Conflict {
                copies = Copies::Conflict;
            }
        }
        if copies == Copies::Conflict {
            self.conflicts += 1;
        }
        copies
    }

    /// Compares a segment reaching back before `next_off` with the pieces
    /// handed on that it covers whole.
    fn compare_with_handed(&self, off: u64, captured: &[u8]) -> Copies {
        let end = off + captured.len() as u64;
        let differs = self.handed.iter().any(|h| {
            h.off >= off
                && h.off + h.len as u64 <= end
                && usize::try_from(h.off - off)
                    .ok()
                    .and_then(|from| captured.get(from..from + h.len))
                    .is_some_and(|b| digest(b) != h.digest)
        });
        if differs {
            Copies::Conflict
        } else {
            Copies::Agree
        }
    }

    /// Holds (or hands on, where they are next) the parts of a segment at
    /// `off` that no held segment covers: where one does, its bytes were
    /// captured first and stay; the new copy is compared with them.
    fn hold_new_parts(
        &mut self,
        off: u64,
        captured: &[u8],
        len: u64,
        out: &mut dyn FnMut(Chunk<'_>),
    ) -> Copies {
        let end = off + len;
        let mut cursor = off.max(self.next_off);
        let mut parts = Vec::new();
        let mut copies = Copies::Agree;
        let before = self.pending.range(..cursor).next_back();
        for (&held_off, held) in before.into_iter().chain(self.pending.range(cursor..end)) {
            let held_end = held_off + held.len;
            if held_end <= cursor {
                continue;
            }
            if held_off > cursor {
                parts.push((cursor, held_off));
            }
            if overlap_differs(off, captured, held_off, &held.bytes) {
                copies = Copies::Conflict;
            }
            cursor = cursor.max(held_end);
        }
        if cursor < end {
            parts.push((cursor, end));
        }
        for (from, to) in parts {
            let bytes = usize::try_from(from - off)
                .ok()
                .and_then(|a| captured.get(a..))
                .map_or(&[][..], |rest| {
                    &rest[..rest
                        .len()
                        .min(usize::try_from(to - from).unwrap_or(usize::MAX))]
                });
            self.hold(from, bytes, to - from, out);
        }
        self.drain(out);
        copies
    }

    /// The peer acknowledged up to `ack`: anything before it that never
    /// arrived was lost from the capture, so it becomes a gap now.
    pub(crate) fn acked(&mut self, ack: SeqNumber, out: &mut dyn FnMut(Chunk<'_>)) {
        let Some(next_seq) = self.next_seq else {
            return;
        };
        let Ok(mut ack_off) = u64::try_from(self.offset_of(ack, next_seq)) else {
            return;
        };
        if self.fin_off.is_some_and(|f| ack_off == f + 1) {
            ack_off -= 1;
        }
        if ack_off <= self.next_off {
            return;
        }
        let until = self
            .pending
            .keys()
            .next()
            .map_or(ack_off, |&first| first.min(ack_off));
        self.gap_to(until, Gap::Lost, out);
        self.drain(out);
    }

    /// End of capture: hands on everything held, with gaps where bytes are missing.
    pub(crate) fn finish(&mut self, out: &mut dyn FnMut(Chunk<'_>)) {
        while let Some(&first) = self.pending.keys().next() {
            self.gap_to(first, Gap::Lost, out);
            self.drain(out);
        }
    }

    /// Hands on the bytes up to `until` as a gap of `kind`.
    fn gap_to(&mut self, until: u64, kind: fn(u64) -> Gap, out: &mut dyn FnMut(Chunk<'_>)) {
        if until > self.next_off {
            let len = until - self.next_off;
            let gap = kind(len);
            match gap {
                Gap::Lost(_) => self.lost_bytes += len,
                Gap::NotCaptured(_) => self.not_captured_bytes += len,
            }
            out(Chunk::Gap(gap));
            self.advance(len);
        }
    }

    fn advance(&mut self, by: u64) {
        self.next_off += by;
        if let Some(s) = self.next_seq.as_mut() {
            *s += by as usize;
        }
    }

    /// Hands on the part of a segment at `off` that lies at or beyond
    /// `next_off`: its captured bytes, then the rest of its length, which
    /// was on the wire but not captured.
    fn emit(&mut self, off: u64, captured: &[u8], len: u64, out: &mut dyn FnMut(Chunk<'_>)) {
        let skip = self.next_off - off;
        let end = off + len;
        if let Some(fresh) = usize::try_from(skip)
            .ok()
            .and_then(|skip| captured.get(skip..))
            .filter(|b| !b.is_empty())
        {
            if self.handed.len() == HISTORY {
                self.handed.pop_front();
            }
            self.handed.push_back(Handed {
                off: self.next_off,
                len: fresh.len(),
                digest: digest(fresh),
            });
            out(Chunk::Data(fresh));
            self.advance(fresh.len() as u64);
        }
        self.gap_to(end, Gap::NotCaptured, out);
    }

    fn drain(&mut self, out: &mut dyn FnMut(Chunk<'_>)) {
        while let Some(entry) = self.pending.first_entry() {
            let off = *entry.key();
            if off > self.next_off {
                break;
            }
            let p = entry.remove();
            self.pending_bytes -= p.bytes.len();
            if off + p.len > self.next_off {
                self.emit(off, &p.bytes, p.len, out);
            }
        }
    }

    fn hold(&mut self, off: u64, captured: &[u8], len: u64, out: &mut dyn FnMut(Chunk<'_>)) {
        while self.pending_bytes + captured.len() > self.limit {
            self.overflowed = true;
            let Some(&first) = self.pending.keys().next() else {
                break;
            };
            if first > off {
                break;
            }
            self.gap_to(first, Gap::Lost, out);
            self.drain(out);
        }
        if off <= self.next_off {
            self.emit(off, captured, len, out);
            self.drain(out);
            return;
        }
        if self.pending_bytes + captured.len() > self.limit {
            self.overflowed = true;
            self.gap_to(off, Gap::Lost, out);
            self.emit(off, captured, len, out);
            self.drain(out);
            return;
        }
        self.pending.insert(
            off,
            Pending {
                bytes: captured.to_vec(),
                len,
            },
        );
        self.pending_bytes += captured.len();
    }
}

/// True where two captured copies, at stream offsets `a` and `b`, hold
/// different bytes at an offset both have.
fn overlap_differs(a: u64, a_bytes: &[u8], b: u64, b_bytes: &[u8]) -> bool {
    let from = a.max(b);
    let to = (a + a_bytes.len() as u64).min(b + b_bytes.len() as u64);
    if from >= to {
        return false;
    }
    let (Ok(at_a), Ok(at_b), Ok(n)) = (
        usize::try_from(from - a),
        usize::try_from(from - b),
        usize::try_from(to - from),
    ) else {
        return false;
    };
    a_bytes.get(at_a..at_a + n) != b_bytes.get(at_b..at_b + n)
}

/// A digest of `bytes`: Fletcher's two running sums over 8-byte words, in
/// four lanes the compiler turns into vector adds, so it costs a fraction of
/// reading the bytes. Not cryptographic: it tells a copy that changed bytes
/// (any one word, or words moved) from one that did not.
fn digest(bytes: &[u8]) -> [u64; 2] {
    let mut sum = [0u64; 4];
    let mut sum_of_sums = [0u64; 4];
    let mut blocks = bytes.chunks_exact(32);
    let mut add = |block: &[u8]| {
        for (lane, word) in block.chunks_exact(8).enumerate() {
            let w = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
            sum[lane] = sum[lane].wrapping_add(w);
            sum_of_sums[lane] = sum_of_sums[lane].wrapping_add(sum[lane]);
        }
    };
    for block in &mut blocks {
        add(block);
    }
    let mut tail = [0u8; 32];
    let rest = blocks.remainder();
    tail[..rest.len()].copy_from_slice(rest);
    add(&tail);
    let fold = |l: [u64; 4]| {
        l.iter().fold(bytes.len() as u64, |h, &x| {
            (h ^ x).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        })
    };
    [fold(sum), fold(sum_of_sums)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Eq)]
    enum Out {
        D(Vec<u8>),
        Lost(u64),
        Cut(u64),
    }

    trait Data {
        fn concat_data(&self) -> Vec<u8>;
    }

    impl Data for Vec<Out> {
        /// The data chunks, joined.
        fn concat_data(&self) -> Vec<u8> {
            self.iter()
                .filter_map(|o| match o {
                    Out::D(d) => Some(d.as_slice()),
                    _ => None,
                })
                .flatten()
                .copied()
                .collect()
        }
    }

    fn run(
        r: &mut Reassembler,
        f: impl FnOnce(&mut Reassembler, &mut dyn FnMut(Chunk<'_>)),
    ) -> Vec<Out> {
        let mut got = Vec::new();
        f(r, &mut |c| {
            got.push(match c {
                Chunk::Data(d) => Out::D(d.to_vec()),
                Chunk::Gap(Gap::Lost(n)) => Out::Lost(n),
                Chunk::Gap(Gap::NotCaptured(n)) => Out::Cut(n),
            })
        });
        got
    }

    #[test]
    fn in_order_segments_pass_straight_through() {
        let mut r = Reassembler::new(DEFAULT_LIMIT);
        r.syn(SeqNumber(99));
        let got = run(&mut r, |r, o| {
            r.segment(SeqNumber(100), b"abc", 3, false, o);
            r.segment(SeqNumber(103), b"de", 2, false, o);
        });
        assert_eq!(got, vec![Out::D(b"abc".to_vec()), Out::D(b"de".to_vec())]);
        assert_eq!(r.offset(), 5);
    }

    #[test]
    fn out_of_order_segment_waits_for_the_hole() {
        let mut r = Reassembler::new(DEFAULT_LIMIT);
        r.syn(SeqNumber(0));
        let got = run(&mut r, |r, o| {
            r.segment(SeqNumber(4), b"def", 3, false, o);
            r.segment(SeqNumber(1), b"abc", 3, false, o);
        });
        assert_eq!(got, vec![Out::D(b"abc".to_vec()), Out::D(b"def".to_vec())]);
    }

    #[test]
    fn retransmitted_overlap_is_trimmed() {
        let mut r = Reassembler::new(DEFAULT_LIMIT);
        r.syn(SeqNumber(0));
        let got = run(&mut r, |r, o| {
            r.segment(SeqNumber(1), b"abcd", 4, false, o);
            r.segment(SeqNumber(3), b"cdef", 4, false, o);
            r.segment(SeqNumber(1), b"abcd", 4, false, o);
        });
        assert_eq!(got, vec![Out::D(b"abcd".to_vec()), Out::D(b"ef".to_vec())]);
    }

    #[test]
    fn a_retransmission_with_other_bytes_keeps_the_first_copy_and_is_a_conflict() {
        let mut r = Reassembler::new(DEFAULT_LIMIT);
        r.syn(SeqNumber(0));
        let mut copies = Vec::new();
        let got = run(&mut r, |r, o| {
            copies.push(r.segment(SeqNumber(1), b"abcd", 4, false, o));
            copies.push(r.segment(SeqNumber(5), b"efgh", 4, false, o));
            copies.push(r.segment(SeqNumber(1), b"abcd", 4, false, o));
            copies.push(r.segment(SeqNumber(1), b"abXdefgh", 8, false, o));
        });
        assert_eq!(
            got,
            vec![Out::D(b"abcd".to_vec()), Out::D(b"efgh".to_vec())]
        );
        assert_eq!(
            copies,
            [
                Copies::Agree,
                Copies::Agree,
                Copies::Agree,
                Copies::Conflict
            ]
        );
        assert_eq!(r.conflicts(), 1);
    }

    #[test]
    fn a_later_copy_of_held_bytes_never_replaces_them() {
        let mut r = Reassembler::new(DEFAULT_LIMIT);
        r.syn(SeqNumber(0));
        let mut copies = Vec::new();
        let got = run(&mut r, |r, o| {
            copies.push(r.segment(SeqNumber(5), b"efgh", 4, false, o));
            copies.push(r.segment(SeqNumber(5), b"EFGHij", 6, false, o));
            copies.push(r.segment(SeqNumber(1), b"abcd", 4, false, o));
        });
        assert_eq!(
            got,
            vec![
                Out::D(b"abcd".to_vec()),
                Out::D(b"efgh".to_vec()),
                Out::D(b"ij".to_vec())
            ]
        );
        assert_eq!(copies, [Copies::Agree, Copies::Conflict, Copies::Agree]);
    }

    #[test]
    fn a_copy_spanning_held_bytes_fills_only_around_them() {
        let mut r = Reassembler::new(DEFAULT_LIMIT);
        r.syn(SeqNumber(0));
        let mut copies = Vec::new();
        let got = run(&mut r, |r, o| {
            copies.push(r.segment(SeqNumber(5), b"efg", 3, false, o));
            copies.push(r.segment(SeqNumber(1), b"abcdefghij", 10, false, o));
        });
        assert_eq!(
            got,
            vec![
                Out::D(b"abcd".to_vec()),
                Out::D(b"efg".to_vec()),
                Out::D(b"hij".to_vec())
            ]
        );
        assert_eq!(copies, [Copies::Agree, Copies::Agree]);
        let mut r = Reassembler::new(DEFAULT_LIMIT);
        r.syn(SeqNumber(0));
        let got = run(&mut r, |r, o| {
            r.segment(SeqNumber(5), b"efg", 3, false, o);
            assert_eq!(
                r.segment(SeqNumber(1), b"abcdEFGhij", 10, false, o),
                Copies::Conflict
            );
        });
        assert_eq!(
            got.concat_data(),
            b"abcdefghij".to_vec(),
            "the held copy was captured first"
        );
    }

    #[test]
    fn bytes_cut_by_the_snaplen_are_not_compared() {
        let mut r = Reassembler::new(DEFAULT_LIMIT);
        r.syn(SeqNumber(0));
        let got = run(&mut r, |r, o| {
            assert_eq!(r.segment(SeqNumber(1), b"ab", 4, false, o), Copies::Agree);
            assert_eq!(r.segment(SeqNumber(1), b"abcd", 4, false, o), Copies::Agree);
        });
        assert_eq!(got, vec![Out::D(b"ab".to_vec()), Out::Cut(2)]);
        assert_eq!(r.conflicts(), 0);
    }

    #[test]
    fn snaplen_cut_payload_becomes_a_not_captured_gap_not_a_lost_one() {
        let mut r = Reassembler::new(DEFAULT_LIMIT);
        r.syn(SeqNumber(0));
        let got = run(&mut r, |r, o| {
            r.segment(SeqNumber(1), b"ab", 10, false, o);
        });
        assert_eq!(got, vec![Out::D(b"ab".to_vec()), Out::Cut(8)]);
        assert_eq!((r.not_captured_bytes(), r.lost_bytes()), (8, 0));
    }

    #[test]
    fn a_held_segment_cut_by_snaplen_keeps_its_cut_apart_from_the_hole_before_it() {
        let mut r = Reassembler::new(DEFAULT_LIMIT);
        r.syn(SeqNumber(0));
        let got = run(&mut r, |r, o| {
            r.segment(SeqNumber(11), b"xyz", 100, false, o);
            r.finish(o);
        });
        assert_eq!(
            got,
            vec![Out::Lost(10), Out::D(b"xyz".to_vec()), Out::Cut(97)]
        );
        assert_eq!((r.lost_bytes(), r.not_captured_bytes()), (10, 97));
    }

    #[test]
    fn a_retransmission_past_the_captured_part_of_a_cut_segment_is_not_captured_either() {
        let mut r = Reassembler::new(DEFAULT_LIMIT);
        r.syn(SeqNumber(0));
        let got = run(&mut r, |r, o| {
            r.segment(SeqNumber(1), b"ab", 10, false, o);
            r.segment(SeqNumber(1), b"ab", 20, false, o);
        });
        assert_eq!(got, vec![Out::D(b"ab".to_vec()), Out::Cut(8), Out::Cut(10)]);
    }

    #[test]
    fn acked_but_unseen_bytes_become_a_gap() {
        let mut r = Reassembler::new(DEFAULT_LIMIT);
        r.syn(SeqNumber(0));
        let got = run(&mut r, |r, o| {
            r.segment(SeqNumber(1), b"ab", 2, false, o);
            r.segment(SeqNumber(8), b"hi", 2, false, o);
            r.acked(SeqNumber(10), o);
        });
        assert_eq!(
            got,
            vec![Out::D(b"ab".to_vec()), Out::Lost(5), Out::D(b"hi".to_vec())]
        );
        assert_eq!((r.lost_bytes(), r.not_captured_bytes()), (5, 0));
    }

    #[test]
    fn ack_of_fin_is_not_a_gap() {
        let mut r = Reassembler::new(DEFAULT_LIMIT);
        r.syn(SeqNumber(0));
        let got = run(&mut r, |r, o| {
            r.segment(SeqNumber(1), b"ab", 2, true, o);
            r.acked(SeqNumber(4), o);
        });
        assert_eq!(got, vec![Out::D(b"ab".to_vec())]);
    }

    #[test]
    fn finish_flushes_held_segments_after_a_gap() {
        let mut r = Reassembler::new(DEFAULT_LIMIT);
        r.syn(SeqNumber(0));
        let got = run(&mut r, |r, o| {
            r.segment(SeqNumber(5), b"ef", 2, false, o);
            r.finish(o);
        });
        assert_eq!(got, vec![Out::Lost(4), Out::D(b"ef".to_vec())]);
    }

    #[test]
    fn sequence_numbers_wrap_without_losing_offsets() {
        let mut r = Reassembler::new(DEFAULT_LIMIT);
        r.syn(SeqNumber(u32::MAX - 2));
        let got = run(&mut r, |r, o| {
            r.segment(SeqNumber(u32::MAX - 1), b"ab", 2, false, o);
            r.segment(SeqNumber(0), b"cd", 2, false, o);
        });
        assert_eq!(got, vec![Out::D(b"ab".to_vec()), Out::D(b"cd".to_vec())]);
        assert_eq!(r.offset(), 4);
    }

    #[test]
    fn buffer_limit_forces_gaps_instead_of_growing() {
        let mut r = Reassembler::new(8);
        r.syn(SeqNumber(0));
        let got = run(&mut r, |r, o| {
            r.segment(SeqNumber(11), b"12345", 5, false, o);
            r.segment(SeqNumber(21), b"abcde", 5, false, o);
            r.finish(o);
        });
        assert_eq!(
            got,
            vec![
                Out::Lost(10),
                Out::D(b"12345".to_vec()),
                Out::Lost(5),
                Out::D(b"abcde".to_vec())
            ]
        );
        assert!(r.overflowed());
        assert!(r.pending_bytes <= 8);
    }

    #[test]
    fn capture_starting_mid_stream_starts_at_the_first_segment() {
        let mut r = Reassembler::new(DEFAULT_LIMIT);
        let got = run(&mut r, |r, o| {
            r.segment(SeqNumber(5000), b"xy", 2, false, o);
            r.segment(SeqNumber(4000), b"old", 3, false, o);
        });
        assert_eq!(got, vec![Out::D(b"xy".to_vec())]);
    }
}
