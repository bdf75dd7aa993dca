//! pcapng read by recvscope, not libpcap: libpcap takes one link type and
//! one snaplen per file, so it refuses files tshark reads (`mergecap`'s,
//! with interfaces of different snaplens; two raw-IP interfaces, LINKTYPE
//! 101 against the DLT 12 it reports for the first). Here every interface
//! keeps its own link type, snaplen, `if_tsresol` and `if_tsoffset`, and
//! each packet comes with its interface's.
//!
//! Read as libpcap and tshark read it: every section, in its byte order;
//! Enhanced, Simple and obsolete Packet Blocks; other blocks skipped. The
//! file arrives in chunks (see [`super::blocks`]), a block cut between two
//! is joined. Bounded: a block is at most [`MAX_BLOCK`] bytes, and no
//! input can make it panic.

use crate::wire::{FrameMeta, LinkType};

/// The largest block read, as libpcap's limit (16 MiB).
const MAX_BLOCK: usize = 16 * 1024 * 1024;
/// The Section Header Block's type, the file's first four bytes.
pub(crate) const SECTION_HEADER: u32 = 0x0A0D_0D0A;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
/// Bytes of a block before its length is known: a section header's
/// length needs its byte-order magic.
const HEAD: usize = 12;

/// One interface (Interface Description Block).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Interface {
    /// Its link type, or the LINKTYPE_ code of one recvscope cannot decode.
    pub link: Result<LinkType, u16>,
    pub snaplen: u32,
    /// Timestamp units per second.
    units: u64,
    /// Seconds added to every timestamp.
    offset_s: i64,
}

/// One packet: its frame, the interface it came from (numbered in file
/// order over every section, as Wireshark's `frame.interface_id`) and
/// the captured bytes.
pub(crate) struct Frame<'a> {
    pub meta: FrameMeta,
    pub interface: usize,
    pub link: Result<LinkType, u16>,
    pub data: &'a [u8],
}

/// Walks the blocks of a pcapng that arrives in chunks.
#[derive(Default)]
pub(crate) struct Reader {
    big_endian: bool,
    /// Every interface so far, in file order.
    interfaces: Vec<Interface>,
    /// The current section's interfaces: its ids index this.
    section: Vec<usize>,
    /// Packets read (frames are numbered from 1).
    number: u64,
    /// A section header has been read.
    started: bool,
    /// The start of a block the last chunk ended inside.
    carry: Vec<u8>,
}

impl Reader {
    /// Every interface described so far, in file order.
    pub(crate) fn interfaces(&self) -> &[Interface] {
        &self.interfaces
    }

    /// Packets read so far.
    pub(crate) fn packets(&self) -> u64 {
        self.number
    }

    /// Calls `f` for every packet completed by `chunk`; stops at the first
    /// damage with its reason.
    pub(crate) fn feed(
        &mut self,
        chunk: &[u8],
        f: &mut impl FnMut(Frame<'_>),
    ) -> Result<(), String> {
        let mut rest = chunk;
        if !self.carry.is_empty() {
            rest = self.join(rest, f)?;
            if !self.carry.is_empty() {
                return Ok(());
            }
        }
        while rest.len() >= HEAD {
            let len = self.length(rest)?;
            let Some(block) = rest.get(..len) else { break };
            self.block(block, f)?;
            rest = &rest[len..];
        }
        self.carry.extend_from_slice(rest);
        Ok(())
    }

    /// Completes the carried block from the start of `chunk`; returns what
    /// follows it.
    fn join<'c>(
        &mut self,
        chunk: &'c [u8],
        f: &mut impl FnMut(Frame<'_>),
    ) -> Result<&'c [u8], String> {
        let head = HEAD.saturating_sub(self.carry.len()).min(chunk.len());
        self.carry.extend_from_slice(&chunk[..head]);
        let chunk = &chunk[head..];
        if self.carry.len() < HEAD {
            return Ok(chunk);
        }
        let len = self.length(&self.carry)?;
        let more = (len - self.carry.len()).min(chunk.len());
        self.carry.extend_from_slice(&chunk[..more]);
        if self.carry.len() == len {
            let carry = std::mem::take(&mut self.carry);
            self.block(&carry, f)?;
            self.carry = carry;
            self.carry.clear();
        }
        Ok(&chunk[more..])
    }

    /// How the file ends, given the bytes left over after the last chunk.
    pub(crate) fn end(&self) -> Result<(), String> {
        let n = self.carry.len();
        if n == 0 {
            return Ok(());
        }
        if n < HEAD {
            return Err(format!("truncated block header: {n} of {HEAD} bytes"));
        }
        let len = self.length(&self.carry)?;
        Err(format!("truncated block: {n} of {len} bytes"))
    }

    /// The total length of the block `b` starts with (at least [`HEAD`]
    /// bytes of it), checked: its 12 bytes of framing, a multiple of 4, at
    /// most [`MAX_BLOCK`].
    fn length(&self, b: &[u8]) -> Result<usize, String> {
        let big_endian = if le32(b, 0) == Some(SECTION_HEADER) {
            byte_order(b)?
        } else if self.started {
            self.big_endian
        } else {
            return Err("the file does not start with a section header block".into());
        };
        let len = u32_at(big_endian, b, 4).unwrap_or(0);
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len < HEAD || !len.is_multiple_of(4) || len > MAX_BLOCK {
            return Err(format!("invalid block length {len}"));
        }
        Ok(len)
    }

    /// One whole block, its framing included.
    fn block(&mut self, block: &[u8], f: &mut impl FnMut(Frame<'_>)) -> Result<(), String> {
        if le32(block, 0) == Some(SECTION_HEADER) {
            return self.section_header(block);
        }
        let be = self.big_endian;
        let kind = u32_at(be, block, 0).unwrap_or(0);
        let b = block.get(8..block.len() - 4).unwrap_or_default();
        let (id, ts, orig_len, data) = match kind {
            1 => {
                self.section.push(self.interfaces.len());
                self.interfaces.push(interface(be, b)?);
                return Ok(());
            }
            6 => {
                let field = |at| u32_at(be, b, at).ok_or("an enhanced packet block too short");
                let ts = (u64::from(field(4)?) << 32) | u64::from(field(8)?);
                (
                    u64::from(field(0)?),
                    Some(ts),
                    field(16)?,
                    captured(b, 20, field(12)?)?,
                )
            }
            3 => {
                let orig_len = u32_at(be, b, 0).ok_or("a simple packet block too short")?;
                (0, None, orig_len, b.get(4..).unwrap_or_default())
            }
            2 => {
                let short = "a packet block too short";
                let field = |at| u32_at(be, b, at).ok_or(short);
                let id = u16_at(be, b, 0).ok_or(short)?;
                let ts = (u64::from(field(4)?) << 32) | u64::from(field(8)?);
                (
                    u64::from(id),
                    Some(ts),
                    field(16)?,
                    captured(b, 20, field(12)?)?,
                )
            }
            _ => return Ok(()),
        };
        let interface = usize::try_from(id)
            .ok()
            .and_then(|id| self.section.get(id).copied())
            .ok_or_else(|| {
                format!(
                    "frame {} is on interface {id}, which no interface description block declared",
                    self.number + 1
                )
            })?;
        let i = self.interfaces[interface];
        let data = match ts {
            Some(_) => data,
            // A simple packet block holds the packet up to the snaplen.
            None => {
                let snaplen = if i.snaplen == 0 { u32::MAX } else { i.snaplen };
                let kept = usize::try_from(orig_len.min(snaplen)).unwrap_or(usize::MAX);
                &data[..kept.min(data.len())]
            }
        };
        self.number += 1;
        f(Frame {
            meta: FrameMeta {
                number: self.number,
                ts_ns: ts.map_or(0, |ts| ts_ns(&i, ts)),
                orig_len,
            },
            interface,
            link: i.link,
            data,
        });
        Ok(())
    }

    /// A Section Header Block: a new byte order, version 1, no interfaces.
    fn section_header(&mut self, block: &[u8]) -> Result<(), String> {
        let be = byte_order(block)?;
        let short = "a section header block too short";
        let major = u16_at(be, block, 12).ok_or(short)?;
        let minor = u16_at(be, block, 14).ok_or(short)?;
        if major != 1 {
            return Err(format!("unsupported pcapng version {major}.{minor}"));
        }
        let options = block.get(24..block.len() - 4).ok_or(short)?;
        each_option(be, options, "section header", |_, _| Ok(()))?;
        self.big_endian = be;
        self.started = true;
        self.section.clear();
        Ok(())
    }
}

/// The byte order of the section header `b` starts with (at least
/// [`HEAD`] bytes).
fn byte_order(b: &[u8]) -> Result<bool, String> {
    match (le32(b, 8), u32_at(true, b, 8)) {
        (Some(BYTE_ORDER_MAGIC), _) => Ok(false),
        (_, Some(BYTE_ORDER_MAGIC)) => Ok(true),
        _ => Err("a section header block with no byte-order magic".into()),
    }
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    u32_at(false, b, at)
}

fn u16_at(big_endian: bool, b: &[u8], at: usize) -> Option<u16> {
    let v: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(if big_endian {
        u16::from_be_bytes(v)
    } else {
        u16::from_le_bytes(v)
    })
}

fn u32_at(big_endian: bool, b: &[u8], at: usize) -> Option<u32> {
    let v: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(v)
    } else {
        u32::from_le_bytes(v)
    })
}

/// Calls `f` with each option's code and value, up to `opt_endofopt`; an
/// option that runs past the block is damage, as for libpcap and tshark.
fn each_option(
    be: bool,
    mut b: &[u8],
    block: &str,
    mut f: impl FnMut(u16, &[u8]) -> Result<(), String>,
) -> Result<(), String> {
    while let (Some(code), Some(len)) = (u16_at(be, b, 0), u16_at(be, b, 2)) {
        if code == 0 {
            break;
        }
        let len = usize::from(len);
        let value = b
            .get(4..4 + len)
            .ok_or_else(|| format!("an option of length {len} runs past its {block} block"))?;
        f(code, value)?;
        b = b.get(4 + len.next_multiple_of(4)..).unwrap_or_default();
    }
    Ok(())
}

/// An Interface Description Block's body.
fn interface(be: bool, b: &[u8]) -> Result<Interface, String> {
    let short = || "an interface description block too short".to_string();
    let code = u16_at(be, b, 0).ok_or_else(short)?;
    let mut i = Interface {
        link: LinkType::from_code(i32::from(code)).ok_or(code),
        snaplen: u32_at(be, b, 4).ok_or_else(short)?,
        units: 1_000_000,
        offset_s: 0,
    };
    each_option(
        be,
        b.get(8..).unwrap_or_default(),
        "interface description",
        |code, value| {
            match (code, value) {
                (9, [r]) => {
                    i.units = if r & 0x80 != 0 {
                        1u64.checked_shl(u32::from(r & 0x7f)).unwrap_or(0)
                    } else {
                        10u64.checked_pow(u32::from(*r)).unwrap_or(0)
                    };
                    if i.units == 0 {
                        return Err(format!("unsupported if_tsresol {r:#04x}"));
                    }
                }
                (14, v) if v.len() == 8 => {
                    let mut s = [0u8; 8];
                    s.copy_from_slice(v);
                    i.offset_s = if be {
                        i64::from_be_bytes(s)
                    } else {
                        i64::from_le_bytes(s)
                    };
                }
                _ => {}
            }
            Ok(())
        },
    )?;
    Ok(i)
}

/// `caplen` bytes from `at`, which the block must hold.
fn captured(b: &[u8], at: usize, caplen: u32) -> Result<&[u8], String> {
    usize::try_from(caplen)
        .ok()
        .and_then(|n| b.get(at..at.checked_add(n)?))
        .ok_or_else(|| format!("a packet's capture length {caplen} is past its block"))
}

/// `ts` in the interface's units, as nanoseconds since the epoch (clamped).
fn ts_ns(i: &Interface, ts: u64) -> i64 {
    let units = u128::from(i.units);
    let ns = i128::try_from(u128::from(ts) * 1_000_000_000 / units).unwrap_or(i128::MAX)
        + i128::from(i.offset_s) * 1_000_000_000;
    ns.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    use recvscope_testkit::pcapng_block as block;

    fn section_header() -> Vec<u8> {
        let mut shb = BYTE_ORDER_MAGIC.to_le_bytes().to_vec();
        shb.extend_from_slice(&[1, 0, 0, 0]);
        shb.extend_from_slice(&(-1i64).to_le_bytes());
        block(SECTION_HEADER, &shb)
    }

    /// An interface of `link` and `snaplen`, with an `if_tsresol` option.
    fn idb(link: u16, snaplen: u32, tsresol: Option<u8>) -> Vec<u8> {
        let mut b = link.to_le_bytes().to_vec();
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(&snaplen.to_le_bytes());
        if let Some(r) = tsresol {
            b.extend_from_slice(&[9, 0, 1, 0, r, 0, 0, 0]);
        }
        block(1, &b)
    }

    /// A section header, then an interface per link type in `links`.
    fn start(links: &[u16]) -> Vec<u8> {
        let mut out = section_header();
        for l in links {
            out.extend(idb(*l, 65535, None));
        }
        out
    }

    /// An enhanced packet block on interface `iface` at `ts` units.
    fn epb(iface: u32, ts: u64, data: &[u8]) -> Vec<u8> {
        let mut b = iface.to_le_bytes().to_vec();
        b.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        b.extend_from_slice(&(ts as u32).to_le_bytes());
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(data);
        block(6, &b)
    }

    /// Each frame read: its number, time, interface, link and bytes.
    type Frames = Vec<(u64, i64, usize, Result<LinkType, u16>, Vec<u8>)>;

    /// Reads `file` fed in chunks of `size` bytes.
    fn in_chunks(file: &[u8], size: usize) -> (Frames, Result<(), String>) {
        let mut r = Reader::default();
        let mut got = Vec::new();
        let mut f = |p: Frame<'_>| {
            got.push((
                p.meta.number,
                p.meta.ts_ns,
                p.interface,
                p.link,
                p.data.to_vec(),
            ))
        };
        for chunk in file.chunks(size.max(1)) {
            if let Err(e) = r.feed(chunk, &mut f) {
                return (got, Err(e));
            }
        }
        (got, r.end())
    }

    fn read(file: &[u8]) -> (Frames, Result<(), String>) {
        in_chunks(file, file.len())
    }

    #[test]
    fn each_packet_comes_with_its_own_interfaces_link_type() {
        let mut file = start(&[1, 101, 105]);
        file.extend(epb(0, 1_500_000, b"eth"));
        file.extend(epb(1, 2_000_001, b"ip"));
        file.extend(epb(2, 3, b"wifi"));
        file.extend(block(0x0000_0bad, b"a custom block, skipped"));
        file.extend(epb(1, 4, b"ip again"));
        let (got, end) = read(&file);
        assert_eq!(end, Ok(()));
        assert_eq!(
            got,
            [
                (1, 1_500_000_000, 0, Ok(LinkType::Ethernet), b"eth".to_vec()),
                (2, 2_000_001_000, 1, Ok(LinkType::Raw), b"ip".to_vec()),
                (3, 3_000, 2, Err(105), b"wifi".to_vec()),
                (4, 4_000, 1, Ok(LinkType::Raw), b"ip again".to_vec()),
            ]
        );
    }

    #[test]
    fn blocks_cut_anywhere_between_chunks_come_out_whole_and_in_order() {
        let mut file = start(&[1, 101]);
        file.extend(epb(0, 1, &[7u8; 100]));
        file.extend(section_header());
        file.extend(idb(113, 96, Some(9)));
        file.extend(epb(0, 2, b""));
        file.extend(epb(0, 3, b"last"));
        let whole = read(&file);
        assert_eq!(whole.1, Ok(()));
        assert_eq!(whole.0.len(), 3);
        assert_eq!(whole.0[1].2, 2, "interfaces are numbered over the sections");
        for size in 1..=file.len() {
            assert_eq!(in_chunks(&file, size), whole, "chunks of {size} bytes");
        }
        for cut in 0..file.len() {
            let whole_cut = read(&file[..cut]);
            for size in [1, 3, 7, 12, 13, 29] {
                assert_eq!(in_chunks(&file[..cut], size), whole_cut, "cut at {cut}");
            }
        }
    }

    #[test]
    fn if_tsresol_and_if_tsoffset_are_each_interfaces_own() {
        let mut file = section_header();
        file.extend(idb(1, 65535, None));
        file.extend(idb(1, 65535, Some(9)));
        file.extend(idb(1, 65535, Some(0x80 | 10)));
        let mut offset = 1u16.to_le_bytes().to_vec();
        offset.extend_from_slice(&[0, 0]);
        offset.extend_from_slice(&65535u32.to_le_bytes());
        offset.extend_from_slice(&[14, 0, 8, 0]);
        offset.extend_from_slice(&100i64.to_le_bytes());
        file.extend(block(1, &offset));
        for i in 0..4 {
            file.extend(epb(i, 3_000_000, b"x"));
        }
        let ts: Vec<i64> = read(&file).0.iter().map(|f| f.1).collect();
        assert_eq!(
            ts,
            [3_000_000_000, 3_000_000, 2_929_687_500_000, 103_000_000_000],
            "µs, ns, 2^-10 s, µs 100 s later"
        );
        let mut file = section_header();
        file.extend(idb(1, 65535, None));
        file.extend(idb(1, 65535, Some(9)));
        file.extend(epb(0, 1_700_000_000_123_456, b"us"));
        file.extend(epb(1, 1_700_000_000_123_456_789, b"ns"));
        let ts: Vec<i64> = read(&file).0.iter().map(|f| f.1).collect();
        assert_eq!(ts, [1_700_000_000_123_456_000, 1_700_000_000_123_456_789]);
    }

    #[test]
    fn damage_stops_with_a_reason_after_the_frames_before() {
        let mut file = start(&[101]);
        file.extend(epb(0, 1, b"x"));
        file.extend(epb(3, 1, b"x"));
        let (got, end) = read(&file);
        assert_eq!(got.len(), 1);
        assert_eq!(
            end,
            Err("frame 2 is on interface 3, which no interface description block declared".into())
        );
        let file = start(&[101]);
        assert_eq!(
            read(&file[..file.len() - 2]).1,
            Err("truncated block: 18 of 20 bytes".into())
        );
        let mut file = start(&[101]);
        file.extend(1u32.to_le_bytes());
        file.extend((MAX_BLOCK as u32 + 4).to_le_bytes());
        file.extend([0; 4]);
        assert_eq!(read(&file).1, Err("invalid block length 16777220".into()));
        let mut file = section_header();
        let mut long = 1u16.to_le_bytes().to_vec();
        long.extend_from_slice(&[0, 0, 0, 0, 0, 0, 2, 0, 200, 0]);
        file.extend(block(1, &long));
        assert_eq!(
            read(&file).1,
            Err("an option of length 200 runs past its interface description block".into())
        );
        assert_eq!(
            read(&epb(0, 0, b"")).1,
            Err("the file does not start with a section header block".into())
        );
    }
}
