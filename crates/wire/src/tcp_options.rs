//! TCP option walker that never gives up on an unknown kind.
//!
//! etherparse's iterator stops at the first option it does not know (TFO,
//! MPTCP, MD5, ...), so the options are walked here as plain TLVs; unknown
//! kinds are skipped by their length. The walk takes the bytes apart with
//! slice patterns only: no input can make it read past the end.

use super::seq::SeqNumber;

/// The options recvscope uses, decoded from one segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpOptions {
    /// Maximum segment size (SYN only).
    pub mss: Option<u16>,
    /// Window-scale shift as sent (SYN only); values above 14 are kept as sent.
    pub window_scale: Option<u8>,
    /// SACK permitted (SYN only).
    pub sack_permitted: bool,
    /// The blocks of the segment's SACK options (RFC 2018).
    pub sack: SackBlocks,
}

/// One SACK block: the receiver holds the bytes from `left` up to, not
/// including, `right`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SackBlock {
    pub left: SeqNumber,
    pub right: SeqNumber,
}

/// How many SACK blocks are kept: as many as fit in 40 bytes of options,
/// and as many as Wireshark keeps (`MAX_TCP_SACK_RANGES`).
const MAX_SACK_BLOCKS: usize = 4;

/// The SACK blocks of one segment, in the order sent: those of every SACK
/// option in turn, the first four kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SackBlocks {
    blocks: [SackBlock; MAX_SACK_BLOCKS],
    len: u8,
}

impl SackBlocks {
    /// The blocks, first sent first.
    pub fn as_slice(&self) -> &[SackBlock] {
        &self.blocks[..usize::from(self.len)]
    }

    fn push(&mut self, block: SackBlock) {
        if let Some(slot) = self.blocks.get_mut(usize::from(self.len)) {
            *slot = block;
            self.len += 1;
        }
    }

    /// The duplicate block (D-SACK, RFC 2883 section 4) of a segment
    /// acknowledging up to `ack`, by Wireshark's rule ("D-SACK Sequence"):
    /// the first block, when it ends at or below the cumulative ACK, or
    /// when the second block starts before the first ends and reaches at
    /// least as far. It names bytes the receiver got twice.
    pub fn dsack(&self, ack: SeqNumber) -> Option<SackBlock> {
        match self.as_slice() {
            [first, ..] if first.right.le_seq(ack) => Some(*first),
            [first, second, ..]
                if second.left.lt_seq(first.right) && second.right.ge_seq(first.right) =>
            {
                Some(*first)
            }
            _ => None,
        }
    }
}

const END: u8 = 0;
const NOP: u8 = 1;
const MSS: u8 = 2;
const WINDOW_SCALE: u8 = 3;
const SACK_PERMITTED: u8 = 4;
const SACK: u8 = 5;

impl TcpOptions {
    /// Decodes option bytes (those after the fixed 20-byte header), of any
    /// length. The walk stops at an end-of-list, or at an option whose
    /// length is impossible (below 2, or past the end).
    pub fn parse(mut bytes: &[u8]) -> TcpOptions {
        let mut out = TcpOptions::default();
        loop {
            bytes = match bytes {
                [] | [END, ..] => break,
                [NOP, rest @ ..] => rest,
                [kind, len, rest @ ..] => {
                    let Some(body_len) = usize::from(*len).checked_sub(2) else {
                        break;
                    };
                    let Some((body, rest)) = rest.split_at_checked(body_len) else {
                        break;
                    };
                    match (*kind, body) {
                        (MSS, &[hi, lo]) => out.mss = Some(u16::from_be_bytes([hi, lo])),
                        (WINDOW_SCALE, &[shift]) => out.window_scale = Some(shift),
                        (SACK_PERMITTED, []) => out.sack_permitted = true,
                        (SACK, blocks) => {
                            for [l0, l1, l2, l3, r0, r1, r2, r3] in blocks.as_chunks::<8>().0 {
                                out.sack.push(SackBlock {
                                    left: SeqNumber(u32::from_be_bytes([*l0, *l1, *l2, *l3])),
                                    right: SeqNumber(u32::from_be_bytes([*r0, *r1, *r2, *r3])),
                                });
                            }
                        }
                        _ => {}
                    }
                    rest
                }
                [_] => break,
            };
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use recvscope_testkit::Rng;

    #[test]
    fn linux_syn_options_decode() {
        // MSS 65495, SACK permitted, timestamps, NOP, window scale 7.
        let bytes = [
            2, 4, 0xff, 0xd7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
        ];
        let o = TcpOptions::parse(&bytes);
        assert_eq!(o.mss, Some(65495));
        assert!(o.sack_permitted);
        assert_eq!(o.window_scale, Some(7));
    }

    #[test]
    fn unknown_kind_is_skipped_not_fatal() {
        // TFO cookie (kind 34, len 10) before a window scale.
        let bytes = [34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 3, 3, 9];
        assert_eq!(TcpOptions::parse(&bytes).window_scale, Some(9));
    }

    #[test]
    fn impossible_length_stops_the_walk() {
        assert_eq!(TcpOptions::parse(&[2, 40, 1, 1]).mss, None);
        // Length 0 or 1 would loop or overlap the next option: stop there.
        for len in [0, 1] {
            let o = TcpOptions::parse(&[34, len, 3, 3, 7]);
            assert_eq!(o, TcpOptions::default(), "{len}");
        }
        assert_eq!(TcpOptions::parse(&[3]), TcpOptions::default());
        assert_eq!(TcpOptions::parse(&[3, 3]), TcpOptions::default());
    }

    #[test]
    fn a_known_kind_of_the_wrong_length_is_skipped() {
        let o = TcpOptions::parse(&[2, 3, 9, 3, 4, 7, 7, 4, 3, 0, 2, 4, 1, 0]);
        assert_eq!(o.mss, Some(256));
        assert_eq!((o.window_scale, o.sack_permitted), (None, false));
    }

    #[test]
    fn end_of_list_stops_early() {
        let o = TcpOptions::parse(&[0, 2, 4, 5, 0xb4]);
        assert_eq!(o, TcpOptions::default());
    }

    fn block(left: u32, right: u32) -> SackBlock {
        SackBlock {
            left: SeqNumber(left),
            right: SeqNumber(right),
        }
    }

    #[test]
    fn sack_blocks_decode_in_the_order_sent() {
        // NOP, NOP, SACK of two blocks, as Linux sends it after timestamps.
        let bytes = [
            1, 1, 5, 18, 0, 0, 0x03, 0xe8, 0, 0, 0x07, 0xd0, 0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 0x10,
        ];
        let o = TcpOptions::parse(&bytes);
        assert_eq!(
            o.sack.as_slice(),
            [block(1000, 2000), block(0xffff_fff0, 0x10)]
        );
        assert_eq!(TcpOptions::parse(&[1, 1]).sack.as_slice(), []);
    }

    #[test]
    fn a_sack_option_not_a_whole_number_of_blocks_keeps_its_whole_blocks() {
        let o = TcpOptions::parse(&[5, 14, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]);
        assert_eq!(o.sack.as_slice(), [block(1, 2)]);
    }

    #[test]
    fn the_first_block_at_or_below_the_ack_is_a_dsack() {
        let mut sack = SackBlocks::default();
        sack.push(block(60817, 62265));
        assert_eq!(sack.dsack(SeqNumber(62265)), Some(block(60817, 62265)));
        assert_eq!(sack.dsack(SeqNumber(70000)), Some(block(60817, 62265)));
        assert_eq!(
            sack.dsack(SeqNumber(62264)),
            None,
            "above the ACK: a plain SACK"
        );
        assert_eq!(SackBlocks::default().dsack(SeqNumber(1)), None, "no blocks");
    }

    #[test]
    fn a_first_block_inside_the_second_is_a_dsack() {
        let mut sack = SackBlocks::default();
        sack.push(block(3000, 4000));
        sack.push(block(2000, 5000));
        assert_eq!(sack.dsack(SeqNumber(1000)), Some(block(3000, 4000)));
        let mut apart = SackBlocks::default();
        apart.push(block(3000, 4000));
        apart.push(block(5000, 6000));
        assert_eq!(apart.dsack(SeqNumber(1000)), None);
        let mut short = SackBlocks::default();
        short.push(block(3000, 4000));
        short.push(block(2000, 3999));
        assert_eq!(short.dsack(SeqNumber(1000)), None, "ends before the first");
    }

    #[test]
    fn dsack_edges_compare_across_the_wrap() {
        let mut sack = SackBlocks::default();
        sack.push(block(u32::MAX - 100, 50));
        assert_eq!(sack.dsack(SeqNumber(50)), Some(block(u32::MAX - 100, 50)));
        assert_eq!(sack.dsack(SeqNumber(u32::MAX - 10)), None);
    }

    #[test]
    fn any_bytes_of_any_length_parse() {
        // Fifty bytes of SACK options once ran past a fixed block array:
        // five options of one block each, of which four are kept.
        let sacks: Vec<u8> = [5, 10, 0, 0, 0, 1, 0, 0, 0, 2].repeat(5);
        assert_eq!(
            TcpOptions::parse(&sacks).sack.as_slice(),
            [block(1, 2); MAX_SACK_BLOCKS]
        );
        let mut rng = Rng(0x0b7_10e5);
        for len in 0..=80 {
            for _ in 0..2_000 {
                let mut bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
                // Mostly plausible kinds and lengths, so walks go deep.
                for b in bytes.iter_mut().filter(|_| rng.below(2) == 0) {
                    *b %= 12;
                }
                let o = TcpOptions::parse(&bytes);
                let holds = |option: &[u8]| bytes.windows(option.len()).any(|w| w == option);
                // Whatever is decoded was sent: its option bytes are in the input.
                if let Some(mss) = o.mss {
                    let [hi, lo] = mss.to_be_bytes();
                    assert!(holds(&[MSS, 4, hi, lo]), "{bytes:?}");
                }
                if let Some(shift) = o.window_scale {
                    assert!(holds(&[WINDOW_SCALE, 3, shift]), "{bytes:?}");
                }
                assert!(
                    !o.sack_permitted || holds(&[SACK_PERMITTED, 2]),
                    "{bytes:?}"
                );
                for b in o.sack.as_slice() {
                    let edges = [b.left.0.to_be_bytes(), b.right.0.to_be_bytes()].concat();
                    assert!(holds(&edges), "{bytes:?}");
                }
            }
        }
    }
}
