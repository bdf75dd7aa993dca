//! Side-by-side comparison of a lab's runs: the recv sizes in columns, as
//! the book prints them, and the wire figures one row per measure.

use std::fmt::Write;

use serde::Serialize;

use crate::analysis::ConnectionSummary;
use crate::correlate::RecvRow;
use crate::recvlog::Rcvbuf;
use crate::tcp::Flag;

/// The figures of one run that a lab compares.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct RunSummary {
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
pub(crate) struct WireFigures {
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
pub(crate) fn summarize(
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

/// The book's `size total` lines of each run, in columns side by side.
pub(crate) fn recv_columns(runs: &[(&str, &[RecvRow])]) -> String {
    let width = 19;
    let mut out = String::new();
    for (label, _) in runs {
        let _ = write!(out, "{:<width$}", format!("  {label}"));
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    let longest = runs.iter().map(|(_, r)| r.len()).max().unwrap_or(0);
    for i in 0..longest {
        for (_, rows) in runs {
            let cell = rows
                .iter()
                .filter(|r| r.bytes > 0)
                .nth(i)
                .map_or(String::new(), |r| format!("{:>7} {:>9}", r.bytes, r.total));
            let _ = write!(out, "{cell:<width$}");
        }
        if out.ends_with(&" ".repeat(width * runs.len())) {
            out.truncate(out.len() - width * runs.len());
            break;
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    out
}

/// One row per measure, one column per run.
pub(crate) fn table(runs: &[RunSummary]) -> String {
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut add = |name: &str, f: &dyn Fn(&RunSummary) -> String| {
        rows.push((name.to_string(), runs.iter().map(f).collect()));
    };
    add("", &|r| r.label.clone());
    add("receive buffer asked", &|r| {
        r.rcvbuf
            .requested
            .map_or("default".into(), |b| b.to_string())
    });
    add("receive buffer (Linux)", &|r| {
        r.rcvbuf.effective.to_string()
    });
    add("recv calls with data", &|r| r.recvs.to_string());
    add("full-size recvs", &|r| r.full_recvs.to_string());
    add("bytes", &|r| r.bytes.to_string());
    add("time (s)", &|r| {
        format!("{:.2}", r.duration_ns as f64 / 1e9)
    });
    let wire =
        |f: fn(&WireFigures) -> String| move |r: &RunSummary| r.wire.as_ref().map_or("-".into(), f);
    add("zero windows", &wire(|w| w.zero_windows.to_string()));
    add(
        "sender stalled (s)",
        &wire(|w| format!("{:.2}", w.stall_ns as f64 / 1e9)),
    );
    add("window full", &wire(|w| w.window_full.to_string()));
    add("window updates", &wire(|w| w.window_updates.to_string()));
    add("persist probes", &wire(|w| w.persist_probes.to_string()));
    add(
        "smallest window",
        &wire(|w| w.smallest_window.map_or("-".into(), |v| v.to_string())),
    );
    add(
        "limited by",
        &wire(|w| {
            if w.receiver_limited {
                "receiver"
            } else {
                "sender"
            }
            .to_string()
        }),
    );
    let name_w = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let col_w = rows
        .iter()
        .flat_map(|(_, c)| c.iter().map(String::len))
        .max()
        .unwrap_or(0)
        .max(8);
    let mut out = String::new();
    for (name, cells) in rows {
        let _ = write!(out, "  {name:<name_w$}");
        for c in cells {
            let _ = write!(out, "  {c:>col_w$}");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(index: u64, bytes: u64, total: u64) -> RecvRow {
        RecvRow {
            index,
            t_ns: index as i64 * 1_000_000,
            wait_ns: 0,
            asked: 5120,
            bytes,
            total,
            queued_before: None,
            wire_delivered: None,
            frames: None,
            arrived_ns: None,
            advertised_window: None,
            window_update: None,
            stalled: None,
            tcp_info: None,
        }
    }

    #[test]
    fn recv_sizes_line_up_in_columns_like_the_books_output() {
        let a = [row(0, 5120, 5120), row(1, 100, 5220), row(2, 0, 5220)];
        let b = [row(0, 5120, 5120), row(1, 0, 5120)];
        let text = recv_columns(&[("no delay", &a), ("delay", &b)]);
        assert_eq!(
            text,
            "  no delay           delay\n   5120      5120     5120      5120\n    100      5220\n"
        );
    }

    #[test]
    fn limited_by_is_the_connection_summarys_verdict() {
        use crate::analysis::NoBodies;
        use crate::capture::records::Reading;
        for (name, receiver) in [("lab-book-delay.pcap", true), ("book-nodelay.pcap", false)] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("captures")
                .join(name);
            let (report, _) =
                crate::replay::analyse_file(&path, None, Reading::Inline, &mut NoBodies)
                    .expect(name);
            let conn = report.connections.first().expect("a connection");
            let s = summarize("x", Rcvbuf::default(), &[], Some(conn));
            let wire = s.wire.expect("wire figures");
            assert_eq!(
                wire.receiver_limited, conn.tcp.flow_control.receiver_limited,
                "{name}"
            );
            assert_eq!(wire.receiver_limited, receiver, "{name}");
        }
    }

    #[test]
    fn summary_counts_full_recvs_and_ignores_the_closing_zero() {
        let rows = [row(0, 5120, 5120), row(1, 100, 5220), row(2, 0, 5220)];
        let s = summarize("x", Rcvbuf::default(), &rows, None);
        assert_eq!(
            (s.recvs, s.full_recvs, s.bytes, s.duration_ns),
            (2, 1, 5220, 2_000_000)
        );
        let t = table(&[s]);
        let line = |name: &str| {
            t.lines()
                .find(|l| l.trim_start().starts_with(name))
                .map(|l| l.split_whitespace().last().unwrap_or("").to_string())
        };
        assert_eq!(line("full-size recvs").as_deref(), Some("1"), "{t}");
        assert_eq!(line("zero windows").as_deref(), Some("-"), "{t}");
    }
}
