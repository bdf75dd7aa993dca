//! Wireshark's TCP sequence analysis (`tcp_analyze_sequence_number()` in
//! `epan/dissectors/packet-tcp.c`), one segment at a time, in capture order.
//!
//! The rules, their order and their quirks follow Wireshark so the flag
//! counts equal tshark's; where Wireshark's reading misleads (a Linux
//! zero-window probe looks like a keep-alive) the extra flag
//! [`Flag::PersistProbe`] says so without changing Wireshark's count.

mod sequence;
#[cfg(test)]
mod tests;

use recvscope_wire::{HeaderState, Segment, SeqNumber, TcpFlags};

use super::dir::Dir;
use super::flags::FlagSet;
use sequence::{Flow, UNSEEN};

/// Window scaling as Wireshark tracks it per direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WindowScale {
    /// No handshake seen: the shift cannot be known.
    Unknown,
    /// The handshake shows scaling is not in use.
    NotUsed,
    /// The shift this side announced in its SYN.
    Shift(u8),
}

impl WindowScale {
    /// The shift to apply to this side's window fields (0 unless known).
    pub(crate) fn shift(self) -> u8 {
        match self {
            WindowScale::Shift(s) => s,
            _ => 0,
        }
    }
}

/// Wireshark-equivalent analysis of one connection.
#[derive(Debug)]
pub(crate) struct Analysis {
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
    pub(crate) fn new() -> Analysis {
        Analysis {
            flows: [Flow::new(), Flow::new()],
            syn_time: 0,
            initial_rtt_ns: 0,
        }
    }

    /// Window scaling of the side sending in direction `dir`.
    pub(crate) fn scale(&self, dir: Dir) -> WindowScale {
        self.flows[dir].scale
    }

    /// The window the side sending in `dir` advertises in `seg`, in bytes,
    /// scaled where the shift is known (SYN windows are never scaled).
    pub(crate) fn scaled_window(&self, dir: Dir, seg: &Segment<'_>) -> u64 {
        if seg.flags.syn() {
            u64::from(seg.window)
        } else {
            u64::from(seg.window) << self.flows[dir].scale.shift()
        }
    }

    /// Sequence number after the last byte `dir` has sent.
    /// Wireshark's `tcp.analysis.initial_rtt`: the last SYN to the first
    /// pure ACK after it; `None` until then.
    pub(crate) fn initial_rtt_ns(&self) -> Option<i64> {
        (self.initial_rtt_ns != 0).then_some(self.initial_rtt_ns)
    }

    pub(crate) fn next_seq(&self, dir: Dir) -> SeqNumber {
        self.flows[dir].nextseq
    }

    /// The last acknowledgement number sent in `dir`, once one was.
    pub(crate) fn last_ack(&self, dir: Dir) -> Option<SeqNumber> {
        let f = &self.flows[dir];
        (f.lastack != UNSEEN).then_some(f.lastack)
    }

    /// A SYN repeating the ISN already seen: Wireshark rewinds `nextseq` so
    /// the repeat reads as a retransmission (its issue 17616).
    pub(crate) fn syn_repeated(&mut self, dir: Dir) {
        let f = &mut self.flows[dir];
        f.nextseq = f.maxseqtobeacked;
    }

    /// Analyses a segment travelling in direction `dir`.
    /// Segments whose header is not whole are analysed as Wireshark does,
    /// but their flags stay hidden as Wireshark hides them.
    pub(crate) fn segment(&mut self, dir: Dir, seg: &Segment<'_>) -> FlagSet {
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

    /// first-ACK marker, window-scale options.
    fn after(&mut self, dir: Dir, seg: &Segment<'_>) {
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
                self.flows[dir.peer()].scale = WindowScale::NotUsed;
            } else if flags.ack() && self.flows[dir.peer()].scale == WindowScale::NotUsed {
                self.flows[dir].scale = WindowScale::NotUsed;
            }
        }
    }
}
