//! TCP option walker that never gives up on an unknown kind.
//!
//! etherparse's iterator stops at the first option it does not know (TFO,
//! MPTCP, MD5, ...), so the options are walked here as plain TLVs; unknown
//! kinds are skipped by their length. The walk takes the bytes apart with
//! slice patterns only: no input can make it read past the end.

/// The options recvscope uses, decoded from one segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpOptions {
    /// Maximum segment size (SYN only).
    pub mss: Option<u16>,
    /// Window-scale shift as sent (SYN only); values above 14 are kept as sent.
    pub window_scale: Option<u8>,
    /// SACK permitted (SYN only).
    pub sack_permitted: bool,
}

const END: u8 = 0;
const NOP: u8 = 1;
const MSS: u8 = 2;
const WINDOW_SCALE: u8 = 3;
const SACK_PERMITTED: u8 = 4;

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

    #[test]
    fn any_bytes_of_any_length_parse() {
        // Fifty bytes of SACK options once ran past a fixed block array.
        let sacks: Vec<u8> = [5, 10, 0, 0, 0, 1, 0, 0, 0, 2].repeat(5);
        assert_eq!(TcpOptions::parse(&sacks), TcpOptions::default());
        let mut rng = Rng(0x0b7_10e5);
        for len in 0..=80 {
            for _ in 0..2_000 {
                let mut bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
                // Mostly plausible kinds and lengths, so walks go deep.
                for b in bytes.iter_mut().filter(|_| rng.below(2) == 0) {
                    *b %= 12;
                }
                let _ = TcpOptions::parse(&bytes);
            }
        }
    }
}
