//! What the application saw: one event per `recv()` call, from whichever
//! program made it (recvscope's downloader today, a traced program later).
//! Times are CLOCK_REALTIME nanoseconds, the clock frames are stamped with.

use serde::{Deserialize, Serialize};

/// The receive buffer asked for and the one Linux gave (it doubles the
/// request). Recv logs written before these names read too: their
/// `requested` and `effective` are the same figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rcvbuf {
    /// The SO_RCVBUF value set before `connect()`; `None`: not set, the
    /// kernel's autotuned default.
    #[serde(alias = "requested")]
    pub asked: Option<u64>,
    /// What `getsockopt(SO_RCVBUF)` returned.
    #[serde(alias = "effective")]
    pub given: u64,
}

/// The kernel's view of the receiving socket (`TCP_INFO`), where given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcpInfo {
    /// Receive window the kernel currently offers, bytes (Linux 5.4+; else absent).
    pub rcv_wnd: Option<u32>,
    /// Receive-buffer space estimate driving autotuning, bytes.
    pub rcv_space: u32,
    pub rcv_mss: u32,
    /// Smoothed RTT, µs.
    pub rtt_us: u32,
    pub bytes_received: Option<u64>,
}

/// One recv() call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecvEvent {
    /// 0-based.
    pub index: u64,
    /// When recv() was called.
    pub start_ns: i64,
    /// When it returned.
    pub end_ns: i64,
    /// Bytes asked for.
    pub asked: usize,
    /// Bytes returned (0: the peer closed).
    pub bytes: u64,
    /// Running total after this call.
    pub total: u64,
    /// Bytes waiting in the socket just before the call (`SIOCINQ`).
    pub queued_before: Option<u64>,
    /// Snapshot taken just before the call.
    pub tcp_info: Option<TcpInfo>,
}

impl RecvEvent {
    /// A call that asked for `asked` bytes and returned `bytes`, bringing
    /// the running total to `total`, with no socket state recorded.
    pub fn new(
        index: u64,
        start_ns: i64,
        end_ns: i64,
        asked: usize,
        bytes: u64,
        total: u64,
    ) -> Self {
        RecvEvent {
            index,
            start_ns,
            end_ns,
            asked,
            bytes,
            total,
            queued_before: None,
            tcp_info: None,
        }
    }
}
