//! A TCP segment decoded from one captured frame.

use std::net::{IpAddr, SocketAddr};

use etherparse::{LaxNetSlice, LenSource, TransportSlice};

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
    let Some(TransportSlice::Tcp(tcp)) = packet.transport.as_ref() else {
        return Decoded::Truncated;
    };
    let payload = tcp.payload();
    let payload_offset = offset(frame, payload.as_ptr());
    // The frame's length on the wire bounds what the IP header may claim.
    let wire_end = (meta.orig_len as usize).max(frame.len());
    let claimed_end = match ip_payload.len_source {
        LenSource::Ipv4HeaderTotalLen | LenSource::Ipv6HeaderPayloadLen => {
            (offset(frame, ip_start) + ip_claimed_len).min(wire_end)
        }
        // A zero IPv4 total length (TSO) or a jumbogram: trust the wire length.
        _ => wire_end,
    };
    let payload_len = claimed_end.saturating_sub(payload_offset);
    Decoded::Tcp(Segment {
        meta,
        src: SocketAddr::new(src_ip, tcp.source_port()),
        dst: SocketAddr::new(dst_ip, tcp.destination_port()),
        seq: tcp.sequence_number(),
        ack: tcp.acknowledgment_number(),
        flags: TcpFlags(u16::from(tcp.slice()[13]) | (u16::from(tcp.ns()) << 8)),
        window: tcp.window_size(),
        options: TcpOptions::parse(tcp.options()),
        payload,
        payload_len: u32::try_from(payload_len).unwrap_or(u32::MAX),
    })
}

fn offset(frame: &[u8], ptr: *const u8) -> usize {
    (ptr as usize).saturating_sub(frame.as_ptr() as usize)
}
