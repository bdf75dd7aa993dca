//! **Pipeline: frames → `recvscope-wire` → segments → recvscope-tcp.** The first
//! stage: the shell's capture hands it frames; it hands TCP segments on.
//!
//! Wire decoding: captured frames of any supported link type to TCP segments.
//!
//! Pure: takes bytes, returns values. Parsing is lax, as captures are cut by
//! snaplen and built by strangers; no input makes it panic. Headers are
//! read through checked views (`TcpPacket`, `Ipv4Packet`, `Ipv6Packet`):
//! made only once their bytes are known present, so their accessors cannot
//! read past the end.

#![warn(unreachable_pub)]

mod gap;
mod ip;
mod link;
mod segment;
pub mod seq;
mod side;
mod tcp;
mod tcp_options;
mod text;
mod tunnel;
mod view;

pub use gap::Gap;
pub use link::{LinkType, SUPPORTED};
pub use segment::{Decoded, FrameMeta, HeaderState, Segment, decode};
pub use seq::SeqNumber;
pub use side::Side;
pub use tcp::TcpFlags;
pub use tcp_options::{SackBlock, SackBlocks, TcpOptions};
pub use text::WireText;
pub use tunnel::{Layer, MAX_LAYERS, Tunnel, Undecoded};

#[cfg(test)]
mod tests {
    use super::*;
    use recvscope_testkit::{Pkt, wrap};

    fn meta(len: usize) -> FrameMeta {
        FrameMeta {
            number: 1,
            ts_ns: 0,
            orig_len: len as u32,
        }
    }

    fn tcp_of(link: LinkType, frame: &[u8]) -> Segment<'_> {
        match decode(link, frame, meta(frame.len())) {
            Decoded::Tcp(s) => s,
            other => panic!("{link:?}: expected TCP, got {other:?}"),
        }
    }

    #[test]
    fn every_link_type_yields_the_same_segment() {
        let ip4 = Pkt::c2s(1000, b"hello").ack(77).window(512).ipv4();
        let ip6 = Pkt::c2s(1000, b"hello").ack(77).window(512).ipv6();
        let cases = [
            (LinkType::Ethernet, wrap::ethernet(&ip4, 0x0800)),
            (LinkType::Ethernet, wrap::vlan(&ip4, 0x0800, 1)),
            (LinkType::Ethernet, wrap::vlan(&ip6, 0x86dd, 2)),
            (LinkType::Null, wrap::null_le(&ip4, 2)),
            (LinkType::Null, wrap::null_le(&ip6, 30)),
            (LinkType::Null, wrap::loop_be(&ip6, 24)),
            (LinkType::Loop, wrap::loop_be(&ip4, 2)),
            (LinkType::Raw, ip4.clone()),
            (LinkType::Raw, ip6.clone()),
            (LinkType::Ipv4, ip4.clone()),
            (LinkType::Ipv6, ip6.clone()),
            (LinkType::LinuxSll, wrap::sll(&ip4, 0x0800)),
            (LinkType::LinuxSll2, wrap::sll2(&ip6, 0x86dd)),
            (LinkType::Fddi, wrap::fddi(&ip4, 0x0800)),
            (LinkType::Fddi, wrap::fddi(&ip6, 0x86dd)),
            (LinkType::Ethernet, wrap::snap(&ip6, 0x86dd)),
        ];
        for (link, frame) in &cases {
            let s = tcp_of(*link, frame);
            assert_eq!(s.src.port(), 40000, "{link:?}");
            assert_eq!(s.dst.port(), 80, "{link:?}");
            assert_eq!(s.seq, SeqNumber(1000));
            assert_eq!(s.ack, SeqNumber(77));
            assert!(s.flags.ack());
            assert_eq!(s.window, 512);
            assert_eq!(s.payload, b"hello");
            assert_eq!(s.payload_len, 5);
        }
    }

    #[test]
    fn raw_ipv4_link_rejects_ipv6() {
        let ip6 = Pkt::c2s(1, b"").ipv6();
        assert!(matches!(
            decode(LinkType::Ipv4, &ip6, meta(ip6.len())),
            Decoded::NotTcp
        ));
    }

    #[test]
    fn snaplen_cut_payload_keeps_the_ip_length() {
        let frame = wrap::ethernet(&Pkt::c2s(1, &[7u8; 1000]).ipv4(), 0x0800);
        let cut = &frame[..14 + 20 + 20 + 10];
        let s = match decode(LinkType::Ethernet, cut, meta(frame.len())) {
            Decoded::Tcp(s) => s,
            other => panic!("{other:?}"),
        };
        assert_eq!(s.payload.len(), 10);
        assert_eq!(s.payload_len, 1000);
        assert!(s.payload_truncated());
        assert_eq!(s.captured_len, 64);
    }

    #[test]
    fn header_cut_before_the_window_is_truncated() {
        let frame = wrap::ethernet(&Pkt::c2s(1, b"x").ipv4(), 0x0800);
        let cut = &frame[..14 + 20 + 10];
        assert!(matches!(
            decode(LinkType::Ethernet, cut, meta(frame.len())),
            Decoded::Truncated
        ));
    }

    #[test]
    fn options_cut_by_snaplen_keep_the_fixed_header() {
        let frame = Pkt::c2s(7, &[1; 100]).mss(1460).wscale(3).ipv4();
        let cut = &frame[..20 + 22];
        let s = match decode(LinkType::Raw, cut, meta(frame.len())) {
            Decoded::Tcp(s) => s,
            other => panic!("{other:?}"),
        };
        assert_eq!(s.header, HeaderState::OptionsCut);
        assert_eq!(s.seq, SeqNumber(7));
        assert_eq!(s.payload_len, 100);
        assert_eq!(s.options.window_scale, None);
    }

    #[test]
    fn a_data_offset_beyond_the_ip_length_is_a_short_segment() {
        let mut ip = Pkt::c2s(7, b"").ipv4();
        ip[20 + 12] = 0xf0; // 60-byte header in a 40-byte packet
        let s = match decode(LinkType::Raw, &ip, meta(ip.len())) {
            Decoded::Tcp(s) => s,
            other => panic!("{other:?}"),
        };
        assert_eq!(s.header, HeaderState::Short);
        assert_eq!(s.payload_len, 0);
        ip[20 + 12] = 0x30; // 12 bytes: impossible
        let s = match decode(LinkType::Raw, &ip, meta(ip.len())) {
            Decoded::Tcp(s) => s,
            other => panic!("{other:?}"),
        };
        assert_eq!(s.header, HeaderState::BogusLength);
        assert_eq!(s.payload_len, 8);
    }

    #[test]
    fn ethernet_padding_is_not_payload() {
        let mut frame = wrap::ethernet(&Pkt::c2s(1, b"").ipv4(), 0x0800);
        frame.extend_from_slice(&[0; 6]); // pad to the 60-byte minimum
        let s = tcp_of(LinkType::Ethernet, &frame);
        assert_eq!(s.payload_len, 0);
        assert!(s.payload.is_empty());
    }

    #[test]
    fn non_tcp_frames_are_skipped() {
        let arp = wrap::ethernet(&[0u8; 28], 0x0806);
        assert!(matches!(
            decode(LinkType::Ethernet, &arp, meta(arp.len())),
            Decoded::NotTcp
        ));
        let garbage = [0xffu8; 3];
        for code in [0, 1, 10, 101, 108, 113, 228, 229, 276] {
            let link = LinkType::from_code(code).expect("supported");
            let got = decode(link, &garbage, meta(3));
            assert!(
                matches!(got, Decoded::NotTcp | Decoded::Truncated),
                "link type {code}: {got:?}"
            );
        }
    }

    #[test]
    fn syn_options_are_decoded() {
        let frame = Pkt::c2s(0, b"")
            .syn()
            .mss(1460)
            .wscale(7)
            .sack_perm()
            .ipv4();
        let s = tcp_of(LinkType::Raw, &frame);
        assert!(s.flags.syn() && !s.flags.ack());
        assert_eq!(s.options.mss, Some(1460));
        assert_eq!(s.options.window_scale, Some(7));
        assert!(s.options.sack_permitted);
        assert_eq!(s.flags.letters(), "S");
    }

    #[test]
    fn sack_blocks_of_an_ack_are_decoded() {
        let frame = Pkt::s2c(51, b"")
            .ack(62265)
            .sack((60817, 62265), &[(70000, 71448)])
            .ipv4();
        let s = tcp_of(LinkType::Raw, &frame);
        let block = |left, right| SackBlock {
            left: SeqNumber(left),
            right: SeqNumber(right),
        };
        assert_eq!(
            s.options.sack.as_slice(),
            [block(60817, 62265), block(70000, 71448)]
        );
        assert_eq!(s.options.sack.dsack(s.ack), Some(block(60817, 62265)));
    }
}
