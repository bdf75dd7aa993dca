//! The lab guide's questions (README, "Lab guide: flow control in a network
//! course", steps 2 and 3) and two of Kurose & Ross's TCP lab, each answered
//! for every run from its figures, or said to be unanswerable without them.

use std::fmt::Write as _;

use recvscope_analysis::lab_guide::RunGuide;
use recvscope_analysis::lab_run::{LimitedBy, RunSummary};

use super::{NO_CAPTURE, PageRun};
use crate::graph::escape;
use crate::lab::experiments::Experiment;
use crate::lab::share;
use crate::units::{ms, ms_tenths};

/// More items than this in one answer (frames, recvs) are counted, not listed.
const LISTED: usize = 10;

/// "1 zero-window stall", "2 zero-window stalls".
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The first [`LISTED`] of `items`, joined by `sep`, and how many more
/// there are.
fn listed(items: &[String], sep: &str) -> String {
    let mut text = items
        .iter()
        .take(LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join(sep);
    if items.len() > LISTED {
        let _ = write!(text, " and {} more", items.len() - LISTED);
    }
    text
}

fn opt(v: Option<u64>) -> String {
    v.map_or_else(|| "unknown".into(), |v| v.to_string())
}

/// One question and an answer for each run.
fn ask(
    h: &mut String,
    question: &str,
    runs: &[PageRun<'_>],
    answer: impl Fn(&PageRun<'_>) -> String,
) {
    let _ = writeln!(h, "<p class=\"q\">{}</p>\n<ul>", escape(question));
    for r in runs {
        let _ = writeln!(
            h,
            "<li><b>{}</b>: {}</li>",
            escape(r.report.label),
            escape(&answer(r))
        );
    }
    h.push_str("</ul>\n");
}

pub(super) fn answers(
    h: &mut String,
    exp: &Experiment,
    runs: &[PageRun<'_>],
    summaries: &[RunSummary],
    unlimited_from: Option<usize>,
) {
    h.push_str("<h2 id=\"answers\">The lab guide's questions, answered from these runs</h2>\n<p class=\"note\">The questions of the lab guide in recvscope's README, asked of every run, then two of Kurose &amp; Ross's \"Wireshark Lab: TCP\". Every answer is made from the figures above; what the figures cannot tell is left to you.</p>\n<h3>Step 2: answer from the output</h3>\n");
    ask(
        h,
        "1. How many recv() calls returned data, and why are their sizes not all the size asked?",
        runs,
        recv_count,
    );
    ask(
        h,
        "2. Which recvs returned less than they asked for, what was left in the buffer when each was made, and which window had the client advertised? (The queued and window columns.)",
        runs,
        short_recvs,
    );
    ask(
        h,
        "3. Which receive buffer did the lab ask for, and which did Linux give it?",
        runs,
        |r| {
            let b = r.report.summary.rcvbuf;
            match b.asked {
                Some(asked) => format!(
                    "It asked for {asked} bytes (SO_RCVBUF); Linux gave {}.",
                    b.given
                ),
                None => format!(
                    "It asked for none (the kernel's default, autotuned); Linux gave {}.",
                    b.given
                ),
            }
        },
    );
    ask(
        h,
        "4. After which recv did the client first advertise a zero window, and how long after the request?",
        runs,
        first_zero_window,
    );
    ask(
        h,
        "5. How many times was the server stalled, and for how long in total? What share of the transfer time is that?",
        runs,
        stalls,
    );
    ask(
        h,
        "6. While the window was zero, what did the server send?",
        runs,
        probes,
    );
    ask(
        h,
        "7. Pick a row with 'window 0 -> …': which recv caused that window update, and how soon after the recv started was it sent?",
        runs,
        reopenings,
    );
    ask(
        h,
        "8. Check the book's arithmetic: header length + 4 + body bytes = the last running total.",
        runs,
        |r| {
            let a = r.guide.arithmetic;
            let sum = format!(
                "{} + {} + {} = {}",
                a.header_length,
                a.blank_line,
                a.body_bytes,
                a.sum()
            );
            if a.holds() {
                format!("{sum}, the last running total.")
            } else {
                format!("{sum}, but the last running total is {}.", a.last_total)
            }
        },
    );
    step_three(h, exp, runs, summaries, unlimited_from);
    h.push_str("<h3>Kurose &amp; Ross, \"Wireshark Lab: TCP\"</h3>\n");
    ask(
        h,
        "9. What is the minimum amount of available buffer space advertised at the receiver for the entire trace? Does the lack of receiver buffer space ever throttle the sender?",
        runs,
        throttled,
    );
    ask(
        h,
        "10. Are there any retransmitted segments in the trace? What did you check in order to answer this question?",
        runs,
        |r| {
            match &r.guide.wire {
            None => NO_CAPTURE.to_string(),
            Some(w) if w.retransmissions.is_empty() => {
                "No: no segment is flagged by Wireshark's tcp.analysis.retransmission rules, which recvscope follows.".to_string()
            }
            Some(w) => {
                let frames: Vec<String> = w.retransmissions.iter().map(u64::to_string).collect();
                format!(
                    "Yes, {}: frame(s) {}, flagged by Wireshark's tcp.analysis.retransmission rules, which recvscope follows.",
                    w.retransmissions.len(),
                    listed(&frames, ", ")
                )
            }
        }
        },
    );
}

/// The guide's step 3 asks one question of `buffer-size` and one of
/// `slow-sender`.
fn step_three(
    h: &mut String,
    exp: &Experiment,
    runs: &[PageRun<'_>],
    summaries: &[RunSummary],
    unlimited_from: Option<usize>,
) {
    match exp.name {
        "buffer-size" => {
            h.push_str("<h3>Step 3: change one thing at a time</h3>\n");
            let answer = match (unlimited_from, summaries.iter().all(|s| s.wire.is_some())) {
                (_, false) => NO_CAPTURE.to_string(),
                (Some(i), true) => format!(
                    "From {} on (Linux gave {} bytes): in that run and every later one there was no zero-window stall and the sender set the pace.",
                    summaries[i].label, summaries[i].rcvbuf.given
                ),
                (None, true) => format!(
                    "In none of these runs: even {} had a zero-window stall or was limited by the receiver.",
                    summaries.last().map_or("the last", |s| s.label.as_str())
                ),
            };
            let _ = writeln!(
                h,
                "<p class=\"q\">{}</p>\n<p>{}</p>",
                escape("At which buffer size does the reader stop limiting the sender?"),
                escape(&answer)
            );
        }
        "slow-sender" => {
            h.push_str("<h3>Step 3: change one thing at a time</h3>\n");
            ask(
                h,
                "Why are the recv sizes small when the server is slow, and why does the window never fill?",
                runs,
                slow_sender,
            );
        }
        _ => {}
    }
}

fn recv_count(r: &PageRun<'_>) -> String {
    let s = r.report.summary;
    let g = r.guide;
    let short = g.short_recvs.len();
    if short == 0 {
        return format!(
            "{} returned data, every one the full {} bytes asked for.",
            count(s.recvs, "recv() call", "recv() calls"),
            g.asked
        );
    }
    format!(
        "{} returned data: {} the full {} bytes asked for, {short} fewer; {}: recv() returns what is there, up to the size asked.",
        count(s.recvs, "recv() call", "recv() calls"),
        s.full_recvs,
        g.asked,
        took_all_queued(g)
    )
}

/// Which of the short recvs took everything queued: "it took …", "all 3
/// took …", "2 of those 3 took …".
fn took_all_queued(g: &RunGuide) -> String {
    let short = g.short_recvs.len();
    let took = g.short_recvs.iter().filter(|s| s.took_all_queued()).count();
    let what = "took every byte queued in the receive buffer when";
    match (short, took) {
        (1, 1) => format!("it {what} it was called"),
        _ if took == short => format!("all {short} {what} they were called"),
        _ => format!("{took} of those {short} {what} they were called"),
    }
}

fn short_recvs(r: &PageRun<'_>) -> String {
    let g = r.guide;
    if g.short_recvs.is_empty() {
        return format!("None: every recv returned the full {} bytes.", g.asked);
    }
    let items: Vec<String> = g
        .short_recvs
        .iter()
        .map(|s| {
            format!(
                "recv {}: {} bytes, {} queued, window {}",
                s.index,
                s.bytes,
                opt(s.queued_before),
                opt(s.advertised_window)
            )
        })
        .collect();
    format!("{}.", listed(&items, "; "))
}

fn first_zero_window(r: &PageRun<'_>) -> String {
    let Some(w) = &r.guide.wire else {
        return NO_CAPTURE.to_string();
    };
    match w.first_zero_window {
        Some(z) => format!(
            "{}: its first zero-window segment, frame {}, was sent {} ms after the request.",
            z.after_recv.map_or_else(
                || "Before any recv had returned".to_string(),
                |i| format!("After recv {i}")
            ),
            z.at.frame,
            ms_tenths(z.at.t_ns)
        ),
        None => format!(
            "It never did: the smallest window it advertised was {} bytes.",
            opt(r
                .report
                .summary
                .wire
                .as_ref()
                .and_then(|w| w.smallest_window))
        ),
    }
}

fn stalls(r: &PageRun<'_>) -> String {
    let s = r.report.summary;
    let Some(w) = &s.wire else {
        return NO_CAPTURE.to_string();
    };
    let mut text = if w.zero_window_stalls == 0 {
        "Never: there was no zero-window stall.".to_string()
    } else {
        format!(
            "{}, {} ms in all: {}% of the {:.2} s from the request to the last recv.",
            count(
                w.zero_window_stalls as usize,
                "zero-window stall",
                "zero-window stalls"
            ),
            ms_tenths(w.zero_window_stall_ns),
            share(
                w.zero_window_stall_ns.max(0) as u64,
                s.duration_ns.max(0) as u64
            ),
            s.duration_ns as f64 / 1e9
        )
    };
    if let Some(k) = &s.kernel {
        let _ = write!(
            text,
            " The server's kernel counted {} ms of its {} ms busy as limited by the receive window (rwnd-limited){}.",
            ms_tenths(k.times.rwnd_limited_us as i64 * 1000),
            ms_tenths(k.times.busy_us as i64 * 1000),
            if k.limited_by.is_none() {
                ", too short a connection for its clock to tell"
            } else {
                ""
            }
        );
    }
    text
}

fn probes(r: &PageRun<'_>) -> String {
    let Some(w) = &r.guide.wire else {
        return NO_CAPTURE.to_string();
    };
    if w.persist_probes.is_empty() {
        return "No persist probe.".to_string();
    }
    let frames: Vec<String> = w.persist_probes.iter().map(u64::to_string).collect();
    let mut text = format!(
        "{} (Wireshark labels them keep-alives): frame(s) {}.",
        count(w.persist_probes.len(), "persist probe", "persist probes"),
        listed(&frames, ", ")
    );
    if let Some(pcap) = r.report.saved.as_ref().and_then(|s| s.pcap) {
        let _ = write!(
            text,
            " `recvscope replay {} --conn {}` lists them.",
            pcap.display(),
            w.connection
        );
    }
    text
}

fn reopenings(r: &PageRun<'_>) -> String {
    let Some(w) = &r.guide.wire else {
        return NO_CAPTURE.to_string();
    };
    if w.reopenings.is_empty() {
        return "No recv reopened a closed window.".to_string();
    }
    let items: Vec<String> = w
        .reopenings
        .iter()
        .map(|o| {
            format!(
                "recv {} (called at {} ms) caused window 0 -> {} in frame {}, {} ms after it started",
                o.recv,
                ms_tenths(o.recv_ns),
                o.to,
                o.frame,
                ms(o.delay_ns() as f64)
            )
        })
        .collect();
    format!("{}.", listed(&items, "; "))
}

fn throttled(r: &PageRun<'_>) -> String {
    let Some(w) = &r.report.summary.wire else {
        return NO_CAPTURE.to_string();
    };
    let figures = format!(
        "{}, {}",
        count(
            w.zero_window_stalls as usize,
            "zero-window stall",
            "zero-window stalls"
        ),
        count(
            w.window_full_segments as usize,
            "window-full segment",
            "window-full segments"
        )
    );
    format!(
        "The smallest window the client advertised was {} bytes. {}",
        opt(w.smallest_window),
        match w.limited_by() {
            LimitedBy::Receiver => format!("Yes: the receiver set the pace ({figures})."),
            other => format!(
                "No: the {} set the pace ({figures}).",
                crate::findings::limited_by(other)
            ),
        }
    )
}

fn slow_sender(r: &PageRun<'_>) -> String {
    let s = r.report.summary;
    let g = r.guide;
    let mut text = format!(
        "{} of {} recvs returned less than {} bytes, {} bytes on average; {}.",
        g.short_recvs.len(),
        s.recvs,
        g.asked,
        s.bytes / s.recvs.max(1) as u64,
        took_all_queued(g)
    );
    match &s.wire {
        Some(w) => {
            let _ = write!(
                text,
                " {}, {}; the smallest window advertised was {} bytes of the {} Linux gave the buffer.",
                count(
                    w.window_full_segments as usize,
                    "window-full segment",
                    "window-full segments"
                ),
                count(
                    w.zero_window_stalls as usize,
                    "zero-window stall",
                    "zero-window stalls"
                ),
                opt(w.smallest_window),
                s.rcvbuf.given
            );
        }
        None => {
            let _ = write!(text, " {NO_CAPTURE}");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::page::tests::built_page;
    use recvscope_analysis::Rcvbuf;
    use recvscope_analysis::lab_run::{WireFigures, summarize};
    use recvscope_tcp::{Pace, PaceSetter, Retransmissions, WindowEvidence};

    #[test]
    fn the_page_answers_the_guides_questions_from_the_runs_figures() {
        let (html, _) = built_page("book");
        let answer = |label: &str, text: &str| {
            format!("<li><b>{}</b>: {}</li>", escape(label), escape(text))
        };
        let a = "a<b & \"c\"";
        for (label, text) in [
            (
                a,
                "2 recv() calls returned data: 0 the full 5120 bytes asked for, 2 fewer; all 2 took every byte queued in the receive buffer when they were called: recv() returns what is there, up to the size asked.",
            ),
            (
                "no capture",
                "recv 1: 1880 bytes, 1880 queued, window unknown.",
            ),
            (a, "It asked for 4096 bytes (SO_RCVBUF); Linux gave 8192."),
            (
                "no capture",
                "It asked for none (the kernel's default, autotuned); Linux gave 0.",
            ),
            (
                a,
                "After recv 0: its first zero-window segment, frame 6, was sent 2.0 ms after the request.",
            ),
            ("no capture", NO_CAPTURE),
            (
                a,
                "1 persist probe (Wireshark labels them keep-alives): frame(s) 7. `recvscope replay runs/lab-x/a.pcap --conn 0` lists them.",
            ),
            (
                a,
                "recv 1 (called at 30.0 ms) caused window 0 -> 4000 in frame 9, 1.000 ms after it started.",
            ),
            (a, "242 + 4 + 1254 = 1500, the last running total."),
            (
                "no capture",
                "242 + 4 + 6754 = 7000, the last running total.",
            ),
            (
                a,
                "Yes, 1: frame(s) 11, flagged by Wireshark's tcp.analysis.retransmission rules, which recvscope follows.",
            ),
        ] {
            let line = answer(label, text);
            assert!(html.contains(&line), "{line}");
        }
        let stalls = captured_runs_stall_answer(&html);
        assert!(
            stalls.ends_with(" The server&apos;s kernel counted 28.0 ms of its 40.0 ms busy as limited by the receive window (rwnd-limited).</li>"),
            "{stalls}"
        );
        assert!(
            !html.contains("Step 3"),
            "the book lab has no step-3 question"
        );
    }

    /// Question 5's answer for the captured run.
    fn captured_runs_stall_answer(html: &str) -> String {
        let q = html.find("5. How many times").expect("question 5");
        html[q..]
            .lines()
            .find(|l| l.starts_with("<li>"))
            .expect("an answer")
            .to_string()
    }

    #[test]
    fn step_three_asks_buffer_size_where_the_reader_stops_limiting_and_slow_sender_why_recvs_are_small()
     {
        let wire = |zero_windows, receiver_limited| WireFigures {
            zero_window_segments: zero_windows,
            zero_window_stalls: zero_windows,
            zero_window_stall_ns: 0,
            window_full_segments: 0,
            window_updates: 0,
            persist_probes: 0,
            smallest_window: Some(4096),
            pace: Pace {
                set_by: if receiver_limited {
                    PaceSetter::Receiver(WindowEvidence::default())
                } else {
                    PaceSetter::Sender
                },
                retransmissions: Retransmissions::default(),
            },
        };
        let run = |label: &str, effective, w| RunSummary {
            wire: Some(w),
            ..summarize(
                label,
                Rcvbuf {
                    asked: None,
                    given: effective,
                },
                &[],
                None,
            )
        };
        let summaries = [
            run("4 KiB", 8192, wire(12, true)),
            run("64 KiB", 131072, wire(0, false)),
        ];
        let exp = Experiment {
            name: "buffer-size",
            summary: "",
            look_for: &[],
            runs: &[],
        };
        let answer = |from| {
            let mut h = String::new();
            step_three(&mut h, &exp, &[], &summaries, from);
            h
        };
        assert!(answer(Some(1)).ends_with("<p>From 64 KiB on (Linux gave 131072 bytes): in that run and every later one there was no zero-window stall and the sender set the pace.</p>\n"));
        assert!(answer(None).ends_with("<p>In none of these runs: even 64 KiB had a zero-window stall or was limited by the receiver.</p>\n"));
        let (html, _) = built_page("slow-sender");
        assert!(html.contains("<p class=\"q\">Why are the recv sizes small when the server is slow, and why does the window never fill?</p>"));
        assert!(html.contains(&format!(
            "<li><b>no capture</b>: {}</li>",
            escape(&format!("1 of 2 recvs returned less than 5120 bytes, 3500 bytes on average; it took every byte queued in the receive buffer when it was called. {NO_CAPTURE}"))
        )));
        assert!(html.contains(&escape("2 of 2 recvs returned less than 5120 bytes, 750 bytes on average; all 2 took every byte queued in the receive buffer when they were called. 0 window-full segments, 1 zero-window stall; the smallest window advertised was 0 bytes of the 8192 Linux gave the buffer.")));
    }
}
