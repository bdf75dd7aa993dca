//! A text chart for the terminal: for each recv(), the window the client
//! had advertised and the bytes already waiting in its socket, as bars on
//! one scale, so a closing window and a filling buffer show at a glance.

use std::fmt::Write;

use recvscope_analysis::correlate::RecvRow;

/// Long runs are grouped into at most this many lines.
pub(super) const MAX_LINES: usize = 40;

/// Recvs `first..=last`: the smallest window and the largest queue among them.
struct Line {
    first: u64,
    last: u64,
    window: Option<u64>,
    queued: Option<u64>,
}

/// One line per recv (or per group of recvs, at most `MAX_LINES`) with
/// the advertised window before the call (`█`, the rest of the scale `░`)
/// and the bytes queued before it (`▓`), scaled to the largest value.
/// `width` is the terminal width to fill; empty for no recvs.
pub fn terminal_chart(recvs: &[RecvRow], width: usize) -> String {
    if recvs.is_empty() {
        return String::new();
    }
    let per_line = recvs.len().div_ceil(MAX_LINES);
    let lines: Vec<Line> = recvs
        .chunks(per_line)
        .map(|group| Line {
            first: group[0].index,
            last: group[group.len() - 1].index,
            window: group.iter().filter_map(|r| r.advertised_window).min(),
            queued: group.iter().filter_map(|r| r.queued_before).max(),
        })
        .collect();
    let top = lines
        .iter()
        .flat_map(|l| l.window.into_iter().chain(l.queued))
        .max()
        .unwrap_or(0);
    let label_width = lines
        .iter()
        .map(|l| label(l).chars().count())
        .max()
        .unwrap_or(1)
        .max(4);
    let number_width = top.to_string().len().max(1);
    let fixed = label_width + 2 * number_width + " window  ".len() + "  | queued  ".len() + 2;
    let bar = (width.saturating_sub(fixed) / 2).max(4);

    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>label_width$}  {:<column$} | queued before the call",
        "recv",
        "window before the call",
        column = " window ".len() + number_width + bar,
    );
    if per_line > 1 {
        let _ = writeln!(
            out,
            "{:>label_width$}  ({per_line} recvs a line: the smallest window, the largest queue)",
            ""
        );
    }
    for l in &lines {
        let w = cells(l.window, top, bar);
        let q = cells(l.queued, top, bar);
        let _ = writeln!(
            out,
            "{:>label_width$}  window {:>number_width$} {}{} | queued {:>number_width$} {}",
            label(l),
            number(l.window),
            "█".repeat(w),
            "░".repeat(bar - w),
            number(l.queued),
            "▓".repeat(q),
        );
    }
    let _ = writeln!(
        out,
        "{:>label_width$}  █ advertised window, ░ the rest of the scale ({top} bytes);",
        ""
    );
    let _ = writeln!(
        out,
        "{:>label_width$}  ▓ bytes waiting in the socket; - not known",
        ""
    );
    out
}

fn label(l: &Line) -> String {
    if l.first == l.last {
        l.first.to_string()
    } else {
        format!("{}-{}", l.first, l.last)
    }
}

fn number(v: Option<u64>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

/// Bar cells for `v` on a scale where `top` fills `bar`; a value above
/// zero always shows at least one cell.
fn cells(v: Option<u64>, top: u64, bar: usize) -> usize {
    match v {
        Some(v) if v > 0 && top > 0 => {
            let n = (v as f64 / top as f64 * bar as f64).round() as usize;
            n.clamp(1, bar)
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(index: u64, window: Option<u64>, queued: Option<u64>) -> RecvRow {
        RecvRow {
            index,
            t_ns: index as i64 * 1000,
            wait_ns: 10,
            asked: 5120,
            bytes: 5120,
            total: 5120 * (index + 1),
            queued_before: queued,
            wire_delivered: None,
            frames: None,
            arrived_ns: None,
            advertised_window: window,
            window_update: None,
            stalled: None,
            tcp_info: None,
        }
    }

    #[test]
    fn one_line_per_recv_with_bars_on_one_scale() {
        let rows = [
            row(0, Some(8192), Some(0)),
            row(1, Some(0), Some(8192)),
            row(2, Some(4096), None),
        ];
        let chart = terminal_chart(&rows, 80);
        let lines: Vec<&str> = chart.lines().collect();
        assert_eq!(lines.len(), 6, "{chart}");
        assert!(lines[1].contains("window 8192"), "{chart}");
        let full = lines[1].matches('█').count();
        assert!(full > 4, "{chart}");
        assert_eq!(lines[1].matches('▓').count(), 0, "{chart}");
        assert_eq!(lines[2].matches('█').count(), 0, "zero window: {chart}");
        assert_eq!(lines[2].matches('▓').count(), full, "{chart}");
        assert_eq!(lines[3].matches('█').count(), full / 2, "{chart}");
        assert!(lines[3].contains("queued    - "), "{chart}");
        assert!(lines.iter().all(|l| l.chars().count() <= 80), "{chart}");
    }

    #[test]
    fn long_runs_are_grouped() {
        let rows: Vec<RecvRow> = (0..1000)
            .map(|i| row(i, Some(if i == 500 { 0 } else { 4096 }), Some(i)))
            .collect();
        let chart = terminal_chart(&rows, 100);
        let bars = chart
            .lines()
            .filter(|l| l.contains(" | queued ") && !l.contains("before"))
            .count();
        assert_eq!(bars, MAX_LINES, "{chart}");
        assert!(chart.contains("25 recvs a line"), "{chart}");
        assert!(chart.contains("500-524  window    0 "), "{chart}");
        assert!(chart.contains("975-999  window 4096 "), "{chart}");
        assert!(chart.contains("queued  999 "), "{chart}");
    }

    #[test]
    fn nothing_to_chart_is_empty() {
        assert_eq!(terminal_chart(&[], 80), "");
    }
}
