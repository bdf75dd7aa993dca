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

/// How far outside the capture's first and last frame a recv log's times
/// may lie, ns: 60 s. A live run's request and recvs fall between its
/// capture's first and last frame; the margin leaves room for a capture
/// started late or stopped early, or a clock stepped by NTP during a run,
/// and keeps every difference of two checked times far from overflow.
pub const CAPTURE_MARGIN_NS: i64 = 60_000_000_000;

/// Which time of a recv log a fault is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogTime {
    /// The run line's `request_ts_ns`.
    Request,
    /// A recv's `start_ns`.
    Start,
    /// A recv's `end_ns`.
    End,
}

/// What is wrong with one line of a recv log: a log with a fault is not
/// correlated at all, since every row after a wrong one would be wrong too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum RecvFault {
    /// Recvs are numbered from 0 in order; this one is not the next.
    Index { index: u64, expected: u64 },
    /// More bytes returned than the call asked for.
    BytesOverAsked { bytes: u64, asked: usize },
    /// The call returned before it was made.
    EndBeforeStart { start_ns: i64, end_ns: i64 },
    /// The running total went down.
    TotalFell { total: u64, before: u64 },
    /// The running total is not the one before plus this call's bytes.
    TotalNotSum { total: u64, before: u64, bytes: u64 },
    /// A time further than [`CAPTURE_MARGIN_NS`] from the capture's frames.
    OutsideCapture {
        which: LogTime,
        ts_ns: i64,
        first_ns: i64,
        last_ns: i64,
    },
}

impl RecvEvent {
    /// What is wrong with this recv as the one after `before` (`None`: the
    /// first): its index, its bytes against what it asked, its times
    /// against each other, its total against the one before.
    pub fn fault(&self, before: Option<&RecvEvent>) -> Option<RecvFault> {
        let expected = before.map_or(0, |b| b.index.saturating_add(1));
        let total_before = before.map_or(0, |b| b.total);
        if self.index != expected {
            Some(RecvFault::Index {
                index: self.index,
                expected,
            })
        } else if u64::try_from(self.asked).is_ok_and(|asked| self.bytes > asked) {
            Some(RecvFault::BytesOverAsked {
                bytes: self.bytes,
                asked: self.asked,
            })
        } else if self.end_ns < self.start_ns {
            Some(RecvFault::EndBeforeStart {
                start_ns: self.start_ns,
                end_ns: self.end_ns,
            })
        } else if self.total < total_before {
            Some(RecvFault::TotalFell {
                total: self.total,
                before: total_before,
            })
        } else if total_before.checked_add(self.bytes) != Some(self.total) {
            Some(RecvFault::TotalNotSum {
                total: self.total,
                before: total_before,
                bytes: self.bytes,
            })
        } else {
            None
        }
    }
}

/// The capture's first and last frame times, ns, the recv log's times are
/// checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CaptureSpan {
    pub first_ns: i64,
    pub last_ns: i64,
}

impl CaptureSpan {
    /// The fault of time `ts_ns` (the `which` of a line): further than
    /// [`CAPTURE_MARGIN_NS`] before the earlier or after the later of the
    /// two frames.
    pub fn fault(&self, which: LogTime, ts_ns: i64) -> Option<RecvFault> {
        let low = self.first_ns.min(self.last_ns);
        let high = self.first_ns.max(self.last_ns);
        let within = low.saturating_sub(CAPTURE_MARGIN_NS) <= ts_ns
            && ts_ns <= high.saturating_add(CAPTURE_MARGIN_NS);
        (!within).then_some(RecvFault::OutsideCapture {
            which,
            ts_ns,
            first_ns: self.first_ns,
            last_ns: self.last_ns,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(index: u64, start_ns: i64, bytes: u64, total: u64) -> RecvEvent {
        RecvEvent::new(index, start_ns, start_ns + 10, 5120, bytes, total)
    }

    #[test]
    fn a_recv_that_follows_the_one_before_has_no_fault() {
        let first = ev(0, 100, 5120, 5120);
        assert_eq!(first.fault(None), None);
        assert_eq!(ev(1, 200, 0, 5120).fault(Some(&first)), None, "EOF");
    }

    #[test]
    fn each_inconsistency_of_a_recv_is_named_with_its_figures() {
        let before = ev(3, 100, 5120, 20480);
        let fault = |e: RecvEvent| e.fault(Some(&before));
        assert_eq!(
            ev(0, 200, 0, 0).fault(None),
            None,
            "a first recv may return nothing"
        );
        assert_eq!(
            ev(5, 200, 10, 20490).fault(Some(&before)),
            Some(RecvFault::Index {
                index: 5,
                expected: 4
            })
        );
        assert_eq!(
            ev(2, 200, 10, 10).fault(None),
            Some(RecvFault::Index {
                index: 2,
                expected: 0
            })
        );
        assert_eq!(
            fault(ev(4, 200, 6000, 26480)),
            Some(RecvFault::BytesOverAsked {
                bytes: 6000,
                asked: 5120
            })
        );
        assert_eq!(
            fault(RecvEvent::new(4, 200, 199, 5120, 10, 20490)),
            Some(RecvFault::EndBeforeStart {
                start_ns: 200,
                end_ns: 199
            })
        );
        assert_eq!(
            fault(ev(4, 200, 10, 5000)),
            Some(RecvFault::TotalFell {
                total: 5000,
                before: 20480
            })
        );
        assert_eq!(
            fault(ev(4, 200, 10, 30000)),
            Some(RecvFault::TotalNotSum {
                total: 30000,
                before: 20480,
                bytes: 10
            })
        );
        let huge = RecvEvent::new(4, 200, 210, usize::MAX, u64::MAX, u64::MAX);
        assert_eq!(
            fault(huge),
            Some(RecvFault::TotalNotSum {
                total: u64::MAX,
                before: 20480,
                bytes: u64::MAX
            }),
            "a sum past u64::MAX is not a sum"
        );
    }

    #[test]
    fn times_may_lie_a_minute_outside_the_capture_and_no_further() {
        let span = CaptureSpan {
            first_ns: 1_000 * CAPTURE_MARGIN_NS,
            last_ns: 1_001 * CAPTURE_MARGIN_NS,
        };
        let low = 999 * CAPTURE_MARGIN_NS;
        let high = 1_002 * CAPTURE_MARGIN_NS;
        assert_eq!(span.fault(LogTime::Start, low), None);
        assert_eq!(span.fault(LogTime::End, high), None);
        assert_eq!(
            span.fault(LogTime::Start, low - 1),
            Some(RecvFault::OutsideCapture {
                which: LogTime::Start,
                ts_ns: low - 1,
                first_ns: span.first_ns,
                last_ns: span.last_ns
            })
        );
        for ts in [high + 1, i64::MAX, i64::MIN] {
            assert!(span.fault(LogTime::Request, ts).is_some(), "{ts}");
        }
        let extreme = CaptureSpan {
            first_ns: i64::MAX,
            last_ns: i64::MIN,
        };
        assert_eq!(
            extreme.fault(LogTime::End, 0),
            None,
            "no overflow at the ends"
        );
    }
}
