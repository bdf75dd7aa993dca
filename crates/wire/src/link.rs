//! Link layers recvscope understands, and how to find the IP packet in each.

use etherparse::{EtherType, LaxSlicedPacket};

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
}

/// The names of the supported link types, for error messages.
pub const SUPPORTED: &str =
    "EN10MB (Ethernet, VLAN), NULL, LOOP, RAW (101/12/14), IPV4, IPV6, LINUX_SLL, LINUX_SLL2";

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
        }
    }
}

/// Slices a frame down to its network layer, or `None` when the frame is too
/// short to hold the link header or carries no IP.
pub(crate) fn slice(link: LinkType, frame: &[u8]) -> Option<LaxSlicedPacket<'_>> {
    match link {
        LinkType::Ethernet => LaxSlicedPacket::from_ethernet(frame).ok(),
        LinkType::Null | LinkType::Loop => from_ip(frame.get(4..)?),
        LinkType::Raw => from_ip(frame),
        LinkType::Ipv4 => from_ip_version(frame, 4),
        LinkType::Ipv6 => from_ip_version(frame, 6),
        LinkType::LinuxSll => {
            let proto = be16(frame.get(14..16)?);
            Some(LaxSlicedPacket::from_ether_type(
                EtherType(proto),
                frame.get(16..)?,
            ))
        }
        LinkType::LinuxSll2 => {
            let proto = be16(frame.get(0..2)?);
            Some(LaxSlicedPacket::from_ether_type(
                EtherType(proto),
                frame.get(20..)?,
            ))
        }
    }
}

fn from_ip(bytes: &[u8]) -> Option<LaxSlicedPacket<'_>> {
    LaxSlicedPacket::from_ip(bytes).ok()
}

fn from_ip_version(bytes: &[u8], version: u8) -> Option<LaxSlicedPacket<'_>> {
    (bytes.first()? >> 4 == version)
        .then(|| from_ip(bytes))
        .flatten()
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
        for code in [0, 1, 101, 108, 113, 228, 229, 276] {
            let link = LinkType::from_code(code).map(LinkType::code);
            assert_eq!(link, Some(code));
        }
    }

    #[test]
    fn short_frames_slice_to_nothing() {
        assert!(slice(LinkType::LinuxSll2, &[0x08, 0x00, 0]).is_none());
        assert!(slice(LinkType::LinuxSll, &[0; 15]).is_none());
        assert!(slice(LinkType::Null, &[2, 0]).is_none());
        assert!(slice(LinkType::Ipv4, &[0x60]).is_none());
        assert!(slice(LinkType::Ethernet, &[0; 5]).is_none());
    }
}
