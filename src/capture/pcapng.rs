//! pcapng read by recvscope, for the files libpcap refuses although their
//! interfaces share one link layer: libpcap compares each interface's
//! LINKTYPE with the first one's DLT, so two raw-IP interfaces (LINKTYPE
//! 101, DLT 12) "differ". Here interfaces are compared as
//! [`LinkType`]s, which treat 101, 12 and 14 as the one raw IP.
//!
//! Read as libpcap reads it: every section, in its byte order; Enhanced,
//! Simple and obsolete Packet Blocks, each interface's `if_tsresol` and
//! `if_tsoffset`; other blocks skipped. Bounded: a block is at most
//! [`MAX_BLOCK`] bytes, and no input can make it panic.

use std::io::Read;

use crate::wire::{FrameMeta, LinkType};

/// The largest block read, as libpcap's limit (16 MiB).
const MAX_BLOCK: usize = 16 * 1024 * 1024;
const SECTION_HEADER: u32 = 0x0A0D_0D0A;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;

/// One interface of the current section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Interface {
    snaplen: u32,
    /// Timestamp units per second.
    units: u64,
    /// Seconds added to every timestamp.
    offset_s: i64,
}

/// Reads every packet of `r`, a pcapng, whose interfaces must all be of
/// link type `link`; calls `f` for each packet after the first `skip`
/// (which were read already). Frames are numbered from 1, the skipped
/// ones counted. Stops at the first damage with its reason.
pub(crate) fn for_each(
    mut r: impl Read,
    link: LinkType,
    skip: u64,
    mut f: impl FnMut(FrameMeta, &[u8]),
) -> Result<(), String> {
    let mut big_endian = false;
    let mut interfaces: Vec<Interface> = Vec::new();
    let mut number = 0u64;
    let mut body = Vec::new();
    loop {
        let mut head = [0u8; 8];
        match read_full(&mut r, &mut head)? {
            0 => return Ok(()),
            8 => {}
            n => return Err(format!("truncated block header: {n} of 8 bytes")),
        }
        let raw_type = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        if raw_type == SECTION_HEADER {
            let mut magic = [0u8; 4];
            if read_full(&mut r, &mut magic)? != 4 {
                return Err("truncated section header".into());
            }
            big_endian = match (u32::from_le_bytes(magic), u32::from_be_bytes(magic)) {
                (BYTE_ORDER_MAGIC, _) => false,
                (_, BYTE_ORDER_MAGIC) => true,
                _ => return Err("a section header with no byte-order magic".into()),
            };
            interfaces.clear();
            let len = block_len(u32_at(big_endian, &head, 4))?;
            // The magic is read; the rest of the body and the trailer are skipped.
            body.resize(len - 12, 0);
            read_exact(&mut r, &mut body, "section header", 12)?;
            continue;
        }
        let kind = u32_at(big_endian, &head, 0);
        let len = block_len(u32_at(big_endian, &head, 4))?;
        body.resize(len - 8, 0);
        read_exact(&mut r, &mut body, "block", 8)?;
        let b = &body[..len - 12];
        let packet = match kind {
            1 => {
                interfaces.push(interface(big_endian, b, link)?);
                None
            }
            6 => Some(enhanced(big_endian, b, &interfaces)?),
            3 => Some(simple(big_endian, b, &interfaces)?),
            2 => Some(obsolete(big_endian, b, &interfaces)?),
            _ => None,
        };
        if let Some((meta_ts, orig_len, data)) = packet {
            number += 1;
            if number > skip {
                let meta = FrameMeta {
                    number,
                    ts_ns: meta_ts,
                    orig_len,
                };
                f(meta, data);
            }
        }
    }
}

/// A block's total length, checked: at least its 12 bytes of framing, a
/// multiple of 4, at most [`MAX_BLOCK`].
fn block_len(len: u32) -> Result<usize, String> {
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    if len < 12 || !len.is_multiple_of(4) || len > MAX_BLOCK {
        return Err(format!("invalid block length {len}"));
    }
    Ok(len)
}

fn u16_at(big_endian: bool, b: &[u8], at: usize) -> Option<u16> {
    let v: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(if big_endian {
        u16::from_be_bytes(v)
    } else {
        u16::from_le_bytes(v)
    })
}

fn u32_opt(big_endian: bool, b: &[u8], at: usize) -> Option<u32> {
    let v: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(v)
    } else {
        u32::from_le_bytes(v)
    })
}

/// A u32 of the 8-byte block header.
fn u32_at(big_endian: bool, head: &[u8; 8], at: usize) -> u32 {
    u32_opt(big_endian, head, at).unwrap_or(0)
}

/// An Interface Description Block: its link type must be `link`.
fn interface(big_endian: bool, b: &[u8], link: LinkType) -> Result<Interface, String> {
    let short = || "an interface description block too short".to_string();
    let code = u16_at(big_endian, b, 0).ok_or_else(short)?;
    if LinkType::from_code(i32::from(code)) != Some(link) {
        return Err(format!(
            "an interface has a type {code} different from the type of the first interface"
        ));
    }
    let mut i = Interface {
        snaplen: u32_opt(big_endian, b, 4).ok_or_else(short)?,
        units: 1_000_000,
        offset_s: 0,
    };
    let mut at = 8;
    while let (Some(opt), Some(len)) = (u16_at(big_endian, b, at), u16_at(big_endian, b, at + 2)) {
        let value = b.get(at + 4..at + 4 + usize::from(len)).unwrap_or_default();
        match (opt, value) {
            (0, _) => break,
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
                i.offset_s = if big_endian {
                    i64::from_be_bytes(s)
                } else {
                    i64::from_le_bytes(s)
                };
            }
            _ => {}
        }
        at += 4 + usize::from(len).next_multiple_of(4);
    }
    Ok(i)
}

/// A packet: its timestamp, length on the wire and captured bytes.
type Packet<'a> = (i64, u32, &'a [u8]);

fn enhanced<'a>(big_endian: bool, b: &'a [u8], ifs: &[Interface]) -> Result<Packet<'a>, String> {
    let field = |at| u32_opt(big_endian, b, at).ok_or("an enhanced packet block too short");
    let i = iface(ifs, u64::from(field(0)?))?;
    let ts = (u64::from(field(4)?) << 32) | u64::from(field(8)?);
    let data = captured(b, 20, field(12)?)?;
    Ok((ts_ns(i, ts), field(16)?, data))
}

fn simple<'a>(big_endian: bool, b: &'a [u8], ifs: &[Interface]) -> Result<Packet<'a>, String> {
    let i = iface(ifs, 0)?;
    let orig_len = u32_opt(big_endian, b, 0).ok_or("a simple packet block too short")?;
    let kept = orig_len.min(if i.snaplen == 0 { u32::MAX } else { i.snaplen });
    let data = b.get(4..).unwrap_or_default();
    let n = usize::try_from(kept).map_or(data.len(), |k| k.min(data.len()));
    Ok((0, orig_len, &data[..n]))
}

fn obsolete<'a>(big_endian: bool, b: &'a [u8], ifs: &[Interface]) -> Result<Packet<'a>, String> {
    let field = |at| u32_opt(big_endian, b, at).ok_or("a packet block too short");
    let id = u16_at(big_endian, b, 0).ok_or("a packet block too short")?;
    let i = iface(ifs, u64::from(id))?;
    let ts = (u64::from(field(4)?) << 32) | u64::from(field(8)?);
    let data = captured(b, 20, field(12)?)?;
    Ok((ts_ns(i, ts), field(16)?, data))
}

fn iface(ifs: &[Interface], id: u64) -> Result<&Interface, String> {
    usize::try_from(id)
        .ok()
        .and_then(|id| ifs.get(id))
        .ok_or_else(|| format!("a packet on interface {id}, which was not described"))
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

/// Reads until `buf` is full or the input ends; the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> Result<usize, String> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("error reading the file: {e}")),
        }
    }
    Ok(n)
}

/// Fills `buf`, the rest of a block of which `read` bytes were read.
fn read_exact(r: &mut impl Read, buf: &mut [u8], what: &str, read: usize) -> Result<(), String> {
    let n = read_full(r, buf)?;
    if n < buf.len() {
        return Err(format!(
            "truncated {what}: {} of {} bytes",
            read + n,
            read + buf.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pcapng block of `kind` around `body`, little-endian.
    fn block(kind: u32, body: &[u8]) -> Vec<u8> {
        let mut body = body.to_vec();
        body.resize(body.len().next_multiple_of(4), 0);
        let len = (12 + body.len()) as u32;
        let mut b = kind.to_le_bytes().to_vec();
        b.extend_from_slice(&len.to_le_bytes());
        b.extend_from_slice(&body);
        b.extend_from_slice(&len.to_le_bytes());
        b
    }

    /// A section header, then an interface per link type in `links`.
    fn start(links: &[u16]) -> Vec<u8> {
        let mut shb = BYTE_ORDER_MAGIC.to_le_bytes().to_vec();
        shb.extend_from_slice(&[1, 0, 0, 0]);
        shb.extend_from_slice(&(-1i64).to_le_bytes());
        let mut out = block(SECTION_HEADER, &shb);
        for l in links {
            let mut idb = l.to_le_bytes().to_vec();
            idb.extend_from_slice(&[0, 0]);
            idb.extend_from_slice(&65535u32.to_le_bytes());
            out.extend(block(1, &idb));
        }
        out
    }

    /// An enhanced packet block on interface `iface` at `ts_us`.
    fn epb(iface: u32, ts_us: u64, data: &[u8]) -> Vec<u8> {
        let mut b = iface.to_le_bytes().to_vec();
        b.extend_from_slice(&((ts_us >> 32) as u32).to_le_bytes());
        b.extend_from_slice(&(ts_us as u32).to_le_bytes());
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(&(data.len() as u32).to_le_bytes());
        b.extend_from_slice(data);
        block(6, &b)
    }

    /// Each frame read: its number, time and bytes.
    type Frames = Vec<(u64, i64, Vec<u8>)>;

    fn read(file: &[u8], skip: u64) -> (Frames, Result<(), String>) {
        let mut got = Vec::new();
        let end = for_each(file, LinkType::Raw, skip, |m, d| {
            got.push((m.number, m.ts_ns, d.to_vec()));
        });
        (got, end)
    }

    #[test]
    fn two_raw_ip_interfaces_are_one_link_type_and_every_packet_is_read() {
        let mut file = start(&[101, 101]);
        file.extend(epb(0, 1_500_000, b"abc"));
        file.extend(epb(1, 2_000_001, b"de"));
        let (got, end) = read(&file, 0);
        assert_eq!(end, Ok(()));
        assert_eq!(
            got,
            [
                (1, 1_500_000_000, b"abc".to_vec()),
                (2, 2_000_001_000, b"de".to_vec())
            ]
        );
        let (got, _) = read(&file, 1);
        assert_eq!(
            got,
            [(2, 2_000_001_000, b"de".to_vec())],
            "skipped, counted"
        );
    }

    #[test]
    fn another_link_type_or_damage_stops_with_a_reason() {
        let mut file = start(&[101, 1]);
        file.extend(epb(0, 1, b"x"));
        assert_eq!(
            read(&file, 0).1,
            Err("an interface has a type 1 different from the type of the first interface".into())
        );
        let mut file = start(&[101]);
        file.extend(epb(3, 1, b"x"));
        assert_eq!(
            read(&file, 0).1,
            Err("a packet on interface 3, which was not described".into())
        );
        let file = start(&[101]);
        assert_eq!(
            read(&file[..file.len() - 2], 0).1,
            Err("truncated block: 18 of 20 bytes".into())
        );
    }
}
