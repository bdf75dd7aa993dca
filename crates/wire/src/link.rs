//! Link layers recvscope understands, and how to find the IP packet in each.

use super::tunnel::{self, Inner};

/// A supported link-layer header type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkType {
    /// Ethernet II, with any 802.1Q / 802.1ad VLAN tags (LINKTYPE 1).
    Ethernet,
    /// BSD loopback, address family in the capturing host's byte order (LINKTYPE 0).
    Null,
    /// OpenBSD loopback, address family in network byte order (LINKTYPE 108).
    Loop,
    /// Raw IPv4 or IPv6 (LINKTYPE 101; libpcap reports DLT 12 or 14).
    Raw,
    /// Raw IPv4 only (LINKTYPE 228).
    Ipv4,
    /// Raw IPv6 only (LINKTYPE 229).
    Ipv6,
    /// Linux cooked capture v1, `-i any` (LINKTYPE 113).
    LinuxSll,
    /// Linux cooked capture v2 (LINKTYPE 276).
    LinuxSll2,
    /// FDDI, with 802.2 LLC/SNAP framing (LINKTYPE 10).
    Fddi,
}

/// The names of the supported link types, for error messages.
pub const SUPPORTED: &str =
    "EN10MB (Ethernet, VLAN), NULL, LOOP, RAW (101/12/14), IPV4, IPV6, LINUX_SLL, LINUX_SLL2, FDDI";

impl LinkType {
    /// Maps a LINKTYPE_ or DLT_ value (as libpcap reports it) to a supported type.
    pub fn from_code(code: i32) -> Option<LinkType> {
        Some(match code {
            1 => LinkType::Ethernet,
            0 => LinkType::Null,
            108 => LinkType::Loop,
            101 | 12 | 14 => LinkType::Raw,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            10 => LinkType::Fddi,
            _ => return None,
        })
    }

    /// The LINKTYPE_ value written to pcap files for this type.
    pub fn code(self) -> i32 {
        match self {
            LinkType::Ethernet => 1,
            LinkType::Null => 0,
            LinkType::Loop => 108,
            LinkType::Raw => 101,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::LinuxSll => 113,
            LinkType::LinuxSll2 => 276,
            LinkType::Fddi => 10,
        }
    }

    /// Short name as tcpdump prints it.
    pub fn name(self) -> &'static str {
        match self {
            LinkType::Ethernet => "EN10MB",
            LinkType::Null => "NULL",
            LinkType::Loop => "LOOP",
            LinkType::Raw => "RAW",
            LinkType::Ipv4 => "IPV4",
            LinkType::Ipv6 => "IPV6",
            LinkType::LinuxSll => "LINUX_SLL",
            LinkType::LinuxSll2 => "LINUX_SLL2",
            LinkType::Fddi => "FDDI",
        }
    }
}

/// Where decoding starts in a frame of this link type, or `None` when the
/// frame is too short to hold the link header.
pub(crate) fn start(link: LinkType, frame: &[u8]) -> Option<Inner<'_>> {
    Some(match link {
        LinkType::Ethernet => Inner::Ethernet(frame),
        LinkType::Null | LinkType::Loop => Inner::Ip(frame.get(4..)?),
        LinkType::Raw => Inner::Ip(frame),
        LinkType::Ipv4 => ip_version(frame, 4)?,
        LinkType::Ipv6 => ip_version(frame, 6)?,
        LinkType::LinuxSll => Inner::Ether(be16(frame.get(14..16)?), frame.get(16..)?),
        LinkType::LinuxSll2 => Inner::Ether(be16(frame.get(0..2)?), frame.get(20..)?),
        // Frame control, then the two 6-byte addresses.
        LinkType::Fddi => tunnel::snap(frame.get(13..)?)?,
    })
}

fn ip_version(bytes: &[u8], version: u8) -> Option<Inner<'_>> {
    (bytes.first()? >> 4 == version).then_some(Inner::Ip(bytes))
}

/// The EtherTypes of 802.1Q, 802.1ad and the older QinQ tag.
pub(crate) fn is_vlan(ether_type: u16) -> bool {
    matches!(ether_type, 0x8100 | 0x88a8 | 0x9100)
}

/// What an Ethernet frame carries: its EtherType's payload, or under an
/// 802.3 length field, 802.2 SNAP's.
pub(crate) fn ethernet(frame: &[u8]) -> Option<Inner<'_>> {
    let ether_type = be16(frame.get(12..14)?);
    let rest = &frame[14..];
    if ether_type <= 1500 {
        tunnel::snap(rest)
    } else {
        Some(Inner::Ether(ether_type, rest))
    }
}

/// What follows a VLAN tag (its 2-byte tag control, then an EtherType).
pub(crate) fn vlan(tag: &[u8]) -> Option<Inner<'_>> {
    Some(Inner::Ether(be16(tag.get(2..4)?), &tag[4..]))
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpcap_raw_dlt_values_map_to_raw() {
        for code in [101, 12, 14] {
            assert_eq!(LinkType::from_code(code), Some(LinkType::Raw));
        }
    }

    #[test]
    fn unsupported_codes_are_refused() {
        assert_eq!(LinkType::from_code(105), None); // 802.11
        assert_eq!(LinkType::from_code(-1), None);
    }

    #[test]
    fn codes_round_trip() {
        for code in [0, 1, 10, 101, 108, 113, 228, 229, 276] {
            let link = LinkType::from_code(code).map(LinkType::code);
            assert_eq!(link, Some(code));
        }
    }

    #[test]
    fn short_frames_start_nowhere() {
        assert!(start(LinkType::LinuxSll2, &[0x08, 0x00, 0]).is_none());
        assert!(start(LinkType::LinuxSll, &[0; 15]).is_none());
        assert!(start(LinkType::Null, &[2, 0]).is_none());
        assert!(start(LinkType::Fddi, &[0x50; 20]).is_none());
        assert!(start(LinkType::Ipv4, &[0x60]).is_none());
        assert!(ethernet(&[0; 5]).is_none());
        assert!(vlan(&[0; 3]).is_none());
    }
}
