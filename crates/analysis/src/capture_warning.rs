//! What one capture's analysis could not do, or could not do whole, with
//! the figures; words for them are made by the renderer.

use serde::Serialize;

/// A warning about the capture as a whole, or about an output asked of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CaptureWarning {
    /// Connections reported before their end because more than `max_live`
    /// were open at once.
    ConnectionsEvicted { connections: u64, max_live: usize },
    /// Segments cut short by the capture's `snaplen` (the captured length
    /// of the longest cut frame): their lengths come from the IP header,
    /// and the bytes not kept are told apart from bytes lost.
    SnaplenCut { segments: u64, snaplen: u32 },
    /// Frames that end before their TCP header does, skipped.
    HeadersCut { frames: u64 },
    /// IP fragments, skipped: TCP inside fragments is not reassembled.
    Fragments { frames: u64 },
    /// Timestamps earlier than the frame before; analysis follows capture order.
    TimestampsBackwards { frames: u64 },
    /// Frames on a pcapng interface whose link type recvscope cannot
    /// decode (`link_type_code`, its LINKTYPE_ value): counted, not analysed.
    LinkTypeNotSupported {
        interface: usize,
        link_type_code: u16,
        frames: u64,
    },
    /// The file is damaged from some record on; `why` is the reader's account.
    Damaged { why: String },
    /// The recv log beside the capture could not be used.
    RecvLogIgnored { why: String },
    /// The TCP lab found no connection to answer for (`id` when one was named).
    TcpLabNoConnection { id: Option<u64> },
    /// The TCP lab's connection was not listed packet by packet.
    TcpLabNotListed { id: u64 },
}
