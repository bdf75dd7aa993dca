//! Classic pcap records read straight from the file, zero-copy: libpcap
//! has already checked the file header, this walks the records in large
//! blocks and hands out slices of them, with libpcap's rules for damage.
//! (libpcap copies every record twice: into stdio's buffer, then its own.)

use super::blocks::{self, Source};
use super::timestamp::{Fraction, timestamp_ns};
use crate::wire::FrameMeta;

/// Bytes of the file header before the first record.
pub(crate) const FILE_HEADER: usize = 24;
const RECORD_HEADER: usize = 16;
/// libpcap's largest accepted record (`MAXIMUM_SNAPLEN`).
pub(crate) const MAX_CAPLEN: u32 = 262_144;

/// How a classic pcap file encodes its records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Format {
    pub big_endian: bool,
    /// Timestamps' second field is in nanoseconds, not microseconds.
    pub nanos: bool,
}

impl Format {
    /// The record format of a file whose header starts with `magic`, if it
    /// is one of the four standard classic pcap magics.
    pub(crate) fn from_magic(magic: [u8; 4]) -> Option<Format> {
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
pub(crate) struct RecordHeader {
    pub ts_ns: i64,
    pub caplen: u32,
    pub orig_len: u32,
}

/// Parses a 16-byte record header.
pub(crate) fn record_header(format: Format, b: &[u8]) -> RecordHeader {
    let sec = i64::from(format.u32(&b[0..4]));
    let frac = i64::from(format.u32(&b[4..8]));
    let unit = if format.nanos {
        Fraction::Nanos
    } else {
        Fraction::Micros
    };
    RecordHeader {
        ts_ns: timestamp_ns(sec, frac, unit),
        caplen: format.u32(&b[8..12]),
        orig_len: format.u32(&b[12..16]),
    }
}

/// How records reach the analysis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    /// Reading and analysis take turns on the calling thread.
    Inline,
    /// A helper thread reads the next blocks while the caller analyses
    /// this one, so the kernel's copy overlaps the analysis on a second core.
    Ahead,
}

/// Reads every record after the file header from `file`, calling `f` for
/// each. Stops at the first damaged record with libpcap's reason.
pub(crate) fn for_each(
    file: &(impl Source + ?Sized),
    format: Format,
    snaplen: u32,
    reading: Reading,
    mut f: impl FnMut(FrameMeta, &[u8]),
) -> Result<(), String> {
    let mut records = Records::new(format, snaplen);
    blocks::each_block(file, reading == Reading::Ahead, |block| {
        records.feed(block, &mut f)
    })?;
    records.end()
}

/// Walks the records of a byte stream that arrives in chunks, joining a
/// record cut between two chunks.
struct Records {
    format: Format,
    /// Bytes handed to `f` per record at most.
    keep: usize,
    /// File header bytes still to skip.
    skip: usize,
    number: u64,
    /// The start of a record the last chunk ended inside.
    carry: Vec<u8>,
}

impl Records {
    fn new(format: Format, snaplen: u32) -> Records {
        Records {
            format,
            keep: snaplen.max(1) as usize,
            skip: FILE_HEADER,
            number: 0,
            carry: Vec::new(),
        }
    }

    /// Calls `f` for every record completed by `chunk`.
    fn feed(&mut self, chunk: &[u8], f: &mut impl FnMut(FrameMeta, &[u8])) -> Result<(), String> {
        let skipped = chunk.len().min(self.skip);
        self.skip -= skipped;
        let mut rest = &chunk[skipped..];
        if !self.carry.is_empty() {
            rest = self.join(rest, f)?;
            if !self.carry.is_empty() {
                return Ok(());
            }
        }
        while rest.len() >= RECORD_HEADER {
            let h = self.header(rest)?;
            let total = RECORD_HEADER + h.caplen as usize;
            let Some(data) = rest.get(RECORD_HEADER..total) else {
                break;
            };
            prefetch(&rest[total..]);
            self.record(h, data, f);
            rest = &rest[total..];
        }
        self.carry.extend_from_slice(rest);
        Ok(())
    }

    /// Completes the carried record from the start of `chunk`; returns
    /// what follows it.
    fn join<'c>(
        &mut self,
        chunk: &'c [u8],
        f: &mut impl FnMut(FrameMeta, &[u8]),
    ) -> Result<&'c [u8], String> {
        let header_part = RECORD_HEADER
            .saturating_sub(self.carry.len())
            .min(chunk.len());
        self.carry.extend_from_slice(&chunk[..header_part]);
        let chunk = &chunk[header_part..];
        if self.carry.len() < RECORD_HEADER {
            return Ok(chunk);
        }
        let h = self.header(&self.carry)?;
        let total = RECORD_HEADER + h.caplen as usize;
        let data_part = (total - self.carry.len()).min(chunk.len());
        self.carry.extend_from_slice(&chunk[..data_part]);
        if self.carry.len() == total {
            let carry = std::mem::take(&mut self.carry);
            self.record(h, &carry[RECORD_HEADER..], f);
            self.carry = carry;
            self.carry.clear();
        }
        Ok(&chunk[data_part..])
    }

    fn header(&self, bytes: &[u8]) -> Result<RecordHeader, String> {
        let h = record_header(self.format, &bytes[..RECORD_HEADER]);
        if h.caplen > MAX_CAPLEN {
            return Err(format!(
                "invalid packet capture length {}, bigger than snaplen of {MAX_CAPLEN}",
                h.caplen
            ));
        }
        Ok(h)
    }

    fn record(&mut self, h: RecordHeader, data: &[u8], f: &mut impl FnMut(FrameMeta, &[u8])) {
        self.number += 1;
        let meta = FrameMeta {
            number: self.number,
            ts_ns: h.ts_ns,
            orig_len: h.orig_len,
        };
        f(meta, &data[..data.len().min(self.keep)]);
    }

    /// How the file ends, given the bytes left over after the last chunk.
    fn end(&self) -> Result<(), String> {
        match self.carry.len() {
            0 => Ok(()),
            n if n < RECORD_HEADER => Err(format!(
                "truncated dump file; tried to read {RECORD_HEADER} header bytes, only got {n}"
            )),
            n => {
                let h = record_header(self.format, &self.carry[..RECORD_HEADER]);
                Err(format!(
                    "truncated dump file; tried to read {} captured bytes, only got {}",
                    h.caplen,
                    n - RECORD_HEADER
                ))
            }
        }
    }
}

/// Asks the CPU to start loading the next record's headers while this
/// record is analysed: the block was copied by the kernel, often on the
/// other core, and waiting for each header was 40 % of the analysis time.
#[inline(always)]
fn prefetch(next: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    for line in [0, 64] {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: a prefetch is a hint; it never faults, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(next.as_ptr().wrapping_add(line).cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = next;
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

    /// Reads `bytes` both ways, checking they agree.
    fn read_all(bytes: &[u8], format: Format) -> (Frames, Result<(), String>) {
        let read = |reading| {
            let mut got = Vec::new();
            let r = for_each(bytes, format, MAX_CAPLEN, reading, |m, d| {
                got.push((m, d.to_vec()))
            });
            (got, r)
        };
        let ahead = read(Reading::Ahead);
        assert_eq!(read(Reading::Inline), ahead, "inline and read-ahead differ");
        ahead
    }

    /// Feeds `bytes` to the record walk in chunks of `size` bytes.
    fn in_chunks(bytes: &[u8], format: Format, size: usize) -> (Frames, Result<(), String>) {
        let mut records = Records::new(format, MAX_CAPLEN);
        let mut got = Vec::new();
        for chunk in bytes.chunks(size) {
            if let Err(e) = records.feed(chunk, &mut |m, d| got.push((m, d.to_vec()))) {
                return (got, Err(e));
            }
        }
        let end = records.end();
        (got, end)
    }

    #[test]
    fn records_cut_anywhere_between_chunks_come_out_whole_and_in_order() {
        let format = Format {
            big_endian: true,
            nanos: false,
        };
        let records: Vec<(u32, u32, &[u8])> = vec![
            (1, 1, b"first record"),
            (2, 2, b""),
            (3, 3, b"x"),
            (4, 4, &[9u8; 100]),
            (5, 5, b"last"),
        ];
        let bytes = file(format, &records);
        let whole = in_chunks(&bytes, format, bytes.len());
        assert_eq!(whole.1, Ok(()));
        assert_eq!(whole.0.len(), 5);
        assert_eq!(whole.0[3].1, vec![9u8; 100]);
        for size in 1..=bytes.len() {
            assert_eq!(
                in_chunks(&bytes, format, size),
                whole,
                "chunks of {size} bytes"
            );
        }
        for cut in 0..bytes.len() {
            let whole_cut = in_chunks(&bytes[..cut], format, cut.max(1));
            for size in [1, 2, 3, 7, 16, 17, 29] {
                assert_eq!(
                    in_chunks(&bytes[..cut], format, size),
                    whole_cut,
                    "file cut at {cut}, chunks of {size} bytes"
                );
            }
        }
    }

    #[test]
    fn a_bad_length_in_a_record_split_between_chunks_is_still_damage() {
        let format = Format {
            big_endian: false,
            nanos: false,
        };
        let mut bytes = file(format, &[(1, 0, b"ok"), (2, 0, b"")]);
        let second = 24 + 16 + 2;
        bytes[second + 8..second + 12].copy_from_slice(&(MAX_CAPLEN + 1).to_le_bytes());
        for size in 1..=bytes.len() {
            let (got, end) = in_chunks(&bytes, format, size);
            assert_eq!(got.len(), 1, "chunks of {size} bytes");
            assert!(
                end.as_ref()
                    .is_err_and(|e| e.starts_with("invalid packet capture length 262145")),
                "chunks of {size} bytes: {end:?}"
            );
        }
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
    fn record_times_are_exact_at_the_ends_of_their_fields() {
        let header = |format: Format, sec: u32, frac: u32| {
            let mut b = Vec::new();
            for v in [sec, frac, 3, 4] {
                b.extend(if format.big_endian {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                });
            }
            record_header(format, &b).ts_ns
        };
        for big_endian in [false, true] {
            let us = Format {
                big_endian,
                nanos: false,
            };
            let ns = Format {
                big_endian,
                nanos: true,
            };
            assert_eq!(header(us, 0, 0), 0);
            assert_eq!(
                header(us, 1, 1_500_000),
                2_500_000_000,
                "µs past a second carry"
            );
            assert_eq!(
                header(us, u32::MAX, u32::MAX),
                4_294_967_295_000_000_000 + 4_294_967_295_000
            );
            assert_eq!(
                header(ns, u32::MAX, u32::MAX),
                4_294_967_295_000_000_000 + 4_294_967_295
            );
            assert_eq!(header(ns, 0x8000_0000, 0), 2_147_483_648_000_000_000);
        }
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
            for_each(bytes.as_slice(), format, 4, Reading::Inline, |_, d| got
                .push(d.to_vec())),
            Ok(())
        );
        assert_eq!(got, [b"abcd".to_vec()]);
    }
}
