//! Classic pcap records read straight from the file, zero-copy: libpcap
//! has already checked the file header, this walks the records in a large
//! buffer and hands out slices of it, with libpcap's rules for damage.
//! (libpcap copies every record twice: into stdio's buffer, then its own.)

use std::io::{self, Read};

use crate::wire::FrameMeta;

/// Bytes of the file header before the first record.
pub const FILE_HEADER: usize = 24;
const RECORD_HEADER: usize = 16;
/// libpcap's largest accepted record (`MAXIMUM_SNAPLEN`).
pub const MAX_CAPLEN: u32 = 262_144;
/// Read buffer: many records per read() call.
const BUFFER: usize = 4 << 20;

/// How a classic pcap file encodes its records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Format {
    pub big_endian: bool,
    /// Timestamps' second field is in nanoseconds, not microseconds.
    pub nanos: bool,
}

impl Format {
    /// The record format of a file whose header starts with `magic`, if it
    /// is one of the four standard classic pcap magics.
    pub fn from_magic(magic: [u8; 4]) -> Option<Format> {
        let (big_endian, value) = match (u32::from_le_bytes(magic), u32::from_be_bytes(magic)) {
            (v @ (0xa1b2_c3d4 | 0xa1b2_3c4d), _) => (false, v),
            (_, v @ (0xa1b2_c3d4 | 0xa1b2_3c4d)) => (true, v),
            _ => return None,
        };
        Some(Format {
            big_endian,
            nanos: value == 0xa1b2_3c4d,
        })
    }

    fn u32(self, b: &[u8]) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        if self.big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        }
    }
}

/// One record's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordHeader {
    pub ts_ns: i64,
    pub caplen: u32,
    pub orig_len: u32,
}

/// Parses a 16-byte record header.
pub fn record_header(format: Format, b: &[u8]) -> RecordHeader {
    let sec = i64::from(format.u32(&b[0..4]));
    let frac = i64::from(format.u32(&b[4..8]));
    let frac_ns = if format.nanos { frac } else { frac * 1000 };
    RecordHeader {
        ts_ns: sec * 1_000_000_000 + frac_ns,
        caplen: format.u32(&b[8..12]),
        orig_len: format.u32(&b[12..16]),
    }
}

/// Reads every record after the file header from `file`, calling `f` for
/// each. Stops at the first damaged record with libpcap's reason.
pub fn for_each(
    mut file: impl Read,
    format: Format,
    snaplen: u32,
    mut f: impl FnMut(FrameMeta, &[u8]),
) -> Result<(), String> {
    let mut buf = vec![0u8; BUFFER];
    let mut skip = FILE_HEADER;
    let (mut start, mut end) = (0usize, 0usize);
    let mut number = 0u64;
    loop {
        while end - start >= RECORD_HEADER {
            let h = record_header(format, &buf[start..start + RECORD_HEADER]);
            if h.caplen > MAX_CAPLEN {
                return Err(format!(
                    "invalid packet capture length {}, bigger than snaplen of {snaplen}",
                    h.caplen
                ));
            }
            let total = RECORD_HEADER + h.caplen as usize;
            if end - start < total {
                break;
            }
            number += 1;
            let data = &buf[start + RECORD_HEADER..start + total];
            let kept = data.len().min(snaplen.max(1) as usize);
            let meta = FrameMeta {
                number,
                ts_ns: h.ts_ns,
                orig_len: h.orig_len,
            };
            f(meta, &data[..kept]);
            start += total;
        }
        buf.copy_within(start..end, 0);
        end -= start;
        start = 0;
        let read = read_some(&mut file, &mut buf[end..])?;
        let fresh = read.saturating_sub(skip);
        if skip > 0 {
            let header_bytes = read.min(skip);
            buf.copy_within(end + header_bytes..end + read, end);
            skip -= header_bytes;
        }
        if read == 0 {
            return match end {
                0 => Ok(()),
                n if n < RECORD_HEADER => Err(format!(
                    "truncated dump file; tried to read {RECORD_HEADER} header bytes, only got {n}"
                )),
                n => {
                    let h = record_header(format, &buf[..RECORD_HEADER]);
                    Err(format!(
                        "truncated dump file; tried to read {} captured bytes, only got {}",
                        h.caplen,
                        n - RECORD_HEADER
                    ))
                }
            };
        }
        end += fresh;
    }
}

fn read_some(file: &mut impl Read, into: &mut [u8]) -> Result<usize, String> {
    loop {
        match file.read(into) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("error reading dump file: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(format: Format, records: &[(u32, u32, &[u8])]) -> Vec<u8> {
        let w = |v: u32| {
            if format.big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let magic = if format.nanos {
            0xa1b2_3c4d
        } else {
            0xa1b2_c3d4
        };
        let mut out = Vec::new();
        out.extend_from_slice(&w(magic));
        out.extend_from_slice(&[0; 20]);
        for (sec, frac, data) in records {
            out.extend_from_slice(&w(*sec));
            out.extend_from_slice(&w(*frac));
            out.extend_from_slice(&w(data.len() as u32));
            out.extend_from_slice(&w(data.len() as u32 + 10));
            out.extend_from_slice(data);
        }
        out
    }

    type Frames = Vec<(FrameMeta, Vec<u8>)>;

    fn read_all(bytes: &[u8], format: Format) -> (Frames, Result<(), String>) {
        let mut got = Vec::new();
        let r = for_each(bytes, format, MAX_CAPLEN, |m, d| got.push((m, d.to_vec())));
        (got, r)
    }

    #[test]
    fn the_four_magics_give_byte_order_and_timestamp_unit() {
        let le_us = Format {
            big_endian: false,
            nanos: false,
        };
        assert_eq!(
            Format::from_magic(0xa1b2_c3d4u32.to_le_bytes()),
            Some(le_us)
        );
        assert_eq!(
            Format::from_magic(0xa1b2_3c4du32.to_be_bytes()),
            Some(Format {
                big_endian: true,
                nanos: true
            })
        );
        assert_eq!(
            Format::from_magic(*b"\x0a\x0d\x0d\x0a"),
            None,
            "pcapng is libpcap's"
        );
    }

    #[test]
    fn records_come_out_in_order_with_nanosecond_times_in_either_byte_order() {
        for (big_endian, nanos) in [(false, false), (true, true), (true, false)] {
            let format = Format { big_endian, nanos };
            let bytes = file(format, &[(1, 5, b"abc"), (2, 0, b""), (3, 7, b"xyz!")]);
            let (got, end) = read_all(&bytes, format);
            assert_eq!(end, Ok(()));
            let unit = if nanos { 1 } else { 1000 };
            assert_eq!(got.len(), 3);
            assert_eq!(
                got[0].0,
                FrameMeta {
                    number: 1,
                    ts_ns: 1_000_000_000 + 5 * unit,
                    orig_len: 13
                }
            );
            assert_eq!(got[2].1, b"xyz!");
        }
    }

    #[test]
    fn records_larger_than_one_read_and_spanning_buffers_are_whole() {
        let format = Format {
            big_endian: false,
            nanos: true,
        };
        let big = vec![7u8; 200_000];
        let records: Vec<(u32, u32, &[u8])> = (0..50).map(|i| (i, 0, big.as_slice())).collect();
        let bytes = file(format, &records);
        let (got, end) = read_all(&bytes, format);
        assert_eq!(end, Ok(()));
        assert_eq!(got.len(), 50);
        assert!(got.iter().all(|(_, d)| d.len() == 200_000));
    }

    #[test]
    fn damage_is_reported_like_libpcap_after_the_good_records() {
        let format = Format {
            big_endian: false,
            nanos: false,
        };
        let bytes = file(format, &[(1, 0, b"abcd"), (2, 0, b"efgh")]);
        let (got, end) = read_all(&bytes[..bytes.len() - 2], format);
        assert_eq!(got.len(), 1);
        assert_eq!(
            end,
            Err("truncated dump file; tried to read 4 captured bytes, only got 2".into())
        );
        let (_, end) = read_all(&bytes[..24 + 20 + 5], format);
        assert_eq!(
            end,
            Err("truncated dump file; tried to read 16 header bytes, only got 5".into())
        );
        let mut huge = file(format, &[(1, 0, b"")]);
        huge[24 + 8..24 + 12].copy_from_slice(&(MAX_CAPLEN + 1).to_le_bytes());
        let (got, end) = read_all(&huge, format);
        assert!(got.is_empty());
        assert_eq!(
            end,
            Err(format!(
                "invalid packet capture length {}, bigger than snaplen of {MAX_CAPLEN}",
                MAX_CAPLEN + 1
            ))
        );
    }

    #[test]
    fn a_record_longer_than_the_snaplen_is_cut_to_it() {
        let format = Format {
            big_endian: false,
            nanos: false,
        };
        let bytes = file(format, &[(1, 0, b"abcdef")]);
        let mut got = Vec::new();
        assert_eq!(
            for_each(bytes.as_slice(), format, 4, |_, d| got.push(d.to_vec())),
            Ok(())
        );
        assert_eq!(got, [b"abcd".to_vec()]);
    }
}
