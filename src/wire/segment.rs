//! A TCP segment decoded from one captured frame.

use std::net::{IpAddr, SocketAddr};

use etherparse::{LaxNetSlice, LenSource};

use super::link::{self, LinkType};
use super::tcp_options::TcpOptions;

/// TCP header flag bits, as in the header's 9-bit flags field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpFlags(pub u16);

impl TcpFlags {
    pub const FIN: u16 = 0x01;
    pub const SYN: u16 = 0x02;
    pub const RST: u16 = 0x04;
    pub const PSH: u16 = 0x08;
    pub const ACK: u16 = 0x10;
    pub const URG: u16 = 0x20;
    pub const ECE: u16 = 0x40;
    pub const CWR: u16 = 0x80;

    pub fn fin(self) -> bool {
        self.0 & Self::FIN != 0
    }
    pub fn syn(self) -> bool {
        self.0 & Self::SYN != 0
    }
    pub fn rst(self) -> bool {
        self.0 & Self::RST != 0
    }
    pub fn ack(self) -> bool {
        self.0 & Self::ACK != 0
    }
    /// Any of SYN, FIN, RST: segments most analysis rules skip.
    pub fn syn_fin_rst(self) -> bool {
        self.0 & (Self::SYN | Self::FIN | Self::RST) != 0
    }

    /// tcpdump-style letters, e.g. `S.` for SYN-ACK, `P.` for PSH-ACK.
    pub fn letters(self) -> String {
        let mut s = String::new();
        for (bit, c) in [
            (Self::SYN, 'S'),
            (Self::FIN, 'F'),
            (Self::RST, 'R'),
            (Self::PSH, 'P'),
            (Self::URG, 'U'),
            (Self::ECE, 'E'),
            (Self::CWR, 'W'),
            (Self::ACK, '.'),
        ] {
            if self.0 & bit != 0 {
                s.push(c);
            }
        }
        if s.is_empty() { "none".into() } else { s }
    }
}

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
#[derive(Clone, Copy, Debug)]
pub struct Segment<'a> {
    pub meta: FrameMeta,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    /// The raw 16-bit window field; scaling is the tracker's job.
    pub window: u16,
    pub options: TcpOptions,
    pub header: HeaderState,
    /// The payload bytes present in the capture (may be cut short by snaplen).
    pub payload: &'a [u8],
    /// The payload length the IP header claims: the true segment length.
    pub payload_len: u32,
}

impl Segment<'_> {
    /// True when snaplen cut part of the payload.
    pub fn payload_truncated(&self) -> bool {
        (self.payload.len() as u64) < u64::from(self.payload_len)
    }
}

/// What one frame turned out to be.
#[derive(Debug)]
pub enum Decoded<'a> {
    Tcp(Segment<'a>),
    /// An IP packet of another protocol, or a non-IP frame.
    NotTcp,
    /// A fragment of an IP packet (TCP inside fragments is not reassembled).
    Fragment,
    /// The frame ends before the TCP header does.
    Truncated,
}

/// Decodes a captured frame down to its TCP segment, tolerating truncation:
/// lengths come from the IP header, never from how many bytes were captured.
pub fn decode(link: LinkType, frame: &[u8], meta: FrameMeta) -> Decoded<'_> {
    let Some(packet) = link::slice(link, frame) else {
        return Decoded::NotTcp;
    };
    let Some(net) = packet.net.as_ref() else {
        return Decoded::NotTcp;
    };
    let (src_ip, dst_ip, ip_start, ip_claimed_len, ip_payload) = match net {
        LaxNetSlice::Ipv4(v4) => {
            let h = v4.header();
            (
                IpAddr::V4(h.source_addr()),
                IpAddr::V4(h.destination_addr()),
                h.slice().as_ptr(),
                usize::from(h.total_len()),
                v4.payload(),
            )
        }
        LaxNetSlice::Ipv6(v6) => {
            let h = v6.header();
            (
                IpAddr::V6(h.source_addr()),
                IpAddr::V6(h.destination_addr()),
                h.slice().as_ptr(),
                40 + usize::from(h.payload_length()),
                v6.payload(),
            )
        }
        LaxNetSlice::Arp(_) => return Decoded::NotTcp,
    };
    if ip_payload.ip_number != etherparse::IpNumber::TCP {
        return Decoded::NotTcp;
    }
    if ip_payload.fragmented {
        return Decoded::Fragment;
    }
    let tcp = ip_payload.payload;
    if tcp.len() < 16 {
        return Decoded::Truncated;
    }
    // The frame's length on the wire bounds what the IP header may claim.
    let wire_end = (meta.orig_len as usize).max(frame.len());
    let claimed_end = match ip_payload.len_source {
        LenSource::Ipv4HeaderTotalLen | LenSource::Ipv6HeaderPayloadLen => {
            (offset(frame, ip_start) + ip_claimed_len).min(wire_end)
        }
        // A zero IPv4 total length (TSO) or a jumbogram: trust the wire length.
        _ => wire_end,
    };
    let reported = claimed_end.saturating_sub(offset(frame, tcp.as_ptr()));
    let hlen = usize::from(tcp[12] >> 4) * 4;
    let header = if reported < hlen {
        HeaderState::Short
    } else if hlen < 20 {
        HeaderState::BogusLength
    } else if tcp.len() < hlen {
        HeaderState::OptionsCut
    } else {
        HeaderState::Complete
    };
    let payload_len = if header == HeaderState::Short {
        0
    } else {
        reported - hlen
    };
    let payload = match header {
        HeaderState::Complete => {
            let end = tcp.len().min(hlen + payload_len);
            &tcp[hlen..end]
        }
        _ => &[],
    };
    let options = match header {
        HeaderState::Complete => TcpOptions::parse(&tcp[20..hlen]),
        _ => TcpOptions::default(),
    };
    let be16 = |i: usize| u16::from_be_bytes([tcp[i], tcp[i + 1]]);
    let be32 = |i: usize| u32::from_be_bytes([tcp[i], tcp[i + 1], tcp[i + 2], tcp[i + 3]]);
    Decoded::Tcp(Segment {
        meta,
        src: SocketAddr::new(src_ip, be16(0)),
        dst: SocketAddr::new(dst_ip, be16(2)),
        seq: be32(4),
        ack: be32(8),
        flags: TcpFlags(be16(12) & 0x0fff),
        window: be16(14),
        options,
        header,
        payload,
        payload_len: u32::try_from(payload_len).unwrap_or(u32::MAX),
    })
}

fn offset(frame: &[u8], ptr: *const u8) -> usize {
    (ptr as usize).saturating_sub(frame.as_ptr() as usize)
}
