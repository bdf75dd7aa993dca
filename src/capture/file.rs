//! Reading saved captures (pcap, nanosecond pcap, pcapng): libpcap checks
//! a classic pcap's header, and its records are read directly; pcapng is
//! read by recvscope's own reader, every interface with its own link type,
//! snaplen and timestamp resolution. A pipe is read by libpcap.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use std::os::unix::fs::FileTypeExt;

use pcap::{Capture, Offline, Precision};

use super::records::{self, Format, Reading};
use super::timestamp::{Fraction, timestamp_ns};
use super::{blocks, pcapng};
use crate::analysis::{CaptureWarning, InterfaceLink, Report};

use crate::wire::{FrameMeta, LinkType, SUPPORTED};

/// Why a capture file cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is empty (0 bytes): not a capture")]
    Empty { path: PathBuf },
    #[error("{path} is {kind}, not a capture file (a file, a pipe or - for standard input)")]
    NotAFile { path: PathBuf, kind: &'static str },
    #[error("{path} is not a pcap or pcapng capture ({reason})")]
    NotACapture { path: PathBuf, reason: String },
    #[error("{path}: link type {code} ({name}) is not supported; supported: {SUPPORTED}")]
    UnknownLinkType {
        path: PathBuf,
        code: i32,
        name: String,
    },
}

/// How reading ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadEnd {
    /// Every record was read.
    Complete,
    /// Reading stopped at a damaged record; what came before was analysed.
    Damaged(String),
}

/// How a file's frames are read.
enum Kind {
    /// Classic pcap on a regular file: its record format and snapshot
    /// length, for reading the records without libpcap's copies.
    Classic(Format, u32),
    /// pcapng on a regular file, read by [`pcapng::Reader`]: its
    /// interfaces (before reading, the ones before its first packet).
    Pcapng(Vec<pcapng::Interface>),
    /// Anything else (a pipe, an old pcap version): libpcap's reader.
    Libpcap(Capture<Offline>),
}

/// An open capture file.
pub(crate) struct CaptureFile {
    kind: Kind,
    link: LinkType,
    path: PathBuf,
    /// Frames read per interface whose link type is not supported.
    unsupported: BTreeMap<usize, (u16, u64)>,
}

impl CaptureFile {
    /// Opens a capture, checking it is one and that its link type is
    /// supported. A regular file is read as such; a pipe, and `-` for
    /// standard input, are read once as a stream (`tcpdump -w - |
    /// recvscope replay -`) by libpcap.
    pub(crate) fn open(path: &Path) -> Result<CaptureFile, OpenError> {
        let regular = path != Path::new("-") && regular_file(path)?;
        let file = |kind, link| CaptureFile {
            kind,
            link,
            path: path.to_owned(),
            unsupported: BTreeMap::new(),
        };
        if regular && starts_pcapng(path) {
            let interfaces = pcapng_interfaces(path)?;
            let link = interfaces.iter().find_map(|i| i.link.ok()).ok_or_else(|| {
                let code = interfaces.first().map_or(0, |i| match i.link {
                    Ok(l) => l.code(),
                    Err(c) => i32::from(c),
                });
                OpenError::UnknownLinkType {
                    path: path.to_owned(),
                    code,
                    name: pcap::Linktype(code)
                        .get_name()
                        .unwrap_or_else(|_| "unknown".into()),
                }
            })?;
            return Ok(file(Kind::Pcapng(interfaces), link));
        }
        let cap = Capture::from_file_with_precision(path, Precision::Nano).map_err(|e| {
            OpenError::NotACapture {
                path: path.to_owned(),
                reason: libpcap_reason(&e),
            }
        })?;
        let dl = cap.get_datalink();
        let reserved = dl.0 as u32 & 0x03ff_0000;
        if reserved != 0 {
            return Err(OpenError::NotACapture {
                path: path.to_owned(),
                reason: format!(
                    "reserved bits {reserved:#010x} of the link-type field are set: the file header is corrupt"
                ),
            });
        }
        let link = LinkType::from_code(dl.0).ok_or_else(|| OpenError::UnknownLinkType {
            path: path.to_owned(),
            code: dl.0,
            name: dl.get_name().unwrap_or_else(|_| "unknown".into()),
        })?;
        let kind = match regular.then(|| classic_header(path)).flatten() {
            Some((format, snaplen)) => Kind::Classic(format, snaplen),
            None => Kind::Libpcap(cap),
        };
        Ok(file(kind, link))
    }

    /// The capture's link type (a mixed pcapng's first supported one).
    pub(crate) fn link(&self) -> LinkType {
        self.link
    }

    /// A pcapng's interfaces when their link types differ (known before
    /// reading: the ones before its first packet; after: all of them).
    pub(crate) fn mixed_links(&self) -> Vec<InterfaceLink> {
        let Kind::Pcapng(interfaces) = &self.kind else {
            return Vec::new();
        };
        let first = interfaces.first().map(|i| i.link);
        if interfaces.iter().all(|i| Some(i.link) == first) {
            return Vec::new();
        }
        interfaces
            .iter()
            .enumerate()
            .map(|(n, i)| InterfaceLink {
                interface: n,
                link_type: i.link.ok().map(LinkType::name),
                link_type_code: match i.link {
                    Ok(l) => u16::try_from(l.code()).unwrap_or(u16::MAX),
                    Err(code) => code,
                },
            })
            .collect()
    }

    /// What the reading adds to the report: the link types of a mixed
    /// pcapng, the frames of interfaces that were not analysed, the damage.
    pub(crate) fn annotate(&self, report: &mut Report, end: &ReadEnd) {
        let mixed = self.mixed_links();
        if !mixed.is_empty() {
            report.mixed_links(mixed);
        }
        for (&interface, &(link_type_code, frames)) in &self.unsupported {
            report.warnings.push(CaptureWarning::LinkTypeNotSupported {
                interface,
                link_type_code,
                frames,
            });
        }
        if let ReadEnd::Damaged(why) = end {
            report
                .warnings
                .push(CaptureWarning::Damaged { why: why.clone() });
        }
    }

    /// Calls `f` for every frame in file order, with its link type (none
    /// for a pcapng interface of a link type that is not supported). A
    /// damaged record ends the read with [`ReadEnd::Damaged`] rather than
    /// an error, so the frames before it are still reported. `reading`
    /// matters for files read by recvscope: libpcap reads on the calling
    /// thread.
    pub(crate) fn for_each(
        &mut self,
        reading: Reading,
        mut f: impl FnMut(FrameMeta, Option<LinkType>, &[u8]),
    ) -> ReadEnd {
        let link = self.link;
        let mut read = 0u64;
        let result = match &mut self.kind {
            Kind::Classic(format, snaplen) => open_again(&self.path).and_then(|file| {
                records::for_each(&file, *format, *snaplen, reading, |meta, data| {
                    read = meta.number;
                    f(meta, Some(link), data);
                })
            }),
            Kind::Pcapng(interfaces) => {
                let unsupported = &mut self.unsupported;
                let mut r = pcapng::Reader::default();
                let result = open_again(&self.path).and_then(|file| {
                    blocks::each_block(&file, reading == Reading::Ahead, |chunk| {
                        r.feed(chunk, &mut |p: pcapng::Frame<'_>| {
                            read = p.meta.number;
                            if let Err(code) = p.link {
                                unsupported.entry(p.interface).or_insert((code, 0)).1 += 1;
                            }
                            f(p.meta, p.link.ok(), p.data);
                        })
                    })?;
                    r.end()
                });
                *interfaces = r.interfaces().to_vec();
                result
            }
            Kind::Libpcap(cap) => loop {
                match cap.next_packet() {
                    Ok(p) => {
                        read += 1;
                        let ts = p.header.ts;
                        let meta = FrameMeta {
                            number: read,
                            // Opened with nanosecond precision: tv_usec holds nanoseconds.
                            ts_ns: timestamp_ns(ts.tv_sec, ts.tv_usec, Fraction::Nanos),
                            orig_len: p.header.len,
                        };
                        f(meta, Some(link), p.data);
                    }
                    Err(pcap::Error::NoMorePackets) => break Ok(()),
                    Err(e) => break Err(libpcap_reason(&e)),
                }
            },
        };
        match result {
            Ok(()) => ReadEnd::Complete,
            Err(msg) => ReadEnd::Damaged(damage_message(&msg, read, &self.path)),
        }
    }
}

fn open_again(path: &Path) -> Result<std::fs::File, String> {
    std::fs::File::open(path).map_err(|e| format!("error reading dump file: {e}"))
}

/// Whether the file starts with a pcapng Section Header Block.
fn starts_pcapng(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| u32::from_le_bytes(magic) == pcapng::SECTION_HEADER)
}

/// The interfaces a pcapng describes before its first packet. Damage
/// there refuses the file, as libpcap does, unless an interface came
/// first: then the read reports it after the frames before.
fn pcapng_interfaces(path: &Path) -> Result<Vec<pcapng::Interface>, OpenError> {
    let refuse = |reason: String| OpenError::NotACapture {
        path: path.to_owned(),
        reason,
    };
    let mut file = std::fs::File::open(path).map_err(|source| OpenError::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut r = pcapng::Reader::default();
    let mut buf = vec![0u8; 64 * 1024];
    let mut damage = None;
    while r.packets() == 0 && damage.is_none() {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(refuse(format!("error reading the file: {e}"))),
        };
        damage = r.feed(&buf[..n], &mut |_| {}).err();
    }
    match (r.interfaces().is_empty(), damage) {
        (true, Some(why)) => Err(refuse(why)),
        (true, None) => Err(refuse(
            "the capture file has no Interface Description Blocks".into(),
        )),
        (false, _) => Ok(r.interfaces().to_vec()),
    }
}

/// Whether `path` is a regular file (readable, not empty) rather than a
/// pipe; anything else cannot hold a capture.
fn regular_file(path: &Path) -> Result<bool, OpenError> {
    let io = |source| OpenError::Io {
        path: path.to_owned(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    let kind = meta.file_type();
    if kind.is_fifo() {
        return Ok(false);
    }
    if !kind.is_file() {
        return Err(if kind.is_dir() {
            io(std::io::Error::other("is a directory"))
        } else {
            OpenError::NotAFile {
                path: path.to_owned(),
                kind: crate::file_kind::not_a_file(kind).unwrap_or("not a regular file"),
            }
        });
    }
    // Unreadable is "cannot read", not libpcap's "not a capture".
    std::fs::File::open(path).map_err(io)?;
    if meta.len() == 0 {
        return Err(OpenError::Empty {
            path: path.to_owned(),
        });
    }
    Ok(true)
}

fn libpcap_reason(e: &pcap::Error) -> String {
    match e {
        pcap::Error::PcapError(msg) => msg.clone(),
        other => other.to_string(),
    }
}

/// The file header of a classic pcap file: its record format and
/// snapshot length (0 or out of range means libpcap's maximum).
fn classic_header(path: &Path) -> Option<(Format, u32)> {
    let mut header = [0u8; records::FILE_HEADER];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut header))
        .ok()?;
    let format = Format::from_magic([header[0], header[1], header[2], header[3]])?;
    let field = |at: usize, len: usize| {
        header[at..at + len]
            .iter()
            .fold(0u32, |acc, &b| (acc << 8) | u32::from(b))
    };
    let (version, snaplen) = if format.big_endian {
        ((field(4, 2), field(6, 2)), field(16, 4))
    } else {
        let le = |at: usize, len: usize| {
            header[at..at + len]
                .iter()
                .rev()
                .fold(0u32, |acc, &b| (acc << 8) | u32::from(b))
        };
        ((le(4, 2), le(6, 2)), le(16, 4))
    };
    // Older versions swap or mangle the length fields: libpcap knows how.
    if version != (2, 4) {
        return None;
    }
    let snaplen = if snaplen == 0 || snaplen > records::MAX_CAPLEN {
        records::MAX_CAPLEN
    } else {
        snaplen
    };
    Some((format, snaplen))
}

fn damage_message(msg: &str, read: u64, path: &Path) -> String {
    format!(
        "{}: capture is damaged after frame {read} ({msg}); the report covers the {read} frames read",
        path.display()
    )
}
