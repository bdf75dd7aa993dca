//! Reading saved captures (pcap, nanosecond pcap, pcapng): libpcap checks
//! the file and reads pcapng; classic pcap records are read directly.

use std::path::{Path, PathBuf};

use std::io::Read;
use std::os::unix::fs::FileTypeExt;

use pcap::{Capture, Offline, Precision};

use super::pcapng;
use super::records::{self, Format, Reading};
use super::timestamp::{Fraction, timestamp_ns};

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

/// An open capture file.
pub(crate) struct CaptureFile {
    cap: Capture<Offline>,
    link: LinkType,
    path: PathBuf,
    /// Classic pcap: its record format and snapshot length, for reading
    /// the records without libpcap's copies.
    classic: Option<(Format, u32)>,
    /// A regular file, which can be read again from its start (a pipe
    /// cannot).
    regular: bool,
}

impl CaptureFile {
    /// Opens a capture, checking it is one and that its link type is
    /// supported. A regular file is read as such; a pipe, and `-` for
    /// standard input, are read once as a stream (`tcpdump -w - |
    /// recvscope replay -`).
    pub(crate) fn open(path: &Path) -> Result<CaptureFile, OpenError> {
        let regular = path != Path::new("-") && regular_file(path)?;
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
        Ok(CaptureFile {
            cap,
            link,
            path: path.to_owned(),
            classic: regular.then(|| classic_header(path)).flatten(),
            regular,
        })
    }

    /// The capture's link type.
    pub(crate) fn link(&self) -> LinkType {
        self.link
    }

    /// Calls `f` for every frame in file order. A damaged record ends the
    /// read with [`ReadEnd::Damaged`] rather than an error, so the frames
    /// before it are still reported. `reading` matters for classic pcap only:
    /// libpcap reads pcapng on the calling thread.
    pub(crate) fn for_each(
        &mut self,
        reading: Reading,
        mut f: impl FnMut(FrameMeta, &[u8]),
    ) -> ReadEnd {
        if let Some((format, snaplen)) = self.classic {
            let mut read = 0u64;
            let result = std::fs::File::open(&self.path)
                .map_err(|e| format!("error reading dump file: {e}"))
                .and_then(|file| {
                    records::for_each(&file, format, snaplen, reading, |meta, data| {
                        read = meta.number;
                        f(meta, data);
                    })
                });
            return match result {
                Ok(()) => ReadEnd::Complete,
                Err(msg) => ReadEnd::Damaged(damage_message(&msg, read, &self.path)),
            };
        }
        let mut number = 0u64;
        loop {
            match self.cap.next_packet() {
                Ok(p) => {
                    number += 1;
                    let ts = p.header.ts;
                    let meta = FrameMeta {
                        number,
                        // Opened with nanosecond precision: tv_usec holds nanoseconds.
                        ts_ns: timestamp_ns(ts.tv_sec, ts.tv_usec, Fraction::Nanos),
                        orig_len: p.header.len,
                    };
                    f(meta, p.data);
                }
                Err(pcap::Error::NoMorePackets) => return ReadEnd::Complete,
                Err(e) => {
                    let msg = libpcap_reason(&e);
                    if self.regular && msg.contains(MIXED) {
                        return self.pcapng_after(number, f);
                    }
                    return ReadEnd::Damaged(damage_message(&msg, number, &self.path));
                }
            }
        }
    }

    /// The pcapng libpcap refused at an interface of another LINKTYPE,
    /// read on by recvscope's reader after the `read` frames libpcap
    /// gave: the same link type by another code (101, 12, 14) reads on.
    fn pcapng_after(&self, read: u64, mut f: impl FnMut(FrameMeta, &[u8])) -> ReadEnd {
        let mut last = read;
        let result = std::fs::File::open(&self.path)
            .map_err(|e| format!("error reading dump file: {e}"))
            .and_then(|file| {
                pcapng::for_each(
                    std::io::BufReader::new(file),
                    self.link,
                    read,
                    |meta, data| {
                        last = meta.number;
                        f(meta, data);
                    },
                )
            });
        match result {
            Ok(()) => ReadEnd::Complete,
            Err(msg) => ReadEnd::Damaged(damage_message(&msg, last, &self.path)),
        }
    }
}

/// libpcap's (and [`pcapng::for_each`]'s) reason for a pcapng interface
/// of another link type.
const MIXED: &str = "different from the type of the first interface";

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
                kind: if kind.is_char_device() {
                    "a character device"
                } else if kind.is_block_device() {
                    "a block device"
                } else {
                    "a socket"
                },
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
    if msg.contains(MIXED) {
        format!(
            "{}: this pcapng mixes link types and recvscope reads one per file ({msg}); \
             analysed the {read} frames before the change. Split it per interface \
             (e.g. `tshark -r IN -w OUT -Y frame.interface_id==N`) and replay each part",
            path.display()
        )
    } else {
        format!(
            "{}: capture is damaged after frame {read} ({msg}); the report covers the {read} frames read",
            path.display()
        )
    }
}
