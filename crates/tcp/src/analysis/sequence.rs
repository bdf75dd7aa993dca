//! The rules of `tcp_analyze_sequence_number()`, and the per-direction
//! state they read and write.

use recvscope_wire::{Segment, SeqNumber};

use super::super::dir::Dir;
use super::super::flags::{Flag, FlagSet};
use super::{Analysis, WindowScale};

/// Wireshark stops tracking unacknowledged segments past this many.
const MAX_UNACKED_SEGMENTS: usize = 10_000;
/// Fast retransmissions come within this long of the peer's last ACK.
const FAST_RETRANSMIT_NS: i64 = 20_000_000;
/// Out-of-order threshold when the handshake RTT is unknown.
const DEFAULT_OOO_NS: i64 = 3_000_000;

/// Wireshark's "not seen yet" for `nextseq`, `lastack` and `maxseqtobeacked`.
pub(super) const UNSEEN: SeqNumber = SeqNumber(0);

#[derive(Clone, Copy, Debug)]
struct Unacked {
    seq: SeqNumber,
    nextseq: SeqNumber,
}

/// Per-direction analysis state (Wireshark's `tcp_flow_t` and
/// `tcp_analyze_seq_flow_info_t`). [`UNSEEN`] means "not seen yet" for
/// `nextseq`, `lastack` and `maxseqtobeacked`, exactly as in Wireshark.
#[derive(Debug)]
pub(super) struct Flow {
    pub(super) nextseq: SeqNumber,
    nextseq_time: i64,
    pub(super) lastack: SeqNumber,
    lastack_time: i64,
    pub(super) maxseqtobeacked: SeqNumber,
    /// Raw window field of this side's last segment.
    window: u32,
    pub(super) scale: WindowScale,
    /// Set by a SYN, cleared by the next plain ACK: until then this side's
    /// window is taken unscaled (Wireshark issue 14690).
    pub(super) first_ack: bool,
    last_flags: FlagSet,
    /// Wireshark keeps this in a `guint32` and stores -1 in it; so do we.
    dupacks: u32,
    unacked: Vec<Unacked>,
}

impl Flow {
    pub(super) fn new() -> Flow {
        Flow {
            nextseq: UNSEEN,
            nextseq_time: 0,
            lastack: UNSEEN,
            lastack_time: 0,
            maxseqtobeacked: UNSEEN,
            window: u32::MAX,
            scale: WindowScale::Unknown,
            first_ack: false,
            last_flags: FlagSet::default(),
            dupacks: 0,
            unacked: Vec::new(),
        }
    }

    /// This side's last window in bytes, as the peer must respect it.
    fn window_edge(&self) -> usize {
        let shift = if self.first_ack {
            0
        } else {
            self.scale.shift()
        };
        (self.window << shift) as usize
    }
}

impl Analysis {
    /// `tcp_analyze_sequence_number()`.
    pub(super) fn sequence(&mut self, dir: Dir, seg: &Segment<'_>) -> FlagSet {
        let ts = seg.meta.ts_ns;
        let seglen = seg.payload_len as usize;
        let (s, a) = (seg.seq, seg.ack);
        let win = u32::from(seg.window);
        let flags = seg.flags;
        let sfr = flags.syn_fin_rst();
        let (fwd, rev) = dir.split(&mut self.flows);
        let mut ta = FlagSet::default();

        'fwd: {
            if seglen == 1 && s == fwd.nextseq && rev.window == 0 {
                ta.insert(Flag::ZeroWindowProbe);
                break 'fwd;
            }
            if win == 0 && !sfr {
                ta.insert(Flag::ZeroWindow);
            }
            if fwd.nextseq != UNSEEN && s.gt_seq(fwd.nextseq) && !flags.rst() {
                ta.insert(Flag::LostSegment);
            }
            if seglen <= 1 && s == fwd.nextseq - 1 && !sfr {
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
                && s + seglen == rev.lastack + rev.window_edge()
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

        if rev.maxseqtobeacked != UNSEEN && a.gt_seq(rev.maxseqtobeacked) && flags.ack() {
            if rev.maxseqtobeacked.lt_seq(rev.nextseq) {
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
            let mut not_advanced = fwd.nextseq != UNSEEN && s.lt_seq(fwd.nextseq);
            if seglen > 1 && fwd.nextseq - 1 == s {
                not_advanced = false;
            }
            if seglen > 0 && rev.lastack != UNSEEN && (s + seglen).le_seq(rev.lastack) {
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
            let end = s + seglen + usize::from(flags.syn() || flags.fin());
            if not_advanced && since_next < threshold && fwd.nextseq != end {
                ta.insert(Flag::OutOfOrder);
                break 'retrans;
            }
            if not_advanced {
                ta.insert(Flag::Retransmission);
            }
        }

        let mut nextseq = s + seglen;
        if (seglen > 0 || flags.syn() || flags.fin()) && fwd.unacked.len() < MAX_UNACKED_SEGMENTS {
            if flags.syn() || flags.fin() {
                nextseq += 1;
            }
            fwd.unacked.push(Unacked { seq: s, nextseq });
        }
        let probe = ta.contains(Flag::ZeroWindowProbe);
        if (nextseq.gt_seq(fwd.nextseq) || fwd.nextseq == UNSEEN) && !probe {
            fwd.nextseq = nextseq;
            fwd.nextseq_time = ts;
        }
        if (s == fwd.maxseqtobeacked || fwd.maxseqtobeacked == UNSEEN) && !probe {
            fwd.maxseqtobeacked = fwd.nextseq;
        }
        fwd.window = win;
        fwd.lastack = a;
        fwd.lastack_time = ts;
        fwd.last_flags = ta;

        rev.unacked.retain_mut(|u| {
            if a.ge_seq(u.nextseq) {
                false
            } else {
                if a.gt_seq(u.seq) {
                    u.seq = a;
                }
                true
            }
        });
        ta
    }
}
