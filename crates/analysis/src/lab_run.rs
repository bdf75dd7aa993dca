//! What one run of a guided lab comes to: the recv counts the application
//! saw and the window figures the capture showed, the values a lab's
//! side-by-side comparison is made from.

use serde::Serialize;

use recvscope_tcp::Flag;

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
}

/// What the capture showed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WireFigures {
    pub zero_windows: u64,
    pub stall_ns: i64,
    pub window_full: u64,
    pub window_updates: u64,
    pub persist_probes: u64,
    pub smallest_window: Option<u64>,
    /// The connection summary's verdict: a receive window held a sender back.
    pub receiver_limited: bool,
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
            zero_windows: c.tcp.flow_control.client_zero_windows,
            stall_ns: c.tcp.zero_window_stall_ns,
            window_full: c.tcp.flow_control.window_full_to_client,
            window_updates: c.tcp.flags_by_direction.client.get(Flag::WindowUpdate),
            persist_probes: c.tcp.flags_by_direction.server.get(Flag::PersistProbe),
            smallest_window: c.tcp.receiver_window.client.min,
            receiver_limited: c.tcp.flow_control.receiver_limited,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RecvEvent;

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
    }
}
