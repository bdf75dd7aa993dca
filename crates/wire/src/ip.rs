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
    use recvscope_testkit::Pkt;

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
