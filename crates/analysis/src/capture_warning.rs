//! What one capture's analysis could not do, or could not do whole, with
//! the figures; words for them are made by the renderer.

use serde::Serialize;

use recvscope_wire::Undecoded;

use crate::recv::RecvFault;

/// Why a recv log could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum RecvLogProblem {
    /// It could not be read; `reason` is the system's.
    Unreadable { reason: String },
    /// A line is not a recvscope recv log line; `reason` is the parser's.
    NotARecvLog { reason: String },
    /// A line is one, but says something that cannot be.
    Invalid { fault: RecvFault },
    /// The name is `what` (a pipe, a device, ...), not a regular file.
    NotAFile { what: &'static str },
    /// A line is longer than `limit` bytes.
    LineTooLong { limit: usize },
}

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
    /// Frames whose IPv4 options Wireshark finds malformed, skipped as it
    /// skips their TCP.
    MalformedIp { frames: u64 },
    /// Frames in an encapsulation recognised but not decoded (`first`: the
    /// first one's kind): their TCP, if any, is not analysed.
    UndecodedEncapsulation { frames: u64, first: Undecoded },
    /// Connections whose addresses were also seen in another tunnel or
    /// directly (`first`: the first pair's ids): kept apart, not merged.
    SeenInTunnelAndDirectly { connections: u64, first: (u64, u64) },
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
    /// The recv log beside the capture could not be used: `file`, and at
    /// which of its lines (1-based) when a line is at fault.
    RecvLogIgnored {
        file: String,
        line: Option<usize>,
        #[serde(flatten)]
        problem: RecvLogProblem,
    },
    /// The TCP lab found no connection to answer for (`id` when one was named).
    TcpLabNoConnection { id: Option<u64> },
    /// The TCP lab's connection was not listed packet by packet.
    TcpLabNotListed { id: u64 },
}
