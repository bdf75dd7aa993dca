//! What one run of a guided lab comes to: the recv counts the application
//! saw, the window figures the capture showed and the time figures the
//! server's kernel kept, the values a lab's side-by-side comparison is made
//! from; and the rule that reads the kernel's figures as a verdict.

use serde::Serialize;

pub use recvscope_tcp::LimitedBy;
use recvscope_tcp::{Flag, Pace};

use crate::ConnectionSummary;
use crate::correlate::RecvRow;
use crate::recv::Rcvbuf;

/// The figures of one run that a lab compares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    pub label: String,
    pub rcvbuf: Rcvbuf,
    /// recv() calls that returned data.
    pub recvs: usize,
    /// Of those, how many returned the full size asked for.
    pub full_recvs: usize,
    pub bytes: u64,
    pub duration_ns: i64,
    /// `None` without a capture.
    pub wire: Option<WireFigures>,
    /// `None` when the server's kernel gave no figures.
    pub kernel: Option<KernelFigures>,
    /// Whether the wire and the kernel answer alike whether the receiver's
    /// window set the pace ([`verdicts_agree`]); `None` unless there are
    /// both.
    pub verdicts_agree: Option<bool>,
}

/// Whether the wire's verdict and the kernel's agree. The kernel's clocks
/// tell the time the receiver's window held the sender from the rest, not
/// the network from the sender: they agree when both name the receiver or
/// neither does, so the wire's network agrees with the kernel's sender.
pub fn verdicts_agree(wire: LimitedBy, kernel: LimitedBy) -> bool {
    (wire == LimitedBy::Receiver) == (kernel == LimitedBy::Receiver)
}

/// What the sending side's kernel measured of a connection: Linux's
/// `TCP_INFO` chronographs (since 4.10), in µs. The three are kept
/// disjoint by the kernel and `busy_us` is their sum, so the two limits are
/// parts of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SenderTimes {
    /// `tcpi_busy_time`: time the socket had data sent and not yet
    /// acknowledged, or not yet sent.
    pub busy_us: u64,
    /// `tcpi_rwnd_limited`: of that, time it had data to send and the
    /// receiver's window did not let it.
    pub rwnd_limited_us: u64,
    /// `tcpi_sndbuf_limited`: of that, time everything written had been
    /// sent and the application was kept waiting by a send buffer full of
    /// unacknowledged data.
    pub sndbuf_limited_us: u64,
}

/// The shortest time a connection must have been open for its kernel's
/// figures to judge it: ten ticks of Linux's coarsest clock (HZ=100). The
/// chronographs count whole ticks (4 ms at HZ=250), so a transfer over in a
/// few milliseconds reads 0 or one tick.
pub const KERNEL_SPAN_MIN_NS: i64 = 100_000_000;

impl SenderTimes {
    /// The kernel's verdict on a connection open for `open_ns`: the
    /// receiver, when its window held the sender back for more than half of
    /// the time the sender was busy; the sender otherwise (a sender never
    /// busy was limited by nothing but itself), never the network, which
    /// these clocks do not tell apart. `None` when the connection
    /// was open less than [`KERNEL_SPAN_MIN_NS`], too short for the
    /// kernel's clock.
    pub fn limited_by(&self, open_ns: i64) -> Option<LimitedBy> {
        if open_ns < KERNEL_SPAN_MIN_NS {
            None
        } else if self.rwnd_limited_us > self.busy_us.saturating_sub(self.rwnd_limited_us) {
            Some(LimitedBy::Receiver)
        } else {
            Some(LimitedBy::Sender)
        }
    }
}

/// The server kernel's figures of a run, with its verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct KernelFigures {
    #[serde(flatten)]
    pub times: SenderTimes,
    /// How long the server's connection was open, from accept until the
    /// figures were read.
    pub open_ns: i64,
    /// [`SenderTimes::limited_by`]; `None` when the connection was too
    /// short to tell.
    pub limited_by: Option<LimitedBy>,
}

/// What the capture showed, of the client as receiver and the server as
/// its sender.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WireFigures {
    /// The client's segments Wireshark flags `tcp.analysis.zero_window`.
    pub zero_window_segments: u64,
    /// Times the server was stopped by the client's zero window, each from
    /// its first zero-window segment until the window reopened.
    pub zero_window_stalls: u64,
    /// How long those stalls lasted in all.
    pub zero_window_stall_ns: i64,
    /// The server's segments Wireshark flags `tcp.analysis.window_full`.
    pub window_full_segments: u64,
    /// The client's segments Wireshark flags `tcp.analysis.window_update`.
    pub window_updates: u64,
    /// The server's zero-window probes (Wireshark: keep-alives).
    pub persist_probes: u64,
    /// The client's smallest advertised window, in bytes.
    pub smallest_window: Option<u64>,
    /// What set the pace of the server's sending, with its evidence and
    /// retransmissions: the wire's verdict.
    pub pace: Pace,
}

impl WireFigures {
    /// The wire's verdict in one word.
    pub fn limited_by(&self) -> LimitedBy {
        self.pace.set_by.limited_by()
    }
}

/// Sums up one run.
pub fn summarize(
    label: &str,
    rcvbuf: Rcvbuf,
    rows: &[RecvRow],
    conn: Option<&ConnectionSummary>,
) -> RunSummary {
    let data: Vec<&RecvRow> = rows.iter().filter(|r| r.bytes > 0).collect();
    RunSummary {
        label: label.to_string(),
        rcvbuf,
        recvs: data.len(),
        full_recvs: data.iter().filter(|r| r.bytes as usize == r.asked).count(),
        bytes: data.last().map_or(0, |r| r.total),
        duration_ns: rows.last().map_or(0, |r| r.t_ns + r.wait_ns),
        wire: conn.map(|c| WireFigures {
            zero_window_segments: c.tcp.flags_by_direction.client.get(Flag::ZeroWindow),
            zero_window_stalls: c.tcp.flow_control.client_zero_windows,
            zero_window_stall_ns: c.tcp.flow_control.client_zero_window_stall_ns,
            window_full_segments: c.tcp.flow_control.window_full_to_client,
            window_updates: c.tcp.flags_by_direction.client.get(Flag::WindowUpdate),
            persist_probes: c.tcp.flags_by_direction.server.get(Flag::PersistProbe),
            smallest_window: c.tcp.receiver_window.client.min,
            pace: c.tcp.flow_control.pace.server.clone(),
        }),
        kernel: None,
        verdicts_agree: None,
    }
}

impl RunSummary {
    /// The summary with the server kernel's figures of the run (`None` when
    /// its kernel gave none) over a connection open for `open_ns`, and
    /// whether their verdict is the wire's.
    pub fn with_kernel(self, times: Option<SenderTimes>, open_ns: i64) -> RunSummary {
        let kernel = times.map(|times| KernelFigures {
            times,
            open_ns,
            limited_by: times.limited_by(open_ns),
        });
        let verdicts_agree = self
            .wire
            .as_ref()
            .zip(kernel.and_then(|k| k.limited_by))
            .map(|(w, k)| verdicts_agree(w.limited_by(), k));
        RunSummary {
            kernel,
            verdicts_agree,
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RecvEvent;
    use recvscope_tcp::{PaceSetter, Retransmissions, WindowEvidence};

    fn row(index: u64, bytes: u64, total: u64) -> RecvRow {
        let t = index as i64 * 1_000_000;
        RecvRow::socket_side(&RecvEvent::new(index, t, t, 5120, bytes, total), 0)
    }

    #[test]
    fn summary_counts_full_recvs_and_ignores_the_closing_zero() {
        let rows = [row(0, 5120, 5120), row(1, 100, 5220), row(2, 0, 5220)];
        let s = summarize("x", Rcvbuf::default(), &rows, None);
        assert_eq!(
            (s.recvs, s.full_recvs, s.bytes, s.duration_ns),
            (2, 1, 5220, 2_000_000)
        );
        assert_eq!(s.wire, None);
        assert_eq!((s.kernel, s.verdicts_agree), (None, None));
    }

    fn times(busy_us: u64, rwnd_limited_us: u64, sndbuf_limited_us: u64) -> SenderTimes {
        SenderTimes {
            busy_us,
            rwnd_limited_us,
            sndbuf_limited_us,
        }
    }

    const SECOND: i64 = 1_000_000_000;

    #[test]
    fn the_kernel_blames_the_receiver_when_its_window_held_the_sender_most_of_its_busy_time() {
        let receiver = Some(LimitedBy::Receiver);
        assert_eq!(
            times(5_300_000, 5_156_000, 0).limited_by(6 * SECOND),
            receiver
        );
        assert_eq!(times(1001, 501, 0).limited_by(SECOND), receiver);
    }

    #[test]
    fn the_kernel_blames_the_sender_when_the_window_held_it_half_its_busy_time_or_less() {
        let sender = Some(LimitedBy::Sender);
        assert_eq!(times(1000, 500, 0).limited_by(SECOND), sender);
        assert_eq!(times(12_000, 0, 0).limited_by(4 * SECOND), sender);
        assert_eq!(times(10_000, 1000, 8000).limited_by(SECOND), sender);
        assert_eq!(times(0, 0, 0).limited_by(SECOND), sender, "never busy");
        assert_eq!(
            times(u64::MAX, u64::MAX, 0).limited_by(SECOND),
            Some(LimitedBy::Receiver),
            "no overflow"
        );
    }

    #[test]
    fn the_kernel_cannot_tell_on_a_connection_open_less_than_ten_coarse_ticks() {
        // The book's no-delay run on loopback: over in 1.3 ms, one 4 ms tick.
        assert_eq!(times(4000, 4000, 0).limited_by(1_300_000), None);
        assert_eq!(times(0, 0, 0).limited_by(1_300_000), None);
        assert_eq!(
            times(4000, 4000, 0).limited_by(KERNEL_SPAN_MIN_NS - 1),
            None
        );
        assert_eq!(
            times(4000, 4000, 0).limited_by(KERNEL_SPAN_MIN_NS),
            Some(LimitedBy::Receiver)
        );
    }

    fn wire(set_by: PaceSetter) -> WireFigures {
        WireFigures {
            zero_window_segments: 0,
            zero_window_stalls: 0,
            zero_window_stall_ns: 0,
            window_full_segments: 0,
            window_updates: 0,
            persist_probes: 0,
            smallest_window: None,
            pace: Pace {
                set_by,
                retransmissions: Retransmissions::default(),
            },
        }
    }

    fn receiver() -> PaceSetter {
        PaceSetter::Receiver(WindowEvidence {
            zero_window_stalls: 2,
            stalled_ns: 3_105_000_000,
            window_full_with_data_waiting: 5,
            frames: vec![14, 18],
        })
    }

    fn network() -> PaceSetter {
        PaceSetter::Network {
            real_retransmissions: 1,
            frames: vec![13],
        }
    }

    #[test]
    fn the_verdicts_agree_when_both_or_neither_name_the_receiver() {
        use LimitedBy::*;
        assert!(verdicts_agree(Receiver, Receiver));
        assert!(verdicts_agree(Sender, Sender));
        assert!(verdicts_agree(Network, Sender), "the kernel cannot tell");
        assert!(!verdicts_agree(Receiver, Sender));
        assert!(!verdicts_agree(Sender, Receiver));
        assert!(!verdicts_agree(Network, Receiver));
    }

    #[test]
    fn with_kernel_keeps_the_kernels_verdict_and_whether_the_wire_says_the_same() {
        let rows = [row(0, 5120, 5120), row(1, 0, 5120)];
        let base = summarize("x", Rcvbuf::default(), &rows, None);
        let with_wire = |set_by| RunSummary {
            wire: Some(wire(set_by)),
            ..base.clone()
        };
        let rwnd_limited = times(2_000_000, 1_900_000, 0);
        let s = with_wire(receiver()).with_kernel(Some(rwnd_limited), 3 * SECOND);
        assert_eq!(
            s.kernel,
            Some(KernelFigures {
                times: rwnd_limited,
                open_ns: 3 * SECOND,
                limited_by: Some(LimitedBy::Receiver)
            })
        );
        assert_eq!(s.verdicts_agree, Some(true));
        let s = with_wire(PaceSetter::Sender).with_kernel(Some(rwnd_limited), 3 * SECOND);
        assert_eq!(s.verdicts_agree, Some(false));
        let s = with_wire(network()).with_kernel(Some(times(2_000_000, 0, 0)), 3 * SECOND);
        assert_eq!(s.verdicts_agree, Some(true), "network beside sender");
        let s = base.clone().with_kernel(Some(rwnd_limited), 3 * SECOND);
        assert_eq!(s.verdicts_agree, None, "no capture, nothing to compare");
        let s = with_wire(receiver()).with_kernel(Some(rwnd_limited), 1_000_000);
        assert_eq!(s.kernel.map(|k| k.limited_by), Some(None));
        assert_eq!(s.verdicts_agree, None, "too short for the kernel to tell");
        let s = with_wire(receiver()).with_kernel(None, 3 * SECOND);
        assert_eq!((s.kernel, s.verdicts_agree), (None, None));
    }
}
