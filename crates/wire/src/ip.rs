//! Checked views of IPv4 and IPv6 headers over captured bytes.
//!
//! A view is made only by `new_checked`, which proves the fixed header is
//! in the buffer; after that no accessor can panic.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::view::{ViewError, be16, be32};

/// The IP protocol number of TCP.
pub(crate) const PROTO_TCP: u8 = 6;

/// An IPv4 header whose version is 4 and whose whole header (options
/// included) is in the buffer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Views `buffer` as an IPv4 packet, once [`Ipv4Packet::check_len`] passes.
    pub(crate) fn new_checked(buffer: T) -> Result<Self, ViewError> {
        let packet = Ipv4Packet { buffer };
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the version is 4 and that the header, as long as its IHL
    /// says (at least 20 bytes), is in the buffer.
    pub(crate) fn check_len(&self) -> Result<(), ViewError> {
        let b = self.buffer.as_ref();
        let Some(&first) = b.first() else {
            return Err(ViewError::Truncated);
        };
        let ihl = usize::from(first & 0x0f) * 4;
        if first >> 4 != 4 || ihl < 20 {
            Err(ViewError::Malformed)
        } else if b.len() < ihl {
            Err(ViewError::Truncated)
        } else {
            Ok(())
        }
    }

    /// The header length in bytes (20 to 60).
    #[inline]
    pub(crate) fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[0] & 0x0f) * 4
    }

    /// The total length field: header and payload as the sender sent them.
    #[inline]
    pub(crate) fn total_len(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }

    /// True when this is a fragment: more fragments follow, or it starts
    /// past offset 0.
    #[inline]
    pub(crate) fn is_fragment(&self) -> bool {
        be16(self.buffer.as_ref(), 6) & 0x3fff != 0
    }

    /// The protocol of the payload ([`PROTO_TCP`] for TCP).
    #[inline]
    pub(crate) fn protocol(&self) -> u8 {
        self.buffer.as_ref()[9]
    }

    #[inline]
    pub(crate) fn src_addr(&self) -> Ipv4Addr {
        self.addr(12)
    }

    #[inline]
    pub(crate) fn dst_addr(&self) -> Ipv4Addr {
        self.addr(16)
    }

    #[inline]
    fn addr(&self, at: usize) -> Ipv4Addr {
        Ipv4Addr::from(be32(self.buffer.as_ref(), at))
    }

    /// The option bytes between the fixed header and the header's end.
    #[inline]
    pub(crate) fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[20..self.header_len()]
    }

    /// What the options say, read as Wireshark reads them: the destination
    /// the packet is bound for (a source route's last hop), or that the
    /// header is malformed.
    #[inline]
    pub(crate) fn destination(&self) -> Destination {
        if self.header_len() == 20 {
            Destination::Header(self.dst_addr())
        } else {
            options_destination(self.options(), self.dst_addr())
        }
    }
}

/// Where an IPv4 packet is bound, once its options are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Destination {
    /// The header's destination (no source route with hops to go).
    Header(Ipv4Addr),
    /// A loose or strict source route's final destination: the route still
    /// has hops to go, so the header's destination is only the next one.
    SourceRoute(Ipv4Addr),
    /// An option shorter than its kind's fixed fields: Wireshark's dissector
    /// throws on it, so the packet's TCP is not dissected at all.
    Malformed,
}

/// The IPv4 option kinds whose fixed fields Wireshark reads, and the
/// shortest length (type and length bytes included) that holds them.
/// Measured with tshark 4.0 over every kind and length: a shorter option
/// makes the packet malformed; other kinds take any length of 2 or more.
fn min_option_len(kind: u8, first: u8) -> u8 {
    match kind {
        7 | 130 | 131 | 133 | 137 => 3, // RR, Security, LSRR, Extended Security, SSRR
        11 | 12 | 68 | 136 | 148 => 4,  // MTU probe/reply, Timestamp, Stream ID, Router Alert
        // Quick-Start: a rate request or report (function 0 or 8) reads 8 bytes.
        25 if first >> 4 == 0 || first >> 4 == 8 => 8,
        134 => 6, // CIPSO: the DOI (its tags are not checked)
        82 => 12, // Traceroute
        _ => 2,
    }
}

/// Walks the options as Wireshark's dissector does: an option whose length
/// byte is missing, below 2 or past the options' end stops the walk without
/// harm; one too short for its kind makes the packet malformed; the first
/// loose or strict source route whose pointer is at an address decides the
/// destination.
fn options_destination(mut opts: &[u8], header_dst: Ipv4Addr) -> Destination {
    let mut dst = Destination::Header(header_dst);
    while let Some((&kind, rest)) = opts.split_first() {
        match kind {
            0 => break,
            1 => {
                opts = rest;
                continue;
            }
            _ => {}
        }
        let Some(&len) = rest.first() else { break };
        let len_usize = usize::from(len);
        if len < 2 || len_usize > opts.len() {
            break;
        }
        let option = &opts[..len_usize];
        if len < min_option_len(kind, option.get(2).copied().unwrap_or(0)) {
            return Destination::Malformed;
        }
        if matches!(kind, 131 | 137)
            && matches!(dst, Destination::Header(_))
            && let Some(last) = route_final_hop(option)
        {
            dst = Destination::SourceRoute(last);
        }
        opts = &opts[len_usize..];
    }
    dst
}

/// A source route option's last address, when its pointer is at an
/// address still to visit (aligned, at least 4, within the option) and its
/// length holds whole addresses.
fn route_final_hop(option: &[u8]) -> Option<Ipv4Addr> {
    let len = option.len();
    let ptr = usize::from(*option.get(2)?);
    if len < 7 || !(len - 3).is_multiple_of(4) || ptr < 4 || !ptr.is_multiple_of(4) || ptr + 3 > len
    {
        return None;
    }
    Some(Ipv4Addr::from(be32(option, len - 4)))
}

impl<'a> Ipv4Packet<&'a [u8]> {
    /// The payload the total length claims, as far as the buffer holds it;
    /// empty when the total length is shorter than the header.
    #[inline]
    pub(crate) fn payload(&self) -> &'a [u8] {
        let end = usize::from(self.total_len()).min(self.buffer.len());
        self.buffer.get(self.header_len()..end).unwrap_or(&[])
    }
}

/// The fixed 40-byte IPv6 header, version 6, in the buffer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

/// Length of the fixed IPv6 header.
pub(crate) const IPV6_HEADER_LEN: usize = 40;

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// Views `buffer` as an IPv6 packet, once [`Ipv6Packet::check_len`] passes.
    pub(crate) fn new_checked(buffer: T) -> Result<Self, ViewError> {
        let packet = Ipv6Packet { buffer };
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that the 40-byte fixed header is in the buffer, version 6.
    pub(crate) fn check_len(&self) -> Result<(), ViewError> {
        let b = self.buffer.as_ref();
        if b.len() < IPV6_HEADER_LEN {
            Err(ViewError::Truncated)
        } else if b[0] >> 4 != 6 {
            Err(ViewError::Malformed)
        } else {
            Ok(())
        }
    }

    /// The payload length field (0 for a jumbogram).
    #[inline]
    pub(crate) fn payload_len(&self) -> u16 {
        be16(self.buffer.as_ref(), 4)
    }

    /// The next header: [`PROTO_TCP`] when TCP follows without extension headers.
    #[inline]
    pub(crate) fn next_header(&self) -> u8 {
        self.buffer.as_ref()[6]
    }

    #[inline]
    pub(crate) fn src_addr(&self) -> Ipv6Addr {
        self.addr(8)
    }

    #[inline]
    pub(crate) fn dst_addr(&self) -> Ipv6Addr {
        self.addr(24)
    }

    #[inline]
    fn addr(&self, at: usize) -> Ipv6Addr {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.buffer.as_ref()[at..at + 16]);
        Ipv6Addr::from(a)
    }
}

impl<'a> Ipv6Packet<&'a [u8]> {
    /// The payload the payload length claims, as far as the buffer holds it.
    #[inline]
    pub(crate) fn payload(&self) -> &'a [u8] {
        let end = (IPV6_HEADER_LEN + usize::from(self.payload_len())).min(self.buffer.len());
        &self.buffer[IPV6_HEADER_LEN..end]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use recvscope_testkit::{Pkt, wrap};

    #[test]
    fn an_ipv4_header_is_read_once_checked() {
        let ip = Pkt::c2s(1, b"hello").ipv4();
        let v4 = Ipv4Packet::new_checked(&ip[..]).expect("checked");
        assert_eq!(v4.header_len(), 20);
        assert_eq!(usize::from(v4.total_len()), ip.len());
        assert_eq!(v4.protocol(), PROTO_TCP);
        assert!(!v4.is_fragment());
        assert_eq!(v4.src_addr(), Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(v4.payload().len(), 25);
    }

    #[test]
    fn ipv4_checks_refuse_what_cannot_be_read() {
        let ip = Pkt::c2s(1, b"").ipv4();
        assert_eq!(
            Ipv4Packet::new_checked(&[][..]).err(),
            Some(ViewError::Truncated)
        );
        assert_eq!(
            Ipv4Packet::new_checked(&ip[..19]).err(),
            Some(ViewError::Truncated)
        );
        let mut bad = ip.clone();
        bad[0] = 0x44; // IHL 16 bytes
        assert_eq!(
            Ipv4Packet::new_checked(&bad[..]).err(),
            Some(ViewError::Malformed)
        );
        bad[0] = 0x65;
        assert_eq!(
            Ipv4Packet::new_checked(&bad[..]).err(),
            Some(ViewError::Malformed)
        );
        bad[0] = 0x4f; // 60-byte header in a 40-byte buffer
        assert_eq!(
            Ipv4Packet::new_checked(&bad[..]).err(),
            Some(ViewError::Truncated)
        );
        let mut short_total = ip.clone();
        short_total[2..4].copy_from_slice(&10u16.to_be_bytes());
        let v4 = Ipv4Packet::new_checked(&short_total[..]).expect("checked");
        assert!(v4.payload().is_empty());
    }

    fn destination_with(options: &[u8]) -> Destination {
        let ip = wrap::ipv4_options(&Pkt::c2s(1, b"").ipv4(), options);
        Ipv4Packet::new_checked(&ip[..])
            .expect("checked")
            .destination()
    }

    #[test]
    fn an_option_shorter_than_its_kinds_fields_is_malformed_as_tshark_finds() {
        // tshark 4.0, every kind at every length: these are the shortest
        // lengths it dissects TCP after.
        let shortest = [
            (7, 3),
            (11, 4),
            (12, 4),
            (68, 4),
            (82, 12),
            (130, 3),
            (131, 3),
            (133, 3),
            (134, 6),
            (136, 4),
            (137, 3),
            (148, 4),
        ];
        let server = Destination::Header(Ipv4Addr::new(10, 0, 0, 2));
        for (kind, min) in shortest {
            let mut option = vec![kind, min - 1];
            option.resize(usize::from(min - 1), 0);
            assert_eq!(destination_with(&option), Destination::Malformed, "{kind}");
            option[1] = min;
            option.push(0);
            assert_eq!(destination_with(&option), server, "{kind}");
        }
        // Quick-Start reads 8 bytes only for a rate request or report.
        assert_eq!(destination_with(&[25, 4, 0x00, 0]), Destination::Malformed);
        assert_eq!(destination_with(&[25, 4, 0x80, 0]), Destination::Malformed);
        assert_eq!(destination_with(&[25, 4, 0x40, 0]), server);
        // An unknown kind takes any length from 2.
        assert_eq!(destination_with(&[0x9e, 2]), server);
        // A bogus length stops the walk before the malformed option after it.
        assert_eq!(destination_with(&[130, 1, 130, 2]), server);
        // End of options stops it too.
        assert_eq!(destination_with(&[0, 0, 130, 2]), server);
    }

    #[test]
    fn the_first_source_route_with_hops_to_go_names_the_destination() {
        let route = |kind, ptr| vec![kind, 11, ptr, 10, 9, 9, 2, 10, 0, 0, 7];
        let last = Destination::SourceRoute(Ipv4Addr::new(10, 0, 0, 7));
        let header = Destination::Header(Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(destination_with(&route(131, 4)), last);
        assert_eq!(destination_with(&route(137, 8)), last);
        assert_eq!(destination_with(&route(7, 4)), header, "record route");
        for ptr in [0, 3, 5, 11, 12, 255] {
            assert_eq!(destination_with(&route(131, ptr)), header, "pointer {ptr}");
        }
        let mut two = route(131, 4);
        two.extend_from_slice(&[131, 7, 4, 10, 7, 7, 7]);
        assert_eq!(destination_with(&two), last);
        let mut nop_first = vec![1];
        nop_first.extend(route(131, 4));
        assert_eq!(destination_with(&nop_first), last);
    }

    #[test]
    fn an_ipv6_header_is_read_once_checked() {
        let ip = Pkt::c2s(1, b"hello").ipv6();
        let v6 = Ipv6Packet::new_checked(&ip[..]).expect("checked");
        assert_eq!(v6.next_header(), PROTO_TCP);
        assert_eq!(usize::from(v6.payload_len()), ip.len() - 40);
        assert_eq!(v6.payload().len(), ip.len() - 40);
        assert_eq!(
            Ipv6Packet::new_checked(&ip[..39]).err(),
            Some(ViewError::Truncated)
        );
        assert_eq!(
            Ipv6Packet::new_checked(&Pkt::c2s(1, b"").ipv4()[..]).err(),
            Some(ViewError::Malformed)
        );
        assert_eq!(
            Ipv6Packet::new_checked(&ip[..45]).map(|p| p.payload().len()),
            Ok(5)
        );
    }
}
