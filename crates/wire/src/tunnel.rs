//! Encapsulations peeled to reach a TCP segment, and the bounded readers of
//! the headers etherparse does not know (PPPoE, MPLS, GRE, VXLAN, GENEVE,
//! GTP-U, 802.2 SNAP). Each reader takes the bytes after its header's start
//! and returns what follows, or `None` when the header is cut short.

use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};

use super::view::be16;

/// One encapsulation layer between the link and the TCP segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Layer {
    /// A PPPoE session (EtherType 0x8864) carrying PPP's IPv4 or IPv6.
    #[serde(rename = "pppoe")]
    Pppoe,
    /// An MPLS label stack (EtherType 0x8847, 0x8848) over IP.
    #[serde(rename = "mpls")]
    Mpls,
    /// GRE (IP protocol 47), version 0, over IP or Ethernet.
    #[serde(rename = "gre")]
    Gre,
    /// An IPv4 packet carrying IPv4 (IP protocol 4).
    #[serde(rename = "4in4")]
    Ip4In4,
    /// An IPv4 packet carrying IPv6 (IP protocol 41).
    #[serde(rename = "6in4")]
    Ip6In4,
    /// An IPv6 packet carrying IPv4 (next header 4).
    #[serde(rename = "4in6")]
    Ip4In6,
    /// An IPv6 packet carrying IPv6 (next header 41).
    #[serde(rename = "6in6")]
    Ip6In6,
    /// VXLAN (UDP port 4789) over Ethernet.
    #[serde(rename = "vxlan")]
    Vxlan,
    /// GENEVE (UDP port 6081) over Ethernet or IP.
    #[serde(rename = "geneve")]
    Geneve,
    /// GTP-U (UDP port 2152), a G-PDU carrying IP.
    #[serde(rename = "gtp_u")]
    GtpU,
}

/// Layers peeled beyond this many make a frame undecoded: no capture nests
/// deeper, and a crafted one cannot make decoding loop.
pub const MAX_LAYERS: usize = 4;

/// The encapsulation layers peeled to reach a segment, outermost first;
/// empty for a segment carried directly. Part of a connection's identity:
/// the same addresses inside a tunnel and outside it are two connections.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tunnel {
    layers: [Option<Layer>; MAX_LAYERS],
    len: u8,
}

impl Tunnel {
    /// The layers, outermost first.
    pub fn layers(&self) -> impl Iterator<Item = Layer> + '_ {
        self.layers.iter().flatten().copied()
    }

    /// True for a segment carried directly.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The tunnel with `layer` added inside, or `None` past [`MAX_LAYERS`].
    pub fn inside(mut self, layer: Layer) -> Option<Tunnel> {
        *self.layers.get_mut(usize::from(self.len))? = Some(layer);
        self.len += 1;
        Some(self)
    }
}

impl Serialize for Tunnel {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(usize::from(self.len)))?;
        for layer in self.layers() {
            seq.serialize_element(&layer)?;
        }
        seq.end()
    }
}

/// An encapsulation recognised but not decoded: its TCP, if any, is not
/// analysed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Undecoded {
    /// L2TP (UDP port 1701, or IP protocol 115 for L2TPv3).
    L2tp,
    /// GRE of version 1 (PPTP), with a routing field, or carrying a protocol
    /// other than IPv4, IPv6, Ethernet or MPLS.
    Gre,
    /// MPLS over something other than IP (a pseudowire).
    Mpls,
    /// More layers than [`MAX_LAYERS`].
    TooDeep,
}

/// What an encapsulation header holds next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Inner<'a> {
    /// An Ethernet frame, from its destination address.
    Ethernet(&'a [u8]),
    /// A payload of this EtherType.
    Ether(u16, &'a [u8]),
    /// An IP packet of either version, known by its first nibble.
    Ip(&'a [u8]),
    /// Not IP: nothing for TCP analysis (PPP control, a GTP echo).
    Other,
    /// Recognised, not decoded.
    Undecoded(Undecoded),
}

/// EtherType of a PPPoE session.
pub(crate) const ETHERTYPE_PPPOE: u16 = 0x8864;
/// EtherTypes of MPLS unicast and multicast.
pub(crate) const ETHERTYPE_MPLS: [u16; 2] = [0x8847, 0x8848];
/// EtherType of an Ethernet frame bridged in GRE or GENEVE.
const ETHERTYPE_BRIDGED: u16 = 0x6558;

/// The PPPoE session header (6 bytes) and PPP protocol (2): IPv4 is 0x0021,
/// IPv6 0x0057.
pub(crate) fn pppoe(b: &[u8]) -> Option<Inner<'_>> {
    let rest = b.get(8..)?;
    let len = usize::from(be16(b, 4)).saturating_sub(2);
    let rest = rest.get(..len).unwrap_or(rest);
    Some(match be16(b, 6) {
        0x0021 => Inner::Ether(0x0800, rest),
        0x0057 => Inner::Ether(0x86dd, rest),
        _ => Inner::Other,
    })
}

/// An MPLS label stack, 4 bytes a label, to the one with the bottom-of-stack
/// bit; IP follows when its first nibble is 4 or 6 (Wireshark's guess too).
pub(crate) fn mpls(mut b: &[u8]) -> Option<Inner<'_>> {
    loop {
        let (label, rest) = b.split_first_chunk::<4>()?;
        b = rest;
        if label[2] & 1 == 1 {
            break;
        }
    }
    Some(match b.first()? >> 4 {
        4 | 6 => Inner::Ip(b),
        _ => Inner::Undecoded(Undecoded::Mpls),
    })
}

/// A GRE header of version 0: its checksum, key and sequence fields
/// skipped by its flags, then the protocol's payload.
pub(crate) fn gre(b: &[u8]) -> Option<Inner<'_>> {
    let flags = be16(b.get(..4)?, 0);
    let proto = be16(b, 2);
    if flags & 0x0007 != 0 || flags & 0x4000 != 0 {
        return Some(Inner::Undecoded(Undecoded::Gre));
    }
    let optional = [0x8000, 0x2000, 0x1000]
        .iter()
        .filter(|bit| flags & **bit != 0)
        .count();
    let rest = b.get(4 + 4 * optional..)?;
    Some(match proto {
        0x0800 | 0x86dd => Inner::Ether(proto, rest),
        ETHERTYPE_BRIDGED => Inner::Ethernet(rest),
        p if ETHERTYPE_MPLS.contains(&p) => Inner::Ether(p, rest),
        _ => Inner::Undecoded(Undecoded::Gre),
    })
}

/// UDP ports of the encapsulations read, and L2TP's.
pub(crate) const PORT_VXLAN: u16 = 4789;
pub(crate) const PORT_GENEVE: u16 = 6081;
pub(crate) const PORT_GTP_U: u16 = 2152;
pub(crate) const PORT_L2TP: u16 = 1701;

/// The UDP encapsulation a datagram between these ports carries, if any:
/// the destination port first, as the one a tunnel's packets go to.
pub(crate) fn udp_layer(src: u16, dst: u16) -> Option<u16> {
    [dst, src]
        .into_iter()
        .find(|p| [PORT_VXLAN, PORT_GENEVE, PORT_GTP_U, PORT_L2TP].contains(p))
}

/// The 8-byte VXLAN header, then an Ethernet frame.
pub(crate) fn vxlan(b: &[u8]) -> Option<Inner<'_>> {
    Some(Inner::Ethernet(b.get(8..)?))
}

/// The GENEVE header (8 bytes and its options), then its protocol.
pub(crate) fn geneve(b: &[u8]) -> Option<Inner<'_>> {
    let head = b.get(..8)?;
    let rest = b.get(8 + usize::from(head[0] & 0x3f) * 4..)?;
    Some(match be16(head, 2) {
        ETHERTYPE_BRIDGED => Inner::Ethernet(rest),
        p @ (0x0800 | 0x86dd) => Inner::Ether(p, rest),
        _ => Inner::Other,
    })
}

/// A GTP-U version 1 header: a G-PDU (message type 255) carries IP after
/// the 8 fixed bytes, the 4 optional ones when any of E, S, PN is set, and
/// the extension headers the E bit chains (each its length in 4-byte units,
/// its last byte naming the next).
pub(crate) fn gtp_u(b: &[u8]) -> Option<Inner<'_>> {
    let head = b.get(..8)?;
    if head[0] >> 5 != 1 || head[0] & 0x10 == 0 || head[1] != 0xff {
        return Some(Inner::Other);
    }
    if head[0] & 0x07 == 0 {
        return Some(Inner::Ip(b.get(8..)?));
    }
    let mut next = *b.get(11)?;
    let mut at = 12;
    while next != 0 {
        let units = usize::from(*b.get(at)?);
        if units == 0 {
            return None;
        }
        at += units * 4;
        next = *b.get(at - 1)?;
    }
    Some(Inner::Ip(b.get(at..)?))
}

/// 802.2 LLC with a SNAP header (DSAP and SSAP 0xaa, control 3, an OUI of
/// 0): its EtherType and payload.
pub(crate) fn snap(b: &[u8]) -> Option<Inner<'_>> {
    let head = b.get(..8)?;
    Some(match head {
        [0xaa, 0xaa, 0x03, 0, 0, 0, ..] => Inner::Ether(be16(head, 6), &b[8..]),
        _ => Inner::Other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    type Reader = fn(&[u8]) -> Option<Inner<'_>>;

    #[test]
    fn every_reader_returns_none_on_a_cut_header_and_never_panics() {
        let headers: [&[u8]; 6] = [
            &[0x11, 0, 0, 1, 0, 0x16, 0, 0x21, 0x45],
            &[0, 0, 0x11, 64, 0x45],
            &[0xb0, 0, 0x08, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0x45],
            &[0x08, 0, 0, 0, 0, 0, 1, 0, 0],
            &[0x01, 0, 0x65, 0x58, 0, 0, 0, 0, 1, 2, 3, 4, 0],
            &[
                0x34, 0xff, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0x85, 1, 0, 0, 0, 0x45,
            ],
        ];
        let readers: [Reader; 6] = [pppoe, mpls, gre, vxlan, geneve, gtp_u];
        for (read, whole) in readers.iter().zip(headers) {
            assert!(read(whole).is_some(), "{whole:02x?}");
            for cut in 0..whole.len() - 1 {
                let _ = read(&whole[..cut]);
            }
        }
        assert_eq!(gre(&[0xb0, 0, 0x08, 0, 0, 0, 0, 0, 1, 2, 3]), None);
        assert_eq!(
            gtp_u(&[0x34, 0xff, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0x85, 0]),
            None
        );
    }

    #[test]
    fn gtp_u_extension_headers_are_chained_to_the_ip_packet() {
        let b = [
            0x34, 0xff, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0x85, 1, 0, 0, 0, 0x45,
        ];
        assert_eq!(gtp_u(&b), Some(Inner::Ip(&[0x45])));
        let echo = [0x32, 0x01, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(gtp_u(&echo), Some(Inner::Other));
    }

    #[test]
    fn a_tunnel_holds_at_most_max_layers() {
        let mut t = Tunnel::default();
        for _ in 0..MAX_LAYERS {
            t = t.inside(Layer::Gre).expect("room");
        }
        assert_eq!(t.inside(Layer::Mpls), None);
        assert_eq!(t.layers().count(), MAX_LAYERS);
        assert_eq!(
            serde_json::to_string(&Tunnel::default().inside(Layer::GtpU)).ok(),
            Some("[\"gtp_u\"]".to_string())
        );
    }
}
