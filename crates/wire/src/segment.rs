//! A TCP segment decoded from one captured frame.

use std::net::{IpAddr, SocketAddr};

use etherparse::{EtherType, IpNumber, LaxNetSlice, LaxSlicedPacket, LenSource};

use super::ip::{Destination, IPV6_HEADER_LEN, Ipv4Packet, Ipv6Packet, PROTO_TCP};
use super::link::{self, LinkType};
use super::seq::SeqNumber;
use super::tcp::{MIN_HEADER_LEN, TcpFlags, TcpPacket};
use super::tcp_options::TcpOptions;
use super::tunnel::{self, ETHERTYPE_MPLS, ETHERTYPE_PPPOE, Inner, Layer, Tunnel, Undecoded};
use super::view::be16;

/// Where a frame sits in its capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameMeta {
    /// 1-based frame number, as Wireshark counts.
    pub number: u64,
    /// Capture timestamp, nanoseconds since the Unix epoch.
    pub ts_ns: i64,
    /// Length of the frame on the wire (the capture may hold fewer bytes).
    pub orig_len: u32,
}

/// How much of the TCP header the frame holds, which decides how much of
/// Wireshark's processing the segment gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderState {
    /// The whole header, options included, is present.
    Complete,
    /// The options were cut by snaplen: analysed, but its flags are not shown.
    OptionsCut,
    /// The data offset says fewer than 20 bytes: analysed, nothing shown.
    BogusLength,
    /// The IP packet is shorter than the TCP header claims: not analysed.
    Short,
}

/// One TCP segment: the header facts and a view of the captured payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment<'a> {
    pub meta: FrameMeta,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: SeqNumber,
    /// Meaningful only with the ACK flag.
    pub ack: SeqNumber,
    pub flags: TcpFlags,
    /// The raw 16-bit window field; scaling is the tracker's job.
    pub window: u16,
    pub options: TcpOptions,
    pub header: HeaderState,
    /// The payload bytes present in the capture (may be cut short by snaplen).
    pub payload: &'a [u8],
    /// The payload length the IP header claims: the true segment length.
    pub payload_len: u32,
    /// Bytes of the frame the capture holds: for a frame the snaplen cut,
    /// the snaplen.
    pub captured_len: u32,
    /// The encapsulations peeled to reach the segment; empty for one
    /// carried directly.
    pub tunnel: Tunnel,
}

impl Segment<'_> {
    /// True when snaplen cut part of the payload.
    pub fn payload_truncated(&self) -> bool {
        (self.payload.len() as u64) < u64::from(self.payload_len)
    }
}

/// What one frame turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    Tcp(Segment<'a>),
    /// An IP packet of another protocol, or a non-IP frame.
    NotTcp,
    /// A fragment of an IP packet (TCP inside fragments is not reassembled).
    Fragment,
    /// The frame ends before the TCP header does.
    Truncated,
    /// An IPv4 header carrying TCP (or a tunnel) whose options Wireshark
    /// finds malformed (an option shorter than its kind's fields): what it
    /// carries is not dissected.
    MalformedIp,
    /// An encapsulation recognised but not decoded.
    Undecoded(Undecoded),
}

/// The IP layer of a frame, as far as TCP needs it.
struct IpPart<'a> {
    src: IpAddr,
    dst: IpAddr,
    /// Where the IP header starts in the frame.
    ip_start: usize,
    /// The packet length the IP header claims; `None` when it gives none
    /// (zero IPv4 total length under TSO, a jumbogram).
    claimed: Option<usize>,
    /// The IP payload present in the frame.
    tcp: &'a [u8],
}

/// Decodes a captured frame down to its TCP segment, tolerating truncation:
/// lengths come from the IP header, never from how many bytes were captured.
pub fn decode(link: LinkType, frame: &[u8], meta: FrameMeta) -> Decoded<'_> {
    match plain_ethernet_tcp(link, frame) {
        Some(ip) => tcp_segment(ip, frame, meta, Tunnel::default()),
        None => decode_lax(link, frame, meta),
    }
}

/// Ethernet II without VLAN tags.
const ETHERNET_HEADER_LEN: usize = 14;

/// The common case read at fixed offsets: Ethernet, no VLAN, IPv4 without
/// fragmentation or IPv6 without extension headers, carrying TCP, with the
/// whole IP header captured. Anything else is left to etherparse's lax
/// slicing, which gives the same answer for these frames, only slower.
fn plain_ethernet_tcp(link: LinkType, frame: &[u8]) -> Option<IpPart<'_>> {
    if link != LinkType::Ethernet {
        return None;
    }
    let (eth, ip) = frame.split_first_chunk::<ETHERNET_HEADER_LEN>()?;
    match u16::from_be_bytes([eth[12], eth[13]]) {
        0x0800 => {
            let v4 = Ipv4Packet::new_checked(ip).ok()?;
            let total = usize::from(v4.total_len());
            if total < v4.header_len() || v4.is_fragment() || v4.protocol() != PROTO_TCP {
                return None;
            }
            let (Destination::Header(dst) | Destination::SourceRoute(dst)) = v4.destination()
            else {
                return None;
            };
            Some(IpPart {
                src: v4.src_addr().into(),
                dst: dst.into(),
                ip_start: ETHERNET_HEADER_LEN,
                claimed: Some(total),
                tcp: v4.payload(),
            })
        }
        0x86dd => {
            let v6 = Ipv6Packet::new_checked(ip).ok()?;
            let payload = usize::from(v6.payload_len());
            if payload == 0 || v6.next_header() != PROTO_TCP {
                return None;
            }
            Some(IpPart {
                src: v6.src_addr().into(),
                dst: v6.dst_addr().into(),
                ip_start: ETHERNET_HEADER_LEN,
                claimed: Some(IPV6_HEADER_LEN + payload),
                tcp: v6.payload(),
            })
        }
        _ => None,
    }
}

/// Any frame: the encapsulations recvscope knows peeled by its own bounded
/// readers, each IP layer through etherparse's lax slicing.
fn decode_lax(link: LinkType, frame: &[u8], meta: FrameMeta) -> Decoded<'_> {
    let Some(mut next) = link::start(link, frame) else {
        return Decoded::NotTcp;
    };
    let mut tunnel = Tunnel::default();
    loop {
        let packet = match next {
            Inner::Ethernet(b) => {
                next = link::ethernet(b).unwrap_or(Inner::Other);
                continue;
            }
            Inner::Ether(ETHERTYPE_PPPOE, b) => {
                (tunnel, next) = match tunnel.inside(Layer::Pppoe) {
                    Some(t) => (t, tunnel::pppoe(b).unwrap_or(Inner::Other)),
                    None => return Decoded::Undecoded(Undecoded::TooDeep),
                };
                continue;
            }
            Inner::Ether(t, b) if ETHERTYPE_MPLS.contains(&t) => {
                (tunnel, next) = match tunnel.inside(Layer::Mpls) {
                    Some(t) => (t, tunnel::mpls(b).unwrap_or(Inner::Other)),
                    None => return Decoded::Undecoded(Undecoded::TooDeep),
                };
                continue;
            }
            Inner::Ether(t, b) if link::is_vlan(t) => {
                next = link::vlan(b).unwrap_or(Inner::Other);
                continue;
            }
            Inner::Ether(t, b) => LaxSlicedPacket::from_ether_type(EtherType(t), b),
            Inner::Ip(b) => match LaxSlicedPacket::from_ip(b) {
                Ok(p) => p,
                Err(_) => return Decoded::NotTcp,
            },
            Inner::Other => return Decoded::NotTcp,
            Inner::Undecoded(u) => return Decoded::Undecoded(u),
        };
        let Some(net) = packet.net.as_ref() else {
            return Decoded::NotTcp;
        };
        let ip = match ip_part(net, frame) {
            Ok(ip) => ip,
            Err(ends) => return ends.decoded(),
        };
        let (layer, inner) = match ip.protocol {
            IpNumber::TCP => return tcp_segment(ip.part, frame, meta, tunnel),
            IpNumber::IPV4 | IpNumber::IPV6 => {
                let layer = match (ip.v6, ip.protocol == IpNumber::IPV6) {
                    (false, false) => Layer::Ip4In4,
                    (false, true) => Layer::Ip6In4,
                    (true, false) => Layer::Ip4In6,
                    (true, true) => Layer::Ip6In6,
                };
                (layer, Some(Inner::Ip(ip.part.tcp)))
            }
            IpNumber::GRE => (Layer::Gre, tunnel::gre(ip.part.tcp)),
            IpNumber::UDP => match udp_encapsulation(ip.part.tcp) {
                Some(Ok(found)) => found,
                Some(Err(undecoded)) => return Decoded::Undecoded(undecoded),
                None => return Decoded::NotTcp,
            },
            L2TP_V3 => return Decoded::Undecoded(Undecoded::L2tp),
            _ => return Decoded::NotTcp,
        };
        (tunnel, next) = match tunnel.inside(layer) {
            Some(t) => (t, inner.unwrap_or(Inner::Other)),
            None => return Decoded::Undecoded(Undecoded::TooDeep),
        };
    }
}

/// L2TPv3 straight over IP.
const L2TP_V3: IpNumber = IpNumber(115);

/// The encapsulation a UDP datagram carries by its ports, and what follows
/// its header; `None` for a datagram of no encapsulation known.
fn udp_encapsulation(udp: &[u8]) -> Option<Result<(Layer, Option<Inner<'_>>), Undecoded>> {
    let head = udp.get(..8)?;
    let port = tunnel::udp_layer(be16(head, 0), be16(head, 2))?;
    let claimed = usize::from(be16(head, 4)).max(8);
    let body = udp.get(8..claimed.min(udp.len()))?;
    Some(match port {
        tunnel::PORT_VXLAN => Ok((Layer::Vxlan, tunnel::vxlan(body))),
        tunnel::PORT_GENEVE => Ok((Layer::Geneve, tunnel::geneve(body))),
        tunnel::PORT_GTP_U => Ok((Layer::GtpU, tunnel::gtp_u(body))),
        _ => Err(Undecoded::L2tp),
    })
}

/// How a frame ends at an IP layer that leads nowhere further.
#[derive(Clone, Copy)]
enum Ends {
    NotTcp,
    Fragment,
    MalformedIp,
}

impl Ends {
    fn decoded(self) -> Decoded<'static> {
        match self {
            Ends::NotTcp => Decoded::NotTcp,
            Ends::Fragment => Decoded::Fragment,
            Ends::MalformedIp => Decoded::MalformedIp,
        }
    }
}

/// An IP layer read: where TCP (or the next layer) is, and what it is.
struct IpLayer<'a> {
    part: IpPart<'a>,
    protocol: IpNumber,
    v6: bool,
}

/// The IP layer of a sliced packet, or what the frame is when it ends here
/// (not TCP, a fragment, a malformed header).
fn ip_part<'a>(net: &LaxNetSlice<'a>, frame: &'a [u8]) -> Result<IpLayer<'a>, Ends> {
    let (src, dst, ip_start, ip_claimed_len, ip_payload) = match net {
        LaxNetSlice::Ipv4(v4) => {
            let h = v4.header();
            let dst = match Ipv4Packet::new_checked(h.slice()).map(|p| p.destination()) {
                Ok(Destination::Header(dst) | Destination::SourceRoute(dst)) => Some(dst),
                Ok(Destination::Malformed) => None,
                Err(_) => Some(h.destination_addr()),
            };
            (
                IpAddr::V4(h.source_addr()),
                dst.map(IpAddr::V4),
                h.slice().as_ptr(),
                usize::from(h.total_len()),
                v4.payload(),
            )
        }
        LaxNetSlice::Ipv6(v6) => {
            let h = v6.header();
            (
                IpAddr::V6(h.source_addr()),
                Some(IpAddr::V6(h.destination_addr())),
                h.slice().as_ptr(),
                40 + usize::from(h.payload_length()),
                v6.payload(),
            )
        }
        LaxNetSlice::Arp(_) => return Err(Ends::NotTcp),
    };
    let protocol = ip_payload.ip_number;
    let carried = match protocol {
        IpNumber::TCP | IpNumber::IPV4 | IpNumber::IPV6 | IpNumber::GRE | L2TP_V3 => true,
        IpNumber::UDP => ip_payload
            .payload
            .get(..4)
            .is_some_and(|h| tunnel::udp_layer(be16(h, 0), be16(h, 2)).is_some()),
        _ => false,
    };
    if !carried {
        return Err(Ends::NotTcp);
    }
    // Options Wireshark finds malformed: what the packet carries is not read.
    let Some(dst) = dst else {
        return Err(Ends::MalformedIp);
    };
    if ip_payload.fragmented {
        return Err(Ends::Fragment);
    }
    // The header's length, also when snaplen cut the packet (etherparse
    // then reports the slice as the source); none for a zero IPv4 total
    // length (TSO) or an IPv6 jumbogram.
    let claimed = match (net, ip_payload.len_source) {
        (_, LenSource::Ipv4HeaderTotalLen | LenSource::Ipv6HeaderPayloadLen) => {
            Some(ip_claimed_len)
        }
        (LaxNetSlice::Ipv4(v4), _) if v4.header().total_len() != 0 => Some(ip_claimed_len),
        (LaxNetSlice::Ipv6(v6), _) if v6.header().payload_length() != 0 => Some(ip_claimed_len),
        _ => None,
    };
    Ok(IpLayer {
        part: IpPart {
            src,
            dst,
            ip_start: offset(frame, ip_start),
            claimed,
            tcp: ip_payload.payload,
        },
        protocol,
        v6: matches!(net, LaxNetSlice::Ipv6(_)),
    })
}

/// The TCP segment in an IP payload.
fn tcp_segment<'a>(
    ip: IpPart<'a>,
    frame: &'a [u8],
    meta: FrameMeta,
    tunnel: Tunnel,
) -> Decoded<'a> {
    let Ok(tcp) = TcpPacket::new_checked(ip.tcp) else {
        return Decoded::Truncated;
    };
    // The frame's length on the wire bounds what the IP header may claim.
    let wire_end = (meta.orig_len as usize).max(frame.len());
    let claimed_end = match ip.claimed {
        Some(len) => (ip.ip_start + len).min(wire_end),
        // A zero IPv4 total length (TSO) or a jumbogram: trust the wire length.
        None => wire_end,
    };
    let reported = claimed_end.saturating_sub(offset(frame, ip.tcp.as_ptr()));
    let hlen = tcp.header_len();
    let option_bytes = tcp.options();
    let header = if reported < hlen {
        HeaderState::Short
    } else if hlen < MIN_HEADER_LEN {
        HeaderState::BogusLength
    } else if option_bytes.is_none() {
        HeaderState::OptionsCut
    } else {
        HeaderState::Complete
    };
    let payload_len = if header == HeaderState::Short {
        0
    } else {
        reported - hlen
    };
    let (options, payload) = match (header, option_bytes) {
        (HeaderState::Complete, Some(bytes)) => {
            let captured = tcp.payload();
            (
                TcpOptions::parse(bytes),
                captured.get(..payload_len).unwrap_or(captured),
            )
        }
        _ => (TcpOptions::default(), &[][..]),
    };
    Decoded::Tcp(Segment {
        meta,
        src: SocketAddr::new(ip.src, tcp.src_port()),
        dst: SocketAddr::new(ip.dst, tcp.dst_port()),
        seq: tcp.seq_number(),
        ack: tcp.ack_number(),
        flags: tcp.flags(),
        window: tcp.window_len(),
        options,
        header,
        payload,
        payload_len: u32::try_from(payload_len).unwrap_or(u32::MAX),
        captured_len: u32::try_from(frame.len()).unwrap_or(u32::MAX),
        tunnel,
    })
}

fn offset(frame: &[u8], ptr: *const u8) -> usize {
    (ptr as usize).saturating_sub(frame.as_ptr() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use recvscope_testkit::{Pkt, Rng, wrap};

    #[test]
    fn a_malformed_ipv4_header_is_malformed_only_when_it_carries_tcp_or_a_tunnel() {
        let meta = |f: &[u8]| FrameMeta {
            number: 1,
            ts_ns: 0,
            orig_len: f.len() as u32,
        };
        let short_security = [130, 2];
        let tcp = wrap::ipv4_options(&Pkt::c2s(1, b"x").ipv4(), &short_security);
        let mut udp = Pkt::c2s(1, b"x").ipv4();
        udp[9] = 17;
        let udp = wrap::ipv4_options(&udp, &short_security);
        let vxlan = wrap::ipv4_options(
            &wrap::outer_ipv4(&wrap::udp(&[0; 30], 4789), 17),
            &short_security,
        );
        let gre = wrap::ipv4_options(
            &wrap::outer_ipv4(&wrap::gre(&Pkt::c2s(1, b"x").ipv4(), 0x0800), 47),
            &short_security,
        );
        for (frame, decoded) in [
            (wrap::ethernet(&tcp, 0x0800), Decoded::MalformedIp),
            (wrap::ethernet(&udp, 0x0800), Decoded::NotTcp),
            (wrap::ethernet(&gre, 0x0800), Decoded::MalformedIp),
            (wrap::ethernet(&vxlan, 0x0800), Decoded::MalformedIp),
        ] {
            assert_eq!(decode(LinkType::Ethernet, &frame, meta(&frame)), decoded);
        }
    }

    #[test]
    fn the_fixed_offset_path_decodes_exactly_as_etherparse_does() {
        let bases = [
            wrap::ethernet(
                &Pkt::c2s(1000, b"GET / HTTP/1.1\r\n\r\n").ack(9).ipv4(),
                0x0800,
            ),
            wrap::ethernet(
                &Pkt::s2c(7, &[0xab; 300])
                    .ack(5)
                    .mss(1460)
                    .wscale(7)
                    .sack_perm()
                    .ipv4(),
                0x0800,
            ),
            wrap::ethernet(&Pkt::c2s(1, b"x").ipv6(), 0x86dd),
            wrap::ethernet(&Pkt::s2c(1, &[1; 100]).window(0).ipv6(), 0x86dd),
            wrap::ethernet(
                &wrap::ipv4_options(
                    &Pkt::c2s(5, b"routed").ipv4(),
                    &[131, 11, 4, 10, 9, 9, 2, 10, 0, 0, 2],
                ),
                0x0800,
            ),
        ];
        let mut rng = Rng(0x0dec_0de5_eed5_1234);
        let mut fast = 0;
        for _ in 0..200_000 {
            let mut frame = bases[rng.below(bases.len())].clone();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(frame.len().min(80));
                frame[at] = rng.next_u64() as u8;
            }
            frame.truncate(frame.len() - rng.below(frame.len()).min(rng.below(60)));
            let meta = FrameMeta {
                number: 1,
                ts_ns: 0,
                orig_len: (frame.len() + rng.below(3) * 100) as u32,
            };
            let lax = decode_lax(LinkType::Ethernet, &frame, meta);
            assert_eq!(
                decode(LinkType::Ethernet, &frame, meta),
                lax,
                "{frame:02x?}"
            );
            fast += usize::from(plain_ethernet_tcp(LinkType::Ethernet, &frame).is_some());
        }
        assert!(fast > 100_000, "the fast path took {fast} frames");
    }
}
