//! A few plain sentences on what the recvs and the wire show, for the end
//! of a recv table.

use recvscope_analysis::ConnectionSummary;

use crate::units::ms_tenths;
use recvscope_analysis::correlate::RecvRow;

/// A few plain sentences on what happened, for the end of the report.
pub fn explain(rows: &[RecvRow], conn: Option<&ConnectionSummary>) -> Vec<String> {
    let mut out = Vec::new();
    let data: Vec<&RecvRow> = rows.iter().filter(|r| r.bytes > 0).collect();
    if let Some(first) = data.first() {
        let full = data.iter().filter(|r| r.bytes as usize == r.asked).count();
        let total = data.last().map_or(0, |r| r.total);
        let drained = data
            .iter()
            .filter(|r| r.queued_before.is_some_and(|q| q > 0 && q <= r.bytes))
            .count();
        let most_queued = data.iter().filter_map(|r| r.queued_before).max();
        let why = if full * 2 >= data.len() {
            ": data was already waiting in the receive buffer".to_string()
        } else if drained * 2 >= data.len() {
            format!(
                ": each took everything waiting in the receive buffer, which never held more than {} bytes, so the buffer, not the size asked, set the sizes",
                most_queued.unwrap_or(0)
            )
        } else {
            ": most returned only what had arrived so far".to_string()
        };
        out.push(format!(
            "{} recv() calls returned {total} bytes; {full} of them returned the full {} bytes asked for{why}.",
            data.len(),
            first.asked,
        ));
    }
    let Some(conn) = conn else {
        out.push("No capture: the wire view (segments, windows, stalls) is not available.".into());
        return out;
    };
    let stalls = conn.tcp.flow_control.client_zero_windows;
    if stalls == 0 {
        let min = conn.tcp.receiver_window.client.min;
        out.push(format!(
            "The receive window never closed{}: the reader kept up and the sender was never stopped by flow control.",
            min.map_or(String::new(), |m| format!(" (smallest advertised: {m} bytes)"))
        ));
    } else {
        if let Some(first) = rows.iter().find(|r| r.stalled.is_some()) {
            let after = first.index.checked_sub(1).map_or_else(
                || "before the first recv".to_string(),
                |i| format!("after recv {i}"),
            );
            out.push(format!(
                "The receive buffer filled {after}: the client advertised a zero window {} ms after the request.",
                ms_tenths(first.stalled.as_ref().map_or(0, |s| s.since_ns))
            ));
        }
        out.push(format!(
            "The server was stalled by a zero window {stalls} time(s), for {} ms in total.",
            ms_tenths(conn.tcp.zero_window_stall_ns)
        ));
        let reopened = rows
            .iter()
            .filter(|r| {
                r.stalled.is_some() && r.window_update.as_ref().is_some_and(|w| w.from == 0)
            })
            .count();
        out.push(format!(
            "{reopened} recv() call(s) reopened a closed window: reading freed buffer space and the kernel sent a window update at once."
        ));
    }
    let full_to_client = conn.tcp.flow_control.window_full_to_client;
    if full_to_client > 0 {
        out.push(format!(
            "{full_to_client} server segment(s) filled the advertised window exactly (Wireshark: window full)."
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use recvscope_analysis::RecvEvent;
    use recvscope_analysis::correlate::correlate;

    fn recv(index: u64, start: i64, end: i64, bytes: u64, total: u64) -> RecvEvent {
        RecvEvent {
            queued_before: Some(0),
            ..RecvEvent::new(index, start, end, 5120, bytes, total)
        }
    }

    #[test]
    fn explanation_counts_full_recvs() {
        let recvs = [recv(0, 50, 60, 5120, 5120), recv(1, 70, 71, 2976, 8096)];
        let rows = correlate(0, &recvs, None);
        let text = explain(&rows, None);
        assert!(
            text[0].starts_with(
                "2 recv() calls returned 8096 bytes; 1 of them returned the full 5120"
            ),
            "{text:?}"
        );
        assert!(text[1].contains("No capture"));
    }
}
