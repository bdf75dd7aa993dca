//! The typed record of one segment, as the tracker saw it: what every
//! per-packet consumer (listing, correlation, graphs, the TCP lab) reads.

use serde::ser::{Serialize, SerializeSeq, SerializeStruct, Serializer};

use recvscope_wire::{Side, TcpFlags, seq};

use super::flags::{Flag, FlagSet};

/// One segment of a connection, in capture order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketRecord {
    pub frame: u64,
    pub ts_ns: i64,
    /// Who sent it.
    pub from: Side,
    pub flags: TcpFlags,
    /// Sequence number relative to the sender's base (Wireshark's `tcp.seq`).
    pub rel_seq: u32,
    /// Relative acknowledgement number, when the ACK bit is set.
    pub rel_ack: Option<u32>,
    /// Payload length from the IP header (snaplen may have cut the bytes).
    pub len: u32,
    pub window_raw: u16,
    /// The window in bytes, scaled where the shift is known.
    pub window: u64,
    pub scale_known: bool,
    pub analysis: FlagSet,
}

impl PacketRecord {
    /// True for the segments whose window is an advertisement to count:
    /// not a SYN (never scaled) and not a RST.
    pub fn advertises_window(&self) -> bool {
        !self.flags.syn() && !self.flags.rst()
    }

    /// Relative sequence number one past the segment, a FIN counting one.
    pub fn end_seq(&self) -> u32 {
        self.rel_seq
            .wrapping_add(self.len)
            .wrapping_add(u32::from(self.flags.fin()))
    }
}

/// Follows one direction's relative sequence numbers as 64-bit stream
/// offsets (0 = the first payload byte), across 2^32 wraps.
#[derive(Clone, Copy, Debug, Default)]
pub struct StreamOffsets {
    near: u64,
}

impl StreamOffsets {
    /// The stream offset of relative sequence number `rel` (1 = offset 0),
    /// taken nearest the offsets seen so far.
    pub fn at(&mut self, rel: u32) -> u64 {
        let off = seq::unwrap_near(self.near, rel.wrapping_sub(1));
        self.near = self.near.max(off);
        off
    }

    /// The offsets a segment of `len` bytes at `rel` covers.
    pub fn span(&mut self, rel: u32, len: u32) -> std::ops::Range<u64> {
        let start = self.at(rel);
        let end = start.saturating_add(u64::from(len));
        self.near = self.near.max(end);
        start..end
    }
}

struct Labels(FlagSet);

impl Serialize for Labels {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for f in self.0.iter() {
            seq.serialize_element(f.label())?;
        }
        seq.end()
    }
}

impl Serialize for PacketRecord {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("PacketRecord", 11)?;
        st.serialize_field("frame", &self.frame)?;
        st.serialize_field("ts_ns", &self.ts_ns)?;
        st.serialize_field("from", self.from.name())?;
        st.serialize_field("flags", &self.flags.letters())?;
        st.serialize_field("rel_seq", &self.rel_seq)?;
        st.serialize_field("rel_ack", &self.rel_ack)?;
        st.serialize_field("len", &self.len)?;
        st.serialize_field("window_raw", &self.window_raw)?;
        st.serialize_field("window", &self.window)?;
        st.serialize_field("scale_known", &self.scale_known)?;
        st.serialize_field("analysis", &Labels(self.analysis))?;
        st.end()
    }
}

impl FlagSet {
    /// Any of Wireshark's three retransmission flags.
    pub fn any_retransmission(self) -> bool {
        [
            Flag::Retransmission,
            Flag::FastRetransmission,
            Flag::SpuriousRetransmission,
        ]
        .into_iter()
        .any(|f| self.contains(f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> PacketRecord {
        let mut analysis = FlagSet::default();
        analysis.insert(Flag::ZeroWindow);
        analysis.insert(Flag::KeepAlive);
        PacketRecord {
            frame: 7,
            ts_ns: 1_000,
            from: Side::Client,
            flags: TcpFlags(TcpFlags::ACK | TcpFlags::FIN),
            rel_seq: 11,
            rel_ack: Some(5),
            len: 3,
            window_raw: 0,
            window: 0,
            scale_known: true,
            analysis,
        }
    }

    #[test]
    fn a_record_serialises_with_names_letters_and_labels() {
        let json = serde_json::to_string(&record()).expect("serialise");
        assert_eq!(
            json,
            r#"{"frame":7,"ts_ns":1000,"from":"client","flags":"F.","rel_seq":11,"rel_ack":5,"len":3,"window_raw":0,"window":0,"scale_known":true,"analysis":["ZeroWindow","Keep-Alive"]}"#
        );
    }

    #[test]
    fn a_fin_counts_one_past_the_payload() {
        assert_eq!(record().end_seq(), 15);
    }

    #[test]
    fn stream_offsets_start_at_zero_and_cross_the_wrap() {
        let mut o = StreamOffsets::default();
        assert_eq!(o.at(1), 0);
        assert_eq!(o.at(1 << 31), (1 << 31) - 1);
        assert_eq!(o.at(u32::MAX), u64::from(u32::MAX) - 1);
        assert_eq!(o.at(9), (1 << 32) + 8);
        assert_eq!(
            o.at(u32::MAX),
            u64::from(u32::MAX) - 1,
            "a retransmission before the wrap"
        );
        assert_eq!(o.span(20, 100), (1 << 32) + 19..(1 << 32) + 119);
    }

    #[test]
    fn retransmissions_of_every_kind_are_retransmissions() {
        for f in [
            Flag::Retransmission,
            Flag::FastRetransmission,
            Flag::SpuriousRetransmission,
        ] {
            let mut s = FlagSet::default();
            s.insert(f);
            assert!(s.any_retransmission(), "{f:?}");
        }
        let mut s = FlagSet::default();
        s.insert(Flag::OutOfOrder);
        assert!(!s.any_retransmission());
    }
}
