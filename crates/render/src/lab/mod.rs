//! `recvscope lab`'s words: the list of labs, the progress lines, and the
//! report after the runs (the recv sizes side by side, the wire figures one
//! row per measure, what to look for, what happened in each run, the
//! commands that repeat it by hand, and where each run was saved).

pub mod experiments;
pub mod page;

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use recvscope_analysis::correlate::RecvRow;
use recvscope_analysis::lab_run::{KernelFigures, LimitedBy, RunSummary, WireFigures};

use crate::findings;
use crate::terms::{
    PERSIST_PROBES, RCVBUF_ASKED, RCVBUF_GIVEN, WINDOW_FULL_SEGMENTS, WINDOW_UPDATES,
    ZERO_WINDOW_SEGMENTS, ZERO_WINDOW_STALL_TIME, ZERO_WINDOW_STALLS,
};
use experiments::{EXPERIMENTS, Experiment, LookFor, Miss, RunFigures};
use recvscope_analysis::lab_guide::HeadArithmetic;
use recvscope_analysis::lesson::Lesson;
use recvscope_wire::WireText;

/// One finished run, as the lab's report tells it.
pub struct RunReport<'a> {
    pub label: &'a str,
    pub rows: &'a [RecvRow],
    pub summary: &'a RunSummary,
    /// The facts its story is made from.
    pub lesson: &'a Lesson,
    /// The response's head as received, and the book's arithmetic of it.
    pub header: &'a WireText,
    pub arithmetic: &'a HeadArithmetic,
    /// The run's plain-language story, line by line.
    pub explanation: &'a [String],
    /// The server's and the fetch's command lines.
    pub commands: &'a [String; 2],
    /// `None` when the run was not saved.
    pub saved: Option<SavedRun<'a>>,
    /// Graph and page files written for it.
    pub pictures: &'a [PathBuf],
}

/// Where a run was saved.
pub struct SavedRun<'a> {
    /// The capture file; `None` when the run had no capture.
    pub pcap: Option<&'a Path>,
    pub log: &'a Path,
}

/// `lab --list`: every experiment, one line each.
pub fn list(out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "Labs (recvscope lab NAME; each runs on loopback and needs sudo to capture):"
    )?;
    for e in EXPERIMENTS {
        writeln!(out, "  {:<12} {}", e.name, e.summary)?;
    }
    Ok(())
}

/// The line before the runs: which lab, and what it is.
pub fn heading(out: &mut dyn Write, exp: &Experiment) -> io::Result<()> {
    writeln!(out, "Lab {:?}: {}.\n", exp.name, exp.summary)
}

/// The start of a run's progress line, `run 1/2: no delay ... `, left open
/// for [`run_finished`].
pub fn run_started(
    out: &mut dyn Write,
    number: usize,
    total: usize,
    label: &str,
) -> io::Result<()> {
    write!(out, "run {number}/{total}: {label} ... ")
}

/// The end of a run's progress line: how many recvs, how long.
pub fn run_finished(out: &mut dyn Write, summary: &RunSummary) -> io::Result<()> {
    writeln!(
        out,
        "{} recvs in {:.2} s",
        summary.recvs,
        summary.duration_ns as f64 / 1e9
    )
}

/// What a run's error is about: the lab and the run.
pub fn run_failed(lab: &str, label: &str) -> String {
    format!("lab {lab} run {label:?}")
}

/// The error of a run whose body came short.
pub fn body_ended_early(lab: &str, label: &str, bytes: u64) -> String {
    format!("lab {lab} run {label:?}: the body ended early ({bytes} bytes)")
}

// The report's sections, in order: the text report ends each with a colon,
// the lab's page makes them headings.
const RECVS: &str = "What recv() returned (the book's lines: size, running total)";
const SIDE_BY_SIDE: &str = "Side by side (window figures are the client's, as the server saw them)";
const LOOK_FOR: &str = "What to look for";
const HAPPENED: &str = "What happened, run by run";
const BY_HAND: &str = "Repeat a run by hand (the server in one terminal, the fetch in another)";
const SAVED: &str = "Saved runs (`recvscope replay FILE` shows each one again, no sudo needed)";

/// The report after every run of `exp`.
pub fn report(out: &mut dyn Write, exp: &Experiment, runs: &[RunReport<'_>]) -> io::Result<()> {
    let columns: Vec<(&str, &[RecvRow])> = runs.iter().map(|r| (r.label, r.rows)).collect();
    writeln!(out, "\n{RECVS}:")?;
    write!(out, "{}", recv_columns(&columns))?;
    if let Some(first) = runs.first() {
        let a = first.arithmetic;
        writeln!(
            out,
            "\n{}",
            crate::fetch::book_header(a.header_length, first.header)
        )?;
        writeln!(out, "\n{}", crate::fetch::head_arithmetic(a))?;
    }
    writeln!(out, "\n{SIDE_BY_SIDE}:")?;
    let summaries: Vec<RunSummary> = runs.iter().map(|r| r.summary.clone()).collect();
    write!(out, "{}", table(&summaries))?;
    writeln!(out, "\n{LOOK_FOR}:")?;
    for line in look_for_lines(exp, &runs.iter().collect::<Vec<_>>()) {
        writeln!(out, "  - {line}")?;
    }
    writeln!(out, "\n{HAPPENED}:")?;
    for r in runs {
        writeln!(out, "  {}:", r.label)?;
        for line in r.explanation {
            writeln!(out, "    {line}")?;
        }
    }
    writeln!(out, "\n{BY_HAND}:")?;
    for r in runs {
        writeln!(out, "  # {}", r.label)?;
        for c in r.commands {
            writeln!(out, "  {c}")?;
        }
    }
    writeln!(out, "\n{SAVED}:")?;
    for r in runs {
        if let Some(s) = &r.saved {
            let pcap = match s.pcap {
                Some(p) => p.display().to_string(),
                None => "(no capture)".to_string(),
            };
            writeln!(out, "  {pcap}  {}", s.log.display())?;
        }
        for p in r.pictures {
            writeln!(out, "  {}", p.display())?;
        }
    }
    Ok(())
}

/// The figures of `runs` that the "what to look for" claims are checked against.
pub fn run_figures<'a>(runs: &[&'a RunReport<'a>]) -> Vec<RunFigures<'a>> {
    runs.iter()
        .map(|r| RunFigures {
            summary: r.summary,
            lesson: r.lesson,
        })
        .collect()
}

/// Every "what to look for" sentence of `exp`, checked against `runs`.
pub fn look_for_lines(exp: &Experiment, runs: &[&RunReport<'_>]) -> Vec<String> {
    let figures = run_figures(runs);
    exp.look_for
        .iter()
        .map(|look| look_for(look, runs, &figures))
        .collect()
}

/// A "what to look for" sentence, followed by what the runs showed instead
/// when they did not bear it out.
pub fn look_for(look: &LookFor, runs: &[&RunReport<'_>], figures: &[RunFigures<'_>]) -> String {
    let Some(misses) = look.misses(figures) else {
        return format!("{} (No capture to check it against.)", look.text);
    };
    if misses.is_empty() {
        return look.text.to_string();
    }
    let whose = match look.run.and_then(|i| runs.get(i)) {
        Some(r) => format!("the {} run", r.label),
        None => "these runs".to_string(),
    };
    let shown: Vec<String> = misses.iter().map(miss).collect();
    format!("{} (Not in {whose}: {}.)", look.text, shown.join("; "))
}

/// What the figures showed instead of a claim.
fn miss(m: &Miss) -> String {
    match m {
        Miss::NotKeptUp {
            zero_window_segments: 0,
        } => "every recv found all it asked for already waiting".into(),
        Miss::NotKeptUp {
            zero_window_segments: n,
        }
        | Miss::ZeroWindowSegments(n) => format!("the client sent {n} zero-window segment(s)"),
        Miss::ShortRecvs { short } => format!("{short} recvs came back short"),
        Miss::FullRecvs { full, recvs } => format!("{full} of {recvs} recvs were full"),
        Miss::NoStall => "no zero-window stall".into(),
        Miss::WindowFullSegments(n) => format!("{n} window-full segment(s)"),
        Miss::NoPersistProbe => "no persist probe".into(),
        Miss::NoReopening => "no recv reopened a zero window".into(),
        Miss::LimitedBy(l) => format!("limited by {}", findings::limited_by(*l)),
        Miss::Stalls(by_run) => {
            let v: Vec<String> = by_run.iter().map(u64::to_string).collect();
            format!("zero-window stalls by run {}", v.join(", "))
        }
        Miss::NotDoubled(bufs) => {
            let v: Vec<String> = bufs
                .iter()
                .map(|(asked, given)| match asked {
                    Some(a) => format!("{a} asked, {given} given"),
                    None => format!("default, {given} given"),
                })
                .collect();
            format!("receive buffers {}", v.join("; "))
        }
    }
}

/// The kernel's verdict in the table.
fn kernel_limited_by(l: Option<LimitedBy>) -> &'static str {
    l.map_or("too short", findings::limited_by)
}

/// µs as ms with one decimal.
fn ms(us: u64) -> String {
    format!("{:.1}", us as f64 / 1e3)
}

/// `part` as a whole percentage of `whole`; `-` of nothing.
fn share(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.0}", part as f64 * 100.0 / whole as f64)
    }
}

/// The recvs the book's program prints a line for: those that returned data.
fn book_lines(rows: &[RecvRow]) -> impl Iterator<Item = &RecvRow> {
    rows.iter().filter(|r| r.bytes > 0)
}

/// The book's `size total` lines of each run, in columns side by side.
pub fn recv_columns(runs: &[(&str, &[RecvRow])]) -> String {
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
            let cell = book_lines(rows)
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

/// One row of the side-by-side comparison: a measure and its value in
/// each run. The first row names the runs, under an empty measure.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ComparisonRow {
    measure: String,
    cells: Vec<String>,
}

/// The rows of the side-by-side comparison, one per measure, one cell per
/// run: what both the text table and the lab's page show.
fn comparison(runs: &[RunSummary]) -> Vec<ComparisonRow> {
    let mut rows: Vec<ComparisonRow> = Vec::new();
    let mut add = |name: &str, f: &dyn Fn(&RunSummary) -> String| {
        rows.push(ComparisonRow {
            measure: name.to_string(),
            cells: runs.iter().map(f).collect(),
        });
    };
    add("", &|r| r.label.clone());
    add(RCVBUF_ASKED, &|r| {
        r.rcvbuf.asked.map_or("default".into(), |b| b.to_string())
    });
    add(RCVBUF_GIVEN, &|r| r.rcvbuf.given.to_string());
    add("recv calls with data", &|r| r.recvs.to_string());
    add("full-size recvs", &|r| r.full_recvs.to_string());
    add("bytes", &|r| r.bytes.to_string());
    add("time (s)", &|r| {
        format!("{:.2}", r.duration_ns as f64 / 1e9)
    });
    let wire =
        |f: fn(&WireFigures) -> String| move |r: &RunSummary| r.wire.as_ref().map_or("-".into(), f);
    add(
        ZERO_WINDOW_SEGMENTS,
        &wire(|w| w.zero_window_segments.to_string()),
    );
    add(
        ZERO_WINDOW_STALLS,
        &wire(|w| w.zero_window_stalls.to_string()),
    );
    add(
        &format!("{ZERO_WINDOW_STALL_TIME} (s)"),
        &wire(|w| format!("{:.2}", w.zero_window_stall_ns as f64 / 1e9)),
    );
    add(
        WINDOW_FULL_SEGMENTS,
        &wire(|w| w.window_full_segments.to_string()),
    );
    add(WINDOW_UPDATES, &wire(|w| w.window_updates.to_string()));
    add(PERSIST_PROBES, &wire(|w| w.persist_probes.to_string()));
    add(
        "smallest window",
        &wire(|w| w.smallest_window.map_or("-".into(), |v| v.to_string())),
    );
    add(
        "limited by",
        &wire(|w| findings::limited_by(w.limited_by()).to_string()),
    );
    let kernel = |f: fn(&KernelFigures) -> String| {
        move |r: &RunSummary| r.kernel.as_ref().map_or("-".into(), f)
    };
    add(
        "limited by (server's kernel)",
        &kernel(|k| kernel_limited_by(k.limited_by).to_string()),
    );
    add("sender busy (ms)", &kernel(|k| ms(k.times.busy_us)));
    add(
        "rwnd-limited (ms)",
        &kernel(|k| ms(k.times.rwnd_limited_us)),
    );
    add(
        "rwnd-limited (% of busy)",
        &kernel(|k| share(k.times.rwnd_limited_us, k.times.busy_us)),
    );
    add(
        "sndbuf-limited (ms)",
        &kernel(|k| ms(k.times.sndbuf_limited_us)),
    );
    rows
}

/// One row per measure, one column per run.
pub fn table(runs: &[RunSummary]) -> String {
    let rows = comparison(runs);
    let name_w = rows.iter().map(|r| r.measure.len()).max().unwrap_or(0);
    let col_w = rows
        .iter()
        .flat_map(|r| r.cells.iter().map(String::len))
        .max()
        .unwrap_or(0)
        .max(8);
    let mut out = String::new();
    for ComparisonRow { measure, cells } in rows {
        let _ = write!(out, "  {measure:<name_w$}");
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
    use recvscope_analysis::lab_run::{SenderTimes, summarize};
    use recvscope_analysis::{Rcvbuf, RecvEvent};
    use recvscope_testkit::{Pkt, Trace};

    fn row(index: u64, bytes: u64, total: u64) -> RecvRow {
        let t = index as i64 * 1_000_000;
        RecvRow::socket_side(&RecvEvent::new(index, t, t, 5120, bytes, total), 0)
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
    fn the_table_counts_full_recvs_and_dashes_the_wire_without_a_capture() {
        let rows = [row(0, 5120, 5120), row(1, 100, 5220), row(2, 0, 5220)];
        let t = table(&[summarize("x", Rcvbuf::default(), &rows, None)]);
        let line = |name: &str| {
            t.lines()
                .find(|l| l.trim_start().starts_with(name))
                .map(|l| l.split_whitespace().last().unwrap_or("").to_string())
        };
        assert_eq!(line("full-size recvs").as_deref(), Some("1"), "{t}");
        assert_eq!(line("zero-window stalls").as_deref(), Some("-"), "{t}");
        assert_eq!(line("sender busy (ms)").as_deref(), Some("-"), "{t}");
    }

    #[test]
    fn the_table_puts_the_server_kernels_times_and_verdict_under_the_wires() {
        let rows = [row(0, 5120, 5120), row(1, 0, 5120)];
        let times = |busy_us, rwnd_limited_us, sndbuf_limited_us| SenderTimes {
            busy_us,
            rwnd_limited_us,
            sndbuf_limited_us,
        };
        let run = |label: &str, t, open_ns| {
            summarize(label, Rcvbuf::default(), &rows, None).with_kernel(Some(t), open_ns)
        };
        let t = table(&[
            run("fast", times(12_000, 0, 4000), 3_000_000_000),
            run("slow", times(5_480_000, 5_100_250, 0), 6_000_000_000),
            run("idle", times(0, 0, 0), 1_000_000_000),
            run("short", times(4000, 4000, 0), 1_300_000),
        ]);
        let cells = |name: &str| {
            t.lines()
                .find(|l| l.trim_start().starts_with(name))
                .map(|l| {
                    l[l.find(name).map_or(0, |i| i + name.len())..]
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                })
        };
        let names: Vec<&str> = t.lines().map(|l| l.trim_start()).collect();
        let at = |p: &str| names.iter().position(|l| l.starts_with(p));
        assert_eq!(
            at("limited by (server's kernel)"),
            at("limited by").map(|i| i + 1),
            "{t}"
        );
        assert_eq!(
            cells("limited by (server's kernel)").as_deref(),
            Some("sender receiver sender too short"),
            "{t}"
        );
        assert_eq!(
            cells("sender busy (ms)").as_deref(),
            Some("12.0 5480.0 0.0 4.0")
        );
        assert_eq!(
            cells("rwnd-limited (ms)").as_deref(),
            Some("0.0 5100.2 0.0 4.0")
        );
        assert_eq!(
            cells("rwnd-limited (% of busy)").as_deref(),
            Some("0 93 - 100")
        );
        assert_eq!(
            cells("sndbuf-limited (ms)").as_deref(),
            Some("4.0 0.0 0.0 0.0")
        );
    }

    /// A download whose client closes its window once: three zero-window
    /// segments (the ACK that closes it, the answer to the server's persist
    /// probe, one more) in one 0.3 s stall, then a window update.
    fn one_stall_of_three_zero_window_segments() -> Trace {
        let mut t = Trace::new();
        t.push(Pkt::c2s(1000, b"").syn().window(1000))
            .push(Pkt::s2c(5000, b"").syn().ack(1001))
            .push(Pkt::c2s(1001, b"").ack(5001).window(1000))
            .push(
                Pkt::c2s(1001, b"GET / HTTP/1.0\r\n\r\n")
                    .ack(5001)
                    .window(1000),
            )
            .push(Pkt::s2c(5001, &[b'x'; 1000]).ack(1019))
            .push(Pkt::c2s(1019, b"").ack(6001).window(0))
            .at(100_000, Pkt::s2c(6000, b"").ack(1019))
            .push(Pkt::c2s(1019, b"").ack(6001).window(0))
            .at(100_000, Pkt::c2s(1019, b"").ack(6001).window(0))
            .at(98_000, Pkt::c2s(1019, b"").ack(6001).window(1000))
            .push(Pkt::s2c(6001, &[b'x'; 500]).ack(1019).fin())
            .push(Pkt::c2s(1019, b"").ack(6502).fin());
        t
    }

    #[test]
    fn the_table_names_each_figure_once_and_tells_zero_window_segments_from_stalls() {
        let report = crate::tests::report(&one_stall_of_three_zero_window_segments());
        let conn = &report.connections[0];
        let rows = [row(0, 5120, 5120), row(1, 0, 5120)];
        let rcvbuf = Rcvbuf {
            asked: Some(4096),
            given: 8192,
        };
        let t = table(&[summarize("run", rcvbuf, &rows, Some(conn))]);
        let rows: Vec<(&str, &str)> = t
            .lines()
            .skip(1)
            .map(|l| {
                l.trim()
                    .rsplit_once("  ")
                    .map_or((l, ""), |(n, v)| (n.trim(), v.trim()))
            })
            .collect();
        let mut labels: Vec<&str> = rows.iter().map(|(n, _)| *n).collect();
        labels.sort_unstable();
        labels.dedup();
        assert_eq!(labels.len(), rows.len(), "a label used twice:\n{t}");
        let cell = |name: &str| rows.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
        assert_eq!(cell("receive buffer asked"), Some("4096"), "{t}");
        assert_eq!(cell("receive buffer given by Linux"), Some("8192"), "{t}");
        assert_eq!(cell("zero-window segments"), Some("3"), "{t}");
        assert_eq!(cell("zero-window stalls"), Some("1"), "{t}");
        assert_eq!(cell("zero-window stall time (s)"), Some("0.30"), "{t}");
        assert_eq!(cell("window-full segments"), Some("1"), "{t}");
        assert_eq!(cell("window updates"), Some("1"), "{t}");
        assert_eq!(cell("persist probes"), Some("1"), "{t}");
        assert_eq!(cell("smallest window"), Some("0"), "{t}");
    }
}
