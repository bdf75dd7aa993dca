//! Wireshark's TCP sequence analysis (`tcp_analyze_sequence_number()` in
//! `epan/dissectors/packet-tcp.c`), one segment at a time, in capture order.
//!
//! The rules, their order and their quirks follow Wireshark so the flag
//! counts equal tshark's; where Wireshark's reading misleads (a Linux
//! zero-window probe looks like a keep-alive) the extra flag
//! [`Flag::PersistProbe`] says so without changing Wireshark's count.

use recvscope_wire::{HeaderState, Segment, TcpFlags, seq};

use super::flags::{Flag, FlagSet};

/// Wireshark stops tracking unacknowledged segments past this many.
const MAX_UNACKED_SEGMENTS: usize = 10_000;
/// Fast retransmissions come within this long of the peer's last ACK.
const FAST_RETRANSMIT_NS: i64 = 20_000_000;
/// Out-of-order threshold when the handshake RTT is unknown.
const DEFAULT_OOO_NS: i64 = 3_000_000;

/// Window scaling as Wireshark tracks it per direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowScale {
    /// No handshake seen: the shift cannot be known.
    Unknown,
    /// The handshake shows scaling is not in use.
    NotUsed,
    /// The shift this side announced in its SYN.
    Shift(u8),
}

impl WindowScale {
    /// The shift to apply to this side's window fields (0 unless known).
    pub fn shift(self) -> u8 {
        match self {
            WindowScale::Shift(s) => s,
            _ => 0,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Unacked {
    seq: u32,
    nextseq: u32,
}

/// Per-direction analysis state (Wireshark's `tcp_flow_t` and
/// `tcp_analyze_seq_flow_info_t`). Zero means "not seen yet" for `nextseq`,
/// `lastack` and `maxseqtobeacked`, exactly as in Wireshark.
#[derive(Debug)]
struct Flow {
    nextseq: u32,
    nextseq_time: i64,
    lastack: u32,
    lastack_time: i64,
    maxseqtobeacked: u32,
    /// Raw window field of this side's last segment.
    window: u32,
    scale: WindowScale,
    /// Set by a SYN, cleared by the next plain ACK: until then this side's
    /// window is taken unscaled (Wireshark issue 14690).
    first_ack: bool,
    last_flags: FlagSet,
    /// Wireshark keeps this in a `guint32` and stores -1 in it; so do we.
    dupacks: u32,
    unacked: Vec<Unacked>,
}

impl Flow {
    fn new() -> Flow {
        Flow {
            nextseq: 0,
            nextseq_time: 0,
            lastack: 0,
            lastack_time: 0,
            maxseqtobeacked: 0,
            window: u32::MAX,
            scale: WindowScale::Unknown,
            first_ack: false,
            last_flags: FlagSet::default(),
            dupacks: 0,
            unacked: Vec::new(),
        }
    }

    /// This side's last window in bytes, as the peer must respect it.
    fn window_edge(&self) -> u32 {
        let shift = if self.first_ack {
            0
        } else {
            self.scale.shift()
        };
        self.window << shift
    }
}

/// Wireshark-equivalent analysis of one connection.
#[derive(Debug)]
pub struct Analysis {
    flows: [Flow; 2],
    /// Time of the most recent SYN, for the handshake RTT.
    syn_time: i64,
    /// SYN to the first plain ACK (Wireshark's iRTT); 0 while unknown.
    initial_rtt_ns: i64,
}

impl Default for Analysis {
    fn default() -> Self {
        Analysis::new()
    }
}

impl Analysis {
    pub fn new() -> Analysis {
        Analysis {
            flows: [Flow::new(), Flow::new()],
            syn_time: 0,
            initial_rtt_ns: 0,
        }
    }

    /// The handshake RTT (SYN to the first plain ACK), as Wireshark's iRTT.
    pub fn initial_rtt_ns(&self) -> Option<i64> {
        (self.initial_rtt_ns != 0).then_some(self.initial_rtt_ns)
    }

    /// Window scaling of the side sending in direction `dir`.
    pub fn scale(&self, dir: usize) -> WindowScale {
        self.flows[dir].scale
    }

    /// The window the side sending in `dir` advertises in `seg`, in bytes,
    /// scaled where the shift is known (SYN windows are never scaled).
    pub fn scaled_window(&self, dir: usize, seg: &Segment<'_>) -> u64 {
        if seg.flags.syn() {
            u64::from(seg.window)
        } else {
            u64::from(seg.window) << self.flows[dir].scale.shift()
        }
    }

    /// Sequence number after the last byte `dir` has sent.
    pub fn next_seq(&self, dir: usize) -> u32 {
        self.flows[dir].nextseq
    }

    /// The last acknowledgement number sent in `dir`, once one was.
    pub fn last_ack(&self, dir: usize) -> Option<u32> {
        let f = &self.flows[dir];
        (f.lastack != 0).then_some(f.lastack)
    }

    /// A SYN repeating the ISN already seen: Wireshark rewinds `nextseq` so
    /// the repeat reads as a retransmission (its issue 17616).
    pub fn syn_repeated(&mut self, dir: usize) {
        let f = &mut self.flows[dir];
        f.nextseq = f.maxseqtobeacked;
    }

    /// Analyses a segment travelling in direction `dir` (0 or 1).
    /// Segments whose header is not whole are analysed as Wireshark does,
    /// but their flags stay hidden as Wireshark hides them.
    pub fn segment(&mut self, dir: usize, seg: &Segment<'_>) -> FlagSet {
        match seg.header {
            HeaderState::Short => FlagSet::default(),
            HeaderState::BogusLength => {
                self.sequence(dir, seg);
                FlagSet::default()
            }
            HeaderState::OptionsCut => {
                self.sequence(dir, seg);
                self.after(dir, seg);
                FlagSet::default()
            }
            HeaderState::Complete => {
                let ta = self.sequence(dir, seg);
                self.after(dir, seg);
                ta
            }
        }
    }

    /// `tcp_analyze_sequence_number()`.
    fn sequence(&mut self, dir: usize, seg: &Segment<'_>) -> FlagSet {
        let ts = seg.meta.ts_ns;
        let seglen = seg.payload_len;
        let (s, a) = (seg.seq, seg.ack);
        let win = u32::from(seg.window);
        let flags = seg.flags;
        let sfr = flags.syn_fin_rst();
        let [f0, f1] = &mut self.flows;
        let (fwd, rev) = if dir == 0 { (f0, f1) } else { (f1, f0) };
        let mut ta = FlagSet::default();

        'fwd: {
            if seglen == 1 && s == fwd.nextseq && rev.window == 0 {
                ta.insert(Flag::ZeroWindowProbe);
                break 'fwd;
            }
            if win == 0 && !sfr {
                ta.insert(Flag::ZeroWindow);
            }
            if fwd.nextseq != 0 && seq::gt(s, fwd.nextseq) && !flags.rst() {
                ta.insert(Flag::LostSegment);
            }
            if seglen <= 1 && s == fwd.nextseq.wrapping_sub(1) && !sfr {
                ta.insert(Flag::KeepAlive);
                if rev.window == 0 {
                    ta.insert(Flag::PersistProbe);
                }
            }
            let same = seglen == 0 && s == fwd.nextseq && a == fwd.lastack && !sfr;
            if same && win != 0 && win != fwd.window {
                ta.insert(Flag::WindowUpdate);
            }
            if seglen > 0
                && rev.scale != WindowScale::Unknown
                && s.wrapping_add(seglen) == rev.lastack.wrapping_add(rev.window_edge())
                && !sfr
            {
                ta.insert(Flag::WindowFull);
            }
            if same && win != 0 && win == fwd.window && rev.last_flags.contains(Flag::KeepAlive) {
                ta.insert(Flag::KeepAliveAck);
                break 'fwd;
            }
            if same
                && win == 0
                && win == fwd.window
                && rev.last_flags.contains(Flag::ZeroWindowProbe)
            {
                ta.insert(Flag::ZeroWindowProbeAck);
                break 'fwd;
            }
            if same && win != 0 && win == fwd.window {
                fwd.dupacks = if fwd.dupacks == u32::MAX {
                    1
                } else {
                    fwd.dupacks + 1
                };
                ta.insert(Flag::DuplicateAck);
            }
        }
        if a != fwd.lastack {
            fwd.dupacks = 0;
        }

        if rev.maxseqtobeacked != 0 && seq::gt(a, rev.maxseqtobeacked) && flags.ack() {
            if seq::lt(rev.maxseqtobeacked, rev.nextseq) {
                rev.maxseqtobeacked = rev.nextseq;
                ta.insert(Flag::AckLostSegment);
            } else {
                if rev.dupacks == 0 {
                    ta.insert(Flag::AckLostSegment);
                }
                rev.dupacks = u32::MAX;
            }
        }

        'retrans: {
            if !(seglen > 0 || flags.syn() || flags.fin()) || ta.contains(Flag::KeepAlive) {
                break 'retrans;
            }
            let mut not_advanced = fwd.nextseq != 0 && seq::lt(s, fwd.nextseq);
            if seglen > 1 && fwd.nextseq.wrapping_sub(1) == s {
                not_advanced = false;
            }
            if seglen > 0 && rev.lastack != 0 && seq::le(s.wrapping_add(seglen), rev.lastack) {
                ta.insert(Flag::SpuriousRetransmission);
                ta.insert(Flag::Retransmission);
                break 'retrans;
            }
            // Wireshark computes these as u64: a negative gap wraps to huge.
            let since_ack = (ts.wrapping_sub(rev.lastack_time)) as u64;
            if not_advanced
                && rev.dupacks >= 2
                && rev.lastack == s
                && since_ack < FAST_RETRANSMIT_NS as u64
            {
                ta.insert(Flag::FastRetransmission);
                ta.insert(Flag::Retransmission);
                break 'retrans;
            }
            let since_next = (ts.wrapping_sub(fwd.nextseq_time)) as u64;
            let threshold = if self.initial_rtt_ns == 0 {
                DEFAULT_OOO_NS
            } else {
                self.initial_rtt_ns
            } as u64;
            let end = s
                .wrapping_add(seglen)
                .wrapping_add(u32::from(flags.syn() || flags.fin()));
            if not_advanced && since_next < threshold && fwd.nextseq != end {
                ta.insert(Flag::OutOfOrder);
                break 'retrans;
            }
            if not_advanced {
                ta.insert(Flag::Retransmission);
            }
        }

        let mut nextseq = s.wrapping_add(seglen);
        if (seglen > 0 || flags.syn() || flags.fin()) && fwd.unacked.len() < MAX_UNACKED_SEGMENTS {
            if flags.syn() || flags.fin() {
                nextseq = nextseq.wrapping_add(1);
            }
            fwd.unacked.push(Unacked { seq: s, nextseq });
        }
        let probe = ta.contains(Flag::ZeroWindowProbe);
        if (seq::gt(nextseq, fwd.nextseq) || fwd.nextseq == 0) && !probe {
            fwd.nextseq = nextseq;
            fwd.nextseq_time = ts;
        }
        if (s == fwd.maxseqtobeacked || fwd.maxseqtobeacked == 0) && !probe {
            fwd.maxseqtobeacked = fwd.nextseq;
        }
        fwd.window = win;
        fwd.lastack = a;
        fwd.lastack_time = ts;
        fwd.last_flags = ta;

        rev.unacked.retain_mut(|u| {
            if seq::le(u.nextseq, a) {
                false
            } else {
                if seq::gt(a, u.seq) {
                    u.seq = a;
                }
                true
            }
        });
        ta
    }

    /// What `dissect_tcp()` does after the analysis: handshake RTT, the
    /// first-ACK marker, window-scale options.
    fn after(&mut self, dir: usize, seg: &Segment<'_>) {
        let flags = seg.flags;
        let ts = seg.meta.ts_ns;
        let syn_ack = flags.0 & (TcpFlags::SYN | TcpFlags::ACK);
        if flags.syn() {
            if !flags.ack() {
                self.syn_time = ts;
            }
            self.flows[dir].first_ack = true;
        }
        if syn_ack == TcpFlags::ACK {
            if self.syn_time != 0 && self.initial_rtt_ns == 0 {
                self.initial_rtt_ns = ts - self.syn_time;
            }
            self.flows[dir].first_ack = false;
        }
        if seg.header != HeaderState::Complete {
            return;
        }
        if let Some(shift) = seg.options.window_scale {
            self.flows[dir].scale = WindowScale::Shift(shift.min(14));
        }
        if flags.syn() {
            if self.flows[dir].scale == WindowScale::Unknown {
                self.flows[dir].scale = WindowScale::NotUsed;
                self.flows[1 - dir].scale = WindowScale::NotUsed;
            } else if flags.ack() && self.flows[1 - dir].scale == WindowScale::NotUsed {
                self.flows[dir].scale = WindowScale::NotUsed;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use recvscope_testkit::{CLIENT, Pkt, Trace};

    /// Flags of every segment of `t`, in order.
    fn analyse(t: &Trace) -> Vec<FlagSet> {
        let mut a = Analysis::new();
        t.segments()
            .iter()
            .map(|s| a.segment(usize::from(s.src.port() != CLIENT.1), s))
            .collect()
    }

    fn names(set: FlagSet) -> Vec<&'static str> {
        set.iter().map(Flag::name).collect()
    }

    /// Client ISN 1000, server ISN 5000, no window scaling.
    fn handshake(t: &mut Trace) {
        t.push(Pkt::c2s(1000, b"").syn().window(8192))
            .push(Pkt::s2c(5000, b"").syn().ack(1001).window(8192))
            .push(Pkt::c2s(1001, b"").ack(5001).window(8192));
    }

    fn last(t: &Trace) -> Vec<&'static str> {
        names(*analyse(t).last().expect("segments"))
    }

    #[test]
    fn a_clean_exchange_has_no_flags() {
        let mut t = Trace::new();
        handshake(&mut t);
        t.push(
            Pkt::c2s(1001, b"GET / HTTP/1.0\r\n\r\n")
                .ack(5001)
                .window(8192),
        )
        .push(Pkt::s2c(5001, &[1; 100]).ack(1019).window(8192))
        .push(Pkt::c2s(1019, b"").ack(5101).window(8192));
        assert!(analyse(&t).iter().all(|f| f.is_empty()));
    }

    #[test]
    fn zero_window_is_a_zero_window_field_without_syn_fin_rst() {
        let mut t = Trace::new();
        handshake(&mut t);
        t.push(Pkt::s2c(5001, &[1; 100]).ack(1001).window(8192))
            .push(Pkt::c2s(1001, b"").ack(5101).window(0));
        assert_eq!(last(&t), ["zero_window"]);
        t.push(Pkt::c2s(1001, b"").ack(5101).window(0).rst());
        assert_eq!(last(&t), Vec::<&str>::new());
    }

    #[test]
    fn one_byte_at_next_seq_into_a_zero_window_is_a_probe_and_its_answer_a_probe_ack() {
        let mut t = Trace::new();
        handshake(&mut t);
        t.push(Pkt::s2c(5001, &[1; 100]).ack(1001).window(8192))
            .push(Pkt::c2s(1001, b"").ack(5101).window(0))
            .push(Pkt::s2c(5101, b"x").ack(1001).window(8192))
            .push(Pkt::c2s(1001, b"").ack(5101).window(0));
        let flags = analyse(&t);
        assert_eq!(names(flags[5]), ["zero_window_probe"]);
        assert_eq!(names(flags[6]), ["zero_window", "zero_window_probe_ack"]);
    }

    #[test]
    fn a_linux_persist_probe_is_a_keep_alive_and_a_persist_probe() {
        let mut t = Trace::new();
        handshake(&mut t);
        t.push(Pkt::s2c(5001, &[1; 100]).ack(1001).window(8192))
            .push(Pkt::c2s(1001, b"").ack(5101).window(0))
            .push(Pkt::s2c(5100, b"").ack(1001).window(8192));
        assert_eq!(last(&t), ["keep_alive", "persist_probe"]);
    }

    #[test]
    fn keep_alive_and_its_ack() {
        let mut t = Trace::new();
        handshake(&mut t);
        t.push(Pkt::c2s(1000, b"").ack(5001).window(8192))
            .push(Pkt::s2c(5001, b"").ack(1001).window(8192));
        let flags = analyse(&t);
        assert_eq!(names(flags[3]), ["keep_alive"]);
        assert_eq!(names(flags[4]), ["keep_alive_ack"]);
    }

    #[test]
    fn window_full_ends_exactly_at_the_receivers_right_edge() {
        let mut t = Trace::new();
        handshake(&mut t);
        t.push(Pkt::c2s(1001, b"").ack(5001).window(300))
            .push(Pkt::s2c(5001, &[1; 200]).ack(1001).window(8192))
            .push(Pkt::s2c(5201, &[1; 100]).ack(1001).window(8192));
        let flags = analyse(&t);
        assert!(flags[4].is_empty());
        assert_eq!(names(flags[5]), ["window_full"]);
    }

    #[test]
    fn window_full_is_not_judged_while_the_receivers_scale_is_unknown() {
        let mut t = Trace::new();
        t.push(Pkt::c2s(1001, b"").ack(5001).window(300))
            .push(Pkt::s2c(5001, &[1; 300]).ack(1001).window(8192));
        assert_eq!(last(&t), Vec::<&str>::new());
    }

    #[test]
    fn window_full_uses_the_scale_after_the_first_plain_ack() {
        let mut t = Trace::new();
        t.push(Pkt::c2s(1000, b"").syn().wscale(2).window(8192))
            .push(Pkt::s2c(5000, b"").syn().wscale(0).ack(1001).window(8192))
            .push(Pkt::c2s(1001, b"").ack(5001).window(100))
            .push(Pkt::s2c(5001, &[1; 400]).ack(1001).window(8192));
        assert_eq!(last(&t), ["window_full"]);
    }

    #[test]
    fn window_update_changes_only_the_window() {
        let mut t = Trace::new();
        handshake(&mut t);
        t.push(Pkt::c2s(1001, b"").ack(5001).window(9000));
        assert_eq!(last(&t), ["window_update"]);
    }

    #[test]
    fn duplicate_acks_repeat_seq_ack_and_window() {
        let mut t = Trace::new();
        handshake(&mut t);
        t.push(Pkt::c2s(1001, b"").ack(5001).window(8192))
            .push(Pkt::c2s(1001, b"").ack(5001).window(8192));
        let flags = analyse(&t);
        assert_eq!(names(flags[3]), ["duplicate_ack"]);
        assert_eq!(names(flags[4]), ["duplicate_ack"]);
    }

    #[test]
    fn fast_retransmission_follows_two_dup_acks_within_20ms() {
        let mut t = Trace::new();
        handshake(&mut t);
        t.push(Pkt::s2c(5001, &[1; 100]).ack(1001).window(8192))
            .push(Pkt::s2c(5101, &[1; 100]).ack(1001).window(8192))
            .push(Pkt::c2s(1001, b"").ack(5001).window(8192))
            .push(Pkt::c2s(1001, b"").ack(5001).window(8192))
            .at(5000, Pkt::s2c(5001, &[1; 100]).ack(1001).window(8192));
        assert_eq!(last(&t), ["retransmission", "fast_retransmission"]);
    }

    #[test]
    fn resending_unacknowledged_data_is_a_retransmission() {
        let mut t = Trace::new();
        handshake(&mut t);
        t.push(Pkt::s2c(5001, &[1; 100]).ack(1001).window(8192))
            .at(200_000, Pkt::s2c(5001, &[1; 100]).ack(1001).window(8192));
        assert_eq!(last(&t), ["retransmission"]);
    }

    #[test]
    fn resending_acknowledged_data_is_spurious() {
        let mut t = Trace::new();
        handshake(&mut t);
        t.push(Pkt::s2c(5001, &[1; 100]).ack(1001).window(8192))
            .push(Pkt::c2s(1001, b"").ack(5101).window(8192))
            .at(200_000, Pkt::s2c(5001, &[1; 100]).ack(1001).window(8192));
        assert_eq!(last(&t), ["retransmission", "spurious_retransmission"]);
    }

    #[test]
    fn an_early_segment_arriving_late_within_the_rtt_is_out_of_order() {
        let mut t = Trace::new();
        t.at(0, Pkt::c2s(1000, b"").syn().window(8192))
            .at(10_000, Pkt::s2c(5000, b"").syn().ack(1001).window(8192))
            .at(10_000, Pkt::c2s(1001, b"").ack(5001).window(8192))
            .at(1000, Pkt::s2c(5101, &[1; 100]).ack(1001).window(8192))
            .at(1000, Pkt::s2c(5001, &[1; 100]).ack(1001).window(8192));
        let flags = analyse(&t);
        assert_eq!(names(flags[3]), ["lost_segment"]);
        assert_eq!(names(flags[4]), ["out_of_order"]);
    }

    #[test]
    fn a_segment_beyond_next_seq_means_one_was_not_captured() {
        let mut t = Trace::new();
        handshake(&mut t);
        t.push(Pkt::s2c(5101, &[1; 100]).ack(1001).window(8192));
        assert_eq!(last(&t), ["lost_segment"]);
    }

    #[test]
    fn acking_data_never_seen_is_ack_lost_segment() {
        let mut t = Trace::new();
        handshake(&mut t);
        t.push(Pkt::s2c(5001, &[1; 100]).ack(1001).window(8192))
            .push(Pkt::c2s(1001, b"").ack(5301).window(8192));
        assert_eq!(last(&t), ["ack_lost_segment"]);
    }

    #[test]
    fn wireshark_quirk_ack_lost_arms_a_fast_retransmission_without_dup_acks() {
        // 4.0.17 stores -1 in the peer's unsigned dup-ACK counter when an ACK
        // covers data the peer never sent in the capture; the acker's next
        // retransmission then passes the "two dup ACKs" test.
        let mut t = Trace::new();
        handshake(&mut t);
        t.push(Pkt::c2s(1001, &[1; 100]).ack(5001).window(8192))
            .push(Pkt::c2s(1101, b"").ack(5101).window(8192))
            .at(2000, Pkt::c2s(1001, &[1; 100]).ack(5101).window(8192));
        let flags = analyse(&t);
        assert_eq!(names(flags[4]), ["ack_lost_segment"]);
        assert_eq!(names(flags[5]), ["retransmission", "fast_retransmission"]);
    }

    #[test]
    fn handshake_sets_scale_and_initial_rtt() {
        let mut t = Trace::new();
        t.at(1000, Pkt::c2s(1000, b"").syn().wscale(7))
            .at(250, Pkt::s2c(5000, b"").syn().wscale(9).ack(1001))
            .at(250, Pkt::c2s(1001, b"").ack(5001));
        let mut a = Analysis::new();
        for (i, s) in t.segments().iter().enumerate() {
            a.segment(usize::from(i == 1), s);
        }
        assert_eq!(a.scale(0), WindowScale::Shift(7));
        assert_eq!(a.scale(1), WindowScale::Shift(9));
        assert_eq!(a.initial_rtt_ns(), Some(500_000));
    }

    #[test]
    fn a_syn_without_window_scale_turns_scaling_off_both_ways() {
        let mut t = Trace::new();
        t.push(Pkt::c2s(1000, b"").syn())
            .push(Pkt::s2c(5000, b"").syn().wscale(9).ack(1001));
        let mut a = Analysis::new();
        for (i, s) in t.segments().iter().enumerate() {
            a.segment(i, s);
        }
        assert_eq!(a.scale(0), WindowScale::NotUsed);
        assert_eq!(a.scale(1), WindowScale::NotUsed);
    }
}
