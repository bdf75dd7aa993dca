//! Reading saved captures (pcap, nanosecond pcap, pcapng) through libpcap.

use std::path::{Path, PathBuf};

use pcap::{Capture, Offline, Precision};

use crate::wire::{FrameMeta, LinkType, link::SUPPORTED};

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
pub struct CaptureFile {
    cap: Capture<Offline>,
    link: LinkType,
    path: PathBuf,
}

impl CaptureFile {
    /// Opens a capture, checking it is one and that its link type is supported.
    pub fn open(path: &Path) -> Result<CaptureFile, OpenError> {
        let meta = std::fs::metadata(path).map_err(|source| OpenError::Io {
            path: path.to_owned(),
            source,
        })?;
        if meta.is_dir() {
            return Err(OpenError::Io {
                path: path.to_owned(),
                source: std::io::Error::other("is a directory"),
            });
        }
        if meta.len() == 0 {
            return Err(OpenError::Empty {
                path: path.to_owned(),
            });
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
        Ok(CaptureFile {
            cap,
            link,
            path: path.to_owned(),
        })
    }

    /// The capture's link type.
    pub fn link(&self) -> LinkType {
        self.link
    }

    /// Calls `f` for every frame in file order. A damaged record ends the
    /// read with [`ReadEnd::Damaged`] rather than an error, so the frames
    /// before it are still reported.
    pub fn for_each(&mut self, mut f: impl FnMut(FrameMeta, &[u8])) -> ReadEnd {
        let mut number = 0u64;
        loop {
            match self.cap.next_packet() {
                Ok(p) => {
                    number += 1;
                    // Opened with nanosecond precision: tv_usec holds nanoseconds.
                    let (sec, nsec): (i64, i64) = (p.header.ts.tv_sec, p.header.ts.tv_usec);
                    let meta = FrameMeta {
                        number,
                        ts_ns: sec.saturating_mul(1_000_000_000).saturating_add(nsec),
                        orig_len: p.header.len,
                    };
                    f(meta, p.data);
                }
                Err(pcap::Error::NoMorePackets) => return ReadEnd::Complete,
                Err(e) => return ReadEnd::Damaged(damage_reason(&e, number, &self.path)),
            }
        }
    }
}

fn libpcap_reason(e: &pcap::Error) -> String {
    match e {
        pcap::Error::PcapError(msg) => msg.clone(),
        other => other.to_string(),
    }
}

fn damage_reason(e: &pcap::Error, read: u64, path: &Path) -> String {
    let msg = libpcap_reason(e);
    if msg.contains("different from the type of the first interface") {
        format!(
            "{}: this pcapng mixes link types and libpcap reads only one ({msg}); \
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
