//! One recv as a row of cells, the same for the terminal table and the
//! HTML page.

use recvscope_analysis::correlate::RecvRow;

use crate::units::ms_tenths;

fn opt(v: Option<u64>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

/// The frames that carried a recv's bytes: `12`, `12-15` or `-`.
pub(crate) fn frames(r: &RecvRow) -> String {
    match r.frames {
        Some([a, b]) if a == b => a.to_string(),
        Some([a, b]) => format!("{a}-{b}"),
        None => "-".into(),
    }
}

/// The columns of the recv table, headings first: shared by the terminal
/// and the HTML page.
pub(crate) const COLUMNS: [&str; 11] = [
    "recv", "at ms", "wait ms", "bytes", "total", "queued", "wire", "frames", "window", "kernel",
    "then",
];

/// One row of the recv table, as text cells in [`COLUMNS`] order.
pub(crate) fn cells(r: &RecvRow) -> [String; 11] {
    [
        r.index.to_string(),
        ms_tenths(r.t_ns),
        ms_tenths(r.wait_ns),
        r.bytes.to_string(),
        r.total.to_string(),
        opt(r.queued_before),
        opt(r.wire_delivered),
        frames(r),
        opt(r.advertised_window),
        opt(r.tcp_info.and_then(|t| t.rcv_wnd).map(u64::from)),
        notes(r).join("; "),
    ]
}

/// What the wire did around one recv: the stall it ended, the window
/// update it caused, the end of the stream.
pub(crate) fn notes(r: &RecvRow) -> Vec<String> {
    let mut then = Vec::new();
    if let Some(s) = &r.stalled {
        then.push(format!(
            "zero-window stall since {} ms ({} ms)",
            ms_tenths(s.since_ns),
            ms_tenths(s.for_ns)
        ));
    }
    if let Some(u) = &r.window_update {
        then.push(format!(
            "window {} -> {} at {} ms{}",
            u.from,
            u.to,
            ms_tenths(u.t_ns),
            if u.pure { " (window update)" } else { "" }
        ));
    }
    if r.bytes == 0 {
        then.push("server closed (recv returned 0)".into());
    }
    then
}

#[cfg(test)]
mod tests {
    use super::*;
    use recvscope_analysis::RecvEvent;
    use recvscope_analysis::correlate::{Stall, WindowUpdate};

    #[test]
    fn a_row_names_the_zero_window_stall_it_ended_and_the_window_update_it_caused() {
        let mut r = RecvRow::socket_side(
            &RecvEvent::new(1, 250_900_000, 251_000_000, 5120, 1213, 6333),
            0,
        );
        r.stalled = Some(Stall {
            since_ns: 43_100_000,
            for_ns: 207_900_000,
        });
        r.window_update = Some(WindowUpdate {
            t_ns: 251_000_000,
            frame: 13,
            from: 0,
            to: 4096,
            pure: true,
        });
        assert_eq!(
            notes(&r),
            [
                "zero-window stall since 43.1 ms (207.9 ms)",
                "window 0 -> 4096 at 251.0 ms (window update)"
            ]
        );
    }
}
