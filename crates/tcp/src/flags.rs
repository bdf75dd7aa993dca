//! Wireshark's TCP analysis flags, named as its `tcp.analysis.*` filters are.

use serde::ser::{Serialize, SerializeMap, Serializer};

/// One analysis flag. The first fourteen are Wireshark's; `PersistProbe` is
/// recvscope's own reading of a Linux zero-window probe (see [`Flag::PersistProbe`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Flag {
    ZeroWindow,
    ZeroWindowProbe,
    ZeroWindowProbeAck,
    WindowFull,
    WindowUpdate,
    KeepAlive,
    KeepAliveAck,
    Retransmission,
    FastRetransmission,
    SpuriousRetransmission,
    OutOfOrder,
    LostSegment,
    DuplicateAck,
    AckLostSegment,
    /// A segment Wireshark calls a keep-alive that is really a Linux
    /// zero-window (persist) probe: sent while the peer's window is zero.
    PersistProbe,
}

impl Flag {
    /// Every flag, Wireshark's first.
    pub const ALL: [Flag; 15] = [
        Flag::ZeroWindow,
        Flag::ZeroWindowProbe,
        Flag::ZeroWindowProbeAck,
        Flag::WindowFull,
        Flag::WindowUpdate,
        Flag::KeepAlive,
        Flag::KeepAliveAck,
        Flag::Retransmission,
        Flag::FastRetransmission,
        Flag::SpuriousRetransmission,
        Flag::OutOfOrder,
        Flag::LostSegment,
        Flag::DuplicateAck,
        Flag::AckLostSegment,
        Flag::PersistProbe,
    ];

    /// Wireshark's fourteen flags, in the order reports list them.
    pub const WIRESHARK: &'static [Flag] = Flag::ALL.split_at(14).0;

    /// The name after `tcp.analysis.` (Wireshark's) or our own.
    pub fn name(self) -> &'static str {
        match self {
            Flag::ZeroWindow => "zero_window",
            Flag::ZeroWindowProbe => "zero_window_probe",
            Flag::ZeroWindowProbeAck => "zero_window_probe_ack",
            Flag::WindowFull => "window_full",
            Flag::WindowUpdate => "window_update",
            Flag::KeepAlive => "keep_alive",
            Flag::KeepAliveAck => "keep_alive_ack",
            Flag::Retransmission => "retransmission",
            Flag::FastRetransmission => "fast_retransmission",
            Flag::SpuriousRetransmission => "spurious_retransmission",
            Flag::OutOfOrder => "out_of_order",
            Flag::LostSegment => "lost_segment",
            Flag::DuplicateAck => "duplicate_ack",
            Flag::AckLostSegment => "ack_lost_segment",
            Flag::PersistProbe => "persist_probe",
        }
    }

    /// Looks a flag up by its name.
    pub fn from_name(name: &str) -> Option<Flag> {
        Flag::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Short label for packet listings, like Wireshark's Info column.
    pub fn label(self) -> &'static str {
        match self {
            Flag::ZeroWindow => "ZeroWindow",
            Flag::ZeroWindowProbe => "ZeroWindowProbe",
            Flag::ZeroWindowProbeAck => "ZeroWindowProbeAck",
            Flag::WindowFull => "WindowFull",
            Flag::WindowUpdate => "WindowUpdate",
            Flag::KeepAlive => "Keep-Alive",
            Flag::KeepAliveAck => "Keep-Alive-ACK",
            Flag::Retransmission => "Retransmission",
            Flag::FastRetransmission => "FastRetransmission",
            Flag::SpuriousRetransmission => "SpuriousRetransmission",
            Flag::OutOfOrder => "Out-Of-Order",
            Flag::LostSegment => "PreviousSegmentNotCaptured",
            Flag::DuplicateAck => "DupACK",
            Flag::AckLostSegment => "ACKedUnseenSegment",
            Flag::PersistProbe => "PersistProbe",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u8)
    }
}

/// A flag serialises as its name, e.g. `"zero_window"`.
impl Serialize for Flag {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// The set of flags one segment carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlagSet(u16);

impl FlagSet {
    pub fn insert(&mut self, f: Flag) {
        self.0 |= f.bit();
    }
    pub fn contains(self, f: Flag) -> bool {
        self.0 & f.bit() != 0
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The flags present, in report order.
    pub fn iter(self) -> impl Iterator<Item = Flag> {
        Flag::ALL.into_iter().filter(move |f| self.contains(*f))
    }
}

/// How many segments carried each flag. Serialises as a map holding every
/// flag's name, zero counts included.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlagCounts([u64; Flag::ALL.len()]);

impl FlagCounts {
    pub fn add(&mut self, set: FlagSet) {
        for f in set.iter() {
            self.0[f as usize] += 1;
        }
    }
    pub fn get(&self, f: Flag) -> u64 {
        self.0[f as usize]
    }
    /// Element-wise sum.
    pub fn merged(mut self, other: &FlagCounts) -> FlagCounts {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
        self
    }
}

impl Serialize for FlagCounts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(Flag::ALL.len()))?;
        for f in Flag::ALL {
            map.serialize_entry(f.name(), &self.get(f))?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Flag::ALL {
            assert_eq!(Flag::from_name(f.name()), Some(f));
        }
        assert_eq!(Flag::from_name("nonsense"), None);
    }

    #[test]
    fn counts_serialise_every_flag_even_when_zero() {
        let mut c = FlagCounts::default();
        let mut s = FlagSet::default();
        s.insert(Flag::WindowFull);
        c.add(s);
        let json = serde_json::to_value(c).expect("serialise");
        assert_eq!(json.as_object().map(|m| m.len()), Some(15));
        assert_eq!(json["window_full"], 1);
        assert_eq!(json["zero_window"], 0);
    }
}
