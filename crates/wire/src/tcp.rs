//! A checked view of a TCP header over captured bytes, and its flags.
//!
//! Captures are cut by snaplen, so the check asks only for the fields the
//! analysis needs (ports to window, 16 bytes); how much of the rest is
//! present is for the accessors to say, without ever reading past the end.

use super::seq::SeqNumber;
use super::view::{ViewError, be16, be32};

/// TCP header flag bits, as in the header's 12-bit flags field.
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

/// Bytes from the source port to the end of the window field: all that
/// [`TcpPacket::check_len`] asks for.
pub(crate) const FIXED_FIELDS_LEN: usize = 16;
/// The shortest valid header: the fixed header without options.
pub(crate) const MIN_HEADER_LEN: usize = 20;

/// A TCP header whose fields up to the window are in the buffer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// Views `buffer` as a TCP header, once [`TcpPacket::check_len`] passes.
    #[inline]
    pub(crate) fn new_checked(buffer: T) -> Result<Self, ViewError> {
        let packet = TcpPacket { buffer };
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks that ports, sequence numbers, data offset, flags and window
    /// are in the buffer. The data offset is not checked: a bogus or cut
    /// header is still worth its fixed fields (see [`TcpPacket::options`]).
    #[inline]
    pub(crate) fn check_len(&self) -> Result<(), ViewError> {
        if self.buffer.as_ref().len() < FIXED_FIELDS_LEN {
            Err(ViewError::Truncated)
        } else {
            Ok(())
        }
    }

    #[inline]
    pub(crate) fn src_port(&self) -> u16 {
        be16(self.buffer.as_ref(), 0)
    }

    #[inline]
    pub(crate) fn dst_port(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }

    #[inline]
    pub(crate) fn seq_number(&self) -> SeqNumber {
        SeqNumber(be32(self.buffer.as_ref(), 4))
    }

    #[inline]
    pub(crate) fn ack_number(&self) -> SeqNumber {
        SeqNumber(be32(self.buffer.as_ref(), 8))
    }

    /// The header length the data offset gives, in bytes (0 to 60; below
    /// [`MIN_HEADER_LEN`] it is bogus).
    #[inline]
    pub(crate) fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[12] >> 4) * 4
    }

    /// The flag bits (the data offset masked off).
    #[inline]
    pub(crate) fn flags(&self) -> TcpFlags {
        TcpFlags(be16(self.buffer.as_ref(), 12) & 0x0fff)
    }

    /// The raw window field.
    #[inline]
    pub(crate) fn window_len(&self) -> u16 {
        be16(self.buffer.as_ref(), 14)
    }

    /// The option bytes, when the data offset is valid and the whole header
    /// was captured; `None` otherwise.
    #[inline]
    pub(crate) fn options(&self) -> Option<&[u8]> {
        self.buffer.as_ref().get(MIN_HEADER_LEN..self.header_len())
    }
}

impl<'a> TcpPacket<&'a [u8]> {
    /// The captured bytes after the header; empty unless the data offset
    /// is valid and the whole header was captured.
    #[inline]
    pub(crate) fn payload(&self) -> &'a [u8] {
        let hlen = self.header_len();
        if hlen < MIN_HEADER_LEN {
            return &[];
        }
        self.buffer.get(hlen..).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use recvscope_testkit::Pkt;

    fn tcp_of(ip: &[u8]) -> &[u8] {
        &ip[20..]
    }

    #[test]
    fn the_fixed_fields_read_once_checked() {
        let ip = Pkt::c2s(1000, b"hello")
            .ack(77)
            .window(512)
            .mss(1460)
            .ipv4();
        let tcp = TcpPacket::new_checked(tcp_of(&ip)).expect("checked");
        assert_eq!((tcp.src_port(), tcp.dst_port()), (40000, 80));
        assert_eq!(
            (tcp.seq_number(), tcp.ack_number()),
            (SeqNumber(1000), SeqNumber(77))
        );
        assert_eq!(tcp.window_len(), 512);
        assert!(tcp.flags().ack() && !tcp.flags().syn());
        assert_eq!(tcp.header_len(), 24);
        assert_eq!(tcp.options(), Some(&[2, 4, 0x05, 0xb4][..]));
        assert_eq!(tcp.payload(), b"hello");
    }

    #[test]
    fn fewer_than_sixteen_bytes_are_truncated() {
        let ip = Pkt::c2s(1, b"").ipv4();
        for len in 0..FIXED_FIELDS_LEN {
            let err = TcpPacket::new_checked(&tcp_of(&ip)[..len]).err();
            assert_eq!(err, Some(ViewError::Truncated), "{len}");
        }
        assert!(TcpPacket::new_checked(&tcp_of(&ip)[..16]).is_ok());
    }

    #[test]
    fn a_cut_or_bogus_header_has_no_options_and_no_payload() {
        let ip = Pkt::c2s(1, b"data").mss(1460).ipv4();
        let cut = TcpPacket::new_checked(&tcp_of(&ip)[..22]).expect("checked");
        assert_eq!((cut.options(), cut.payload()), (None, &[][..]));
        let mut bogus = tcp_of(&ip).to_vec();
        bogus[12] = 0x30;
        let bogus = TcpPacket::new_checked(&bogus[..]).expect("checked");
        assert_eq!(bogus.header_len(), 12);
        assert_eq!((bogus.options(), bogus.payload()), (None, &[][..]));
    }

    #[test]
    fn every_prefix_of_every_header_reads_without_panicking() {
        let ip = Pkt::c2s(1, b"xyz").mss(1460).wscale(7).sack_perm().ipv4();
        for data_offset in 0..16u8 {
            let mut tcp = tcp_of(&ip).to_vec();
            tcp[12] = data_offset << 4 | (tcp[12] & 0x0f);
            for len in 0..=tcp.len() {
                if let Ok(p) = TcpPacket::new_checked(&tcp[..len]) {
                    let _ = (p.options(), p.payload(), p.flags(), p.seq_number());
                }
            }
        }
    }
}
