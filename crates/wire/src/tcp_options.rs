//! TCP option walker that never gives up on an unknown kind.
//!
//! etherparse's iterator stops at the first option it does not know (TFO,
//! MPTCP, MD5, ...), losing any SACK or timestamp after it, so the options
//! are walked here as plain TLVs; unknown kinds are skipped by their length.

/// At most four SACK blocks fit in the 40 bytes of TCP options.
pub const MAX_SACK_BLOCKS: usize = 4;

/// The options recvscope uses, decoded from one segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpOptions {
    /// Maximum segment size (SYN only).
    pub mss: Option<u16>,
    /// Window-scale shift as sent (SYN only); values above 14 are kept as sent.
    pub window_scale: Option<u8>,
    /// SACK permitted (SYN only).
    pub sack_permitted: bool,
    /// SACK blocks as (left edge, right edge), absolute sequence numbers.
    pub sack_blocks: [(u32, u32); MAX_SACK_BLOCKS],
    /// How many entries of `sack_blocks` are valid.
    pub sack_count: u8,
    /// Timestamps option (TSval, TSecr).
    pub timestamps: Option<(u32, u32)>,
    /// An option had an impossible length; the walk stopped there.
    pub malformed: bool,
}

impl TcpOptions {
    /// Decodes the option bytes that follow the fixed 20-byte TCP header.
    pub fn parse(mut bytes: &[u8]) -> TcpOptions {
        let mut out = TcpOptions::default();
        while let Some((&kind, rest)) = bytes.split_first() {
            match kind {
                0 => break,
                1 => {
                    bytes = rest;
                    continue;
                }
                _ => {}
            }
            let Some(&len) = rest.first() else {
                out.malformed = true;
                break;
            };
            let len = usize::from(len);
            if len < 2 || len > bytes.len() {
                out.malformed = true;
                break;
            }
            let body = &bytes[2..len];
            match (kind, body.len()) {
                (2, 2) => out.mss = Some(u16::from_be_bytes([body[0], body[1]])),
                (3, 1) => out.window_scale = Some(body[0]),
                (4, 0) => out.sack_permitted = true,
                (5, n) if n % 8 == 0 => {
                    for block in body.chunks_exact(8).take(MAX_SACK_BLOCKS) {
                        let left = u32::from_be_bytes([block[0], block[1], block[2], block[3]]);
                        let right = u32::from_be_bytes([block[4], block[5], block[6], block[7]]);
                        out.sack_blocks[usize::from(out.sack_count)] = (left, right);
                        out.sack_count += 1;
                    }
                }
                (8, 8) => {
                    let tsval = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
                    let tsecr = u32::from_be_bytes([body[4], body[5], body[6], body[7]]);
                    out.timestamps = Some((tsval, tsecr));
                }
                _ => {}
            }
            bytes = &bytes[len..];
        }
        out
    }

    /// The valid SACK blocks.
    pub fn sacks(&self) -> &[(u32, u32)] {
        &self.sack_blocks[..usize::from(self.sack_count)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_syn_options_decode() {
        // MSS 65495, SACK permitted, timestamps, NOP, window scale 7.
        let bytes = [
            2, 4, 0xff, 0xd7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
        ];
        let o = TcpOptions::parse(&bytes);
        assert_eq!(o.mss, Some(65495));
        assert!(o.sack_permitted);
        assert_eq!(o.timestamps, Some((1, 0)));
        assert_eq!(o.window_scale, Some(7));
        assert!(!o.malformed);
    }

    #[test]
    fn unknown_kind_is_skipped_not_fatal() {
        // TFO cookie (kind 34, len 10) before a SACK block.
        let mut bytes = vec![34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 1, 5, 10];
        bytes.extend_from_slice(&100u32.to_be_bytes());
        bytes.extend_from_slice(&200u32.to_be_bytes());
        let o = TcpOptions::parse(&bytes);
        assert_eq!(o.sacks(), &[(100, 200)]);
    }

    #[test]
    fn impossible_length_stops_the_walk() {
        let o = TcpOptions::parse(&[2, 40, 1, 1]);
        assert!(o.malformed);
        assert_eq!(o.mss, None);
        let o = TcpOptions::parse(&[3]);
        assert!(o.malformed);
        let o = TcpOptions::parse(&[8, 0]);
        assert!(o.malformed);
    }

    #[test]
    fn end_of_list_stops_early() {
        let o = TcpOptions::parse(&[0, 2, 4, 5, 0xb4]);
        assert_eq!(o, TcpOptions::default());
    }
}
