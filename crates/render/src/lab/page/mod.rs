//! `lab --html FILE`: one self-contained page for an experiment, its runs
//! side by side. The header as the book prints it, the recv sizes as the
//! book prints them, each run's time-sequence graph, the comparison table,
//! what to look for, what happened, the lab guide's questions answered from
//! the runs' figures, every recv next to the wire, and the commands and
//! files of the runs. The sections and the table are the text report's;
//! inline CSS and SVG, no script, no external resource.

mod answers;

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use recvscope_analysis::ConnectionSummary;
use recvscope_analysis::lab_guide::RunGuide;
use recvscope_analysis::lab_run::RunSummary;

use super::experiments::Experiment;
use super::{
    BY_HAND, HAPPENED, LOOK_FOR, RECVS, RunReport, SAVED, SIDE_BY_SIDE, book_lines, comparison,
};
use crate::fetch::book_header;
use crate::graph::{AppRecvs, STYLE, escape, how_to_read, time_sequence_svg};
use crate::recv_table::{COLUMNS, cells};

/// The page's own style, after the graph pages' [`STYLE`]: wider, with
/// the runs in columns.
const PAGE_STYLE: &str = "
body { max-width: 1500px; }
.runs { display: grid; grid-template-columns: repeat(auto-fit, minmax(24em, 1fr)); gap: 0 1.5em; }
.runs.graphs { grid-template-columns: repeat(auto-fit, minmax(34em, 1fr)); }
.runs > section { min-width: 0; }
h3 { font-size: 1em; margin: 1em 0 0.3em; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: 0.5em; overflow-x: auto; font-size: 0.85em; }
p.q { font-weight: bold; margin: 1em 0 0.2em; }
figcaption { font-weight: bold; }
details { margin: 0.5em 0; }
";

/// What a run without a capture shows in place of its graph and of the
/// answers that need the wire.
const NO_CAPTURE: &str = "No capture: the wire's figures are not available.";

/// One run of an experiment as its page shows it.
pub struct PageRun<'a> {
    /// The run as the text report tells it.
    pub report: &'a RunReport<'a>,
    /// The captured connection, for the graph; `None` without a capture.
    pub connection: Option<&'a ConnectionSummary>,
    /// When the request was sent, on the capture's clock (the recv rows
    /// count from it).
    pub request_ts_ns: i64,
    /// The figures that answer the lab guide's questions.
    pub guide: &'a RunGuide,
}

/// The page of experiment `exp` after its `runs`; `unlimited_from` is
/// [`recvscope_analysis::lab_guide::unlimited_from`] of their summaries.
pub fn page(exp: &Experiment, runs: &[PageRun<'_>], unlimited_from: Option<usize>) -> String {
    let mut h = String::new();
    let title = format!("Lab {:?}: {}", exp.name, exp.summary);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>{t}</title>\n<style>{STYLE}{PAGE_STYLE}</style>\n</head>\n<body>\n<h1>{t}</h1>\n<p class=\"note\">recvscope {}: TCP flow control on the wire next to what the application sees. One column per run.</p>\n",
        env!("CARGO_PKG_VERSION"),
        t = escape(&title),
    );
    headers(&mut h, runs);
    recv_sizes(&mut h, runs);
    graphs(&mut h, runs);
    let summaries: Vec<RunSummary> = runs.iter().map(|r| r.report.summary.clone()).collect();
    table(&mut h, &summaries);
    let _ = writeln!(h, "<h2 id=\"look-for\">{}</h2>\n<ul>", escape(LOOK_FOR));
    let reports: Vec<&RunReport<'_>> = runs.iter().map(|r| r.report).collect();
    for line in super::look_for_lines(exp, &reports) {
        let _ = writeln!(h, "<li>{}</li>", escape(&line));
    }
    h.push_str("</ul>\n");
    each_run(&mut h, "happened", HAPPENED, runs, |h, r| {
        h.push_str("<ul>\n");
        for line in r.report.explanation {
            let _ = writeln!(h, "<li>{}</li>", escape(line));
        }
        h.push_str("</ul>\n");
    });
    answers::answers(&mut h, exp, runs, &summaries, unlimited_from);
    recv_rows(&mut h, runs);
    each_run(&mut h, "by-hand", BY_HAND, runs, |h, r| {
        let _ = writeln!(h, "<pre>{}</pre>", escape(&r.report.commands.join("\n")));
    });
    saved(&mut h, runs);
    h.push_str("</body>\n</html>\n");
    h
}

/// The error when the page's file exists and `--force` was not given.
pub fn page_exists(path: &Path) -> String {
    format!(
        "{} already exists; pass --force to replace it, or --html another FILE",
        path.display()
    )
}

/// The line that says where the page went.
pub fn page_written(out: &mut dyn Write, path: &Path) -> io::Result<()> {
    writeln!(
        out,
        "\nThe experiment's page (open it in a browser): {}",
        path.display()
    )
}

/// A section with one column per run, each under its label.
fn each_run(
    h: &mut String,
    id: &str,
    heading: &str,
    runs: &[PageRun<'_>],
    mut column: impl FnMut(&mut String, &PageRun<'_>),
) {
    let _ = writeln!(
        h,
        "<h2 id=\"{id}\">{}</h2>\n<div class=\"runs\">",
        escape(heading)
    );
    for r in runs {
        let _ = writeln!(h, "<section>\n<h3>{}</h3>", escape(r.report.label));
        column(h, r);
        h.push_str("</section>\n");
    }
    h.push_str("</div>\n");
}

fn headers(h: &mut String, runs: &[PageRun<'_>]) {
    each_run(
        h,
        "header",
        "Header Length and the header, as the book prints them",
        runs,
        |h, r| {
            let text = book_header(r.guide.arithmetic.header_length, r.report.header);
            let _ = writeln!(h, "<pre>{}</pre>", escape(&text));
        },
    );
}

fn recv_sizes(h: &mut String, runs: &[PageRun<'_>]) {
    let _ = writeln!(
        h,
        "<h2 id=\"recvs\">{}</h2>\n<table id=\"book-lines\">\n<tr><th rowspan=\"2\">recv</th>",
        escape(RECVS)
    );
    for r in runs {
        let _ = write!(h, "<th colspan=\"2\">{}</th>", escape(r.report.label));
    }
    h.push_str("</tr>\n<tr>");
    for _ in runs {
        h.push_str("<th>size</th><th>total</th>");
    }
    h.push_str("</tr>\n");
    let lines: Vec<Vec<(u64, u64)>> = runs
        .iter()
        .map(|r| {
            book_lines(r.report.rows)
                .map(|row| (row.bytes, row.total))
                .collect()
        })
        .collect();
    let longest = lines.iter().map(Vec::len).max().unwrap_or(0);
    for i in 0..longest {
        let _ = write!(h, "<tr><td class=\"n\">{i}</td>");
        for run in &lines {
            match run.get(i) {
                Some((bytes, total)) => {
                    let _ = write!(
                        h,
                        "<td class=\"n\">{bytes}</td><td class=\"n\">{total}</td>"
                    );
                }
                None => h.push_str("<td></td><td></td>"),
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
}

/// `svg` with its ids and the references to them prefixed, so that the
/// graphs of several runs can share one page (the renderer's ids are the
/// same in every graph).
fn scoped(svg: &str, prefix: &str) -> String {
    svg.replace(" id=\"", &format!(" id=\"{prefix}"))
        .replace("url(#", &format!("url(#{prefix}"))
}

fn graphs(h: &mut String, runs: &[PageRun<'_>]) {
    h.push_str(
        "<h2 id=\"graphs\">Each run's time-sequence graph</h2>\n<div class=\"runs graphs\">\n",
    );
    for (i, r) in runs.iter().enumerate() {
        let _ = writeln!(
            h,
            "<figure>\n<figcaption>{}</figcaption>",
            escape(r.report.label)
        );
        match r.connection {
            Some(conn) => {
                let app = AppRecvs {
                    rows: r.report.rows,
                    request_ts_ns: r.request_ts_ns,
                };
                let svg = time_sequence_svg(conn, Some(app));
                h.push_str(&scoped(&svg, &format!("run{i}-")));
            }
            None => {
                let _ = writeln!(h, "<p class=\"note\">{}</p>", escape(NO_CAPTURE));
            }
        }
        h.push_str("</figure>\n");
    }
    h.push_str("</div>\n");
    how_to_read(h, true);
}

fn table(h: &mut String, summaries: &[RunSummary]) {
    let _ = writeln!(
        h,
        "<h2 id=\"comparison\">{}</h2>\n<table id=\"comparison-table\">",
        escape(SIDE_BY_SIDE)
    );
    for (i, row) in comparison(summaries).iter().enumerate() {
        let _ = write!(h, "<tr><th>{}</th>", escape(&row.measure));
        for c in &row.cells {
            if i == 0 {
                let _ = write!(h, "<th>{}</th>", escape(c));
            } else {
                let _ = write!(h, "<td class=\"n\">{}</td>", escape(c));
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
}

fn recv_rows(h: &mut String, runs: &[PageRun<'_>]) {
    h.push_str("<h2 id=\"rows\">Each recv() next to the wire</h2>\n<p class=\"note\">ms since the request; queued: bytes waiting in the socket before the call; wire: bytes delivered in order when it returned; frames: those that carried its bytes; window: last advertised by the client before the call; kernel: TCP_INFO rcv_wnd before the call.</p>\n");
    for r in runs {
        let _ = write!(
            h,
            "<details>\n<summary>{}</summary>\n<table>\n<tr>",
            escape(r.report.label)
        );
        for c in COLUMNS {
            let _ = write!(h, "<th>{c}</th>");
        }
        h.push_str("</tr>\n");
        for row in r.report.rows {
            let class = if row.stalled.is_some() {
                " class=\"stalled\""
            } else {
                ""
            };
            let _ = write!(h, "<tr{class}>");
            for c in cells(row) {
                let _ = write!(h, "<td>{}</td>", escape(&c));
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</table>\n</details>\n");
    }
}

fn saved(h: &mut String, runs: &[PageRun<'_>]) {
    let _ = writeln!(h, "<h2 id=\"saved\">{}</h2>\n<ul>", escape(SAVED));
    for r in runs {
        let mut files: Vec<&Path> = Vec::new();
        if let Some(s) = &r.report.saved {
            files.extend(s.pcap);
            files.push(s.log);
        }
        files.extend(r.report.pictures.iter().map(PathBuf::as_path));
        if !files.is_empty() {
            let names: Vec<String> = files
                .iter()
                .map(|f| format!("<code>{}</code>", escape(&f.display().to_string())))
                .collect();
            let _ = writeln!(
                h,
                "<li><b>{}</b>: {}</li>",
                escape(r.report.label),
                names.join(" ")
            );
        }
    }
    h.push_str("</ul>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::SavedRun;
    use crate::lab::experiments::LookFor;
    use recvscope_analysis::correlate::{RecvRow, Stall, WindowUpdate};
    use recvscope_analysis::lab_guide::{Head, run_guide};
    use recvscope_analysis::lab_run::{SenderTimes, summarize};
    use recvscope_analysis::lesson::lesson;
    use recvscope_analysis::{Rcvbuf, RecvEvent};
    use recvscope_testkit::{Pkt, Trace};

    fn row(index: u64, t_ms: i64, bytes: u64, total: u64, queued: u64) -> RecvRow {
        let t = t_ms * 1_000_000;
        RecvRow::socket_side(
            &RecvEvent {
                queued_before: Some(queued),
                ..RecvEvent::new(index, t, t + 100_000, 5120, bytes, total)
            },
            0,
        )
    }

    /// A download whose client closes its window after the first segment
    /// and reopens it 30 ms later; the server probes once, then sends the
    /// rest twice.
    fn stalled_download() -> ConnectionSummary {
        let mut t = Trace::new();
        t.push(Pkt::c2s(1000, b"").syn())
            .push(Pkt::s2c(9000, b"").syn().ack(1001))
            .push(Pkt::c2s(1001, b"").ack(9001))
            .push(Pkt::c2s(1001, b"GET / HTTP/1.0\r\n\r\n").ack(9001))
            .push(Pkt::s2c(9001, &[b'x'; 1000]).ack(1019))
            .push(Pkt::c2s(1019, b"").ack(10_001).window(0))
            .at(10_000, Pkt::s2c(10_000, b"").ack(1019))
            .push(Pkt::c2s(1019, b"").ack(10_001).window(0))
            .at(20_000, Pkt::c2s(1019, b"").ack(10_001).window(4000))
            .push(Pkt::s2c(10_001, &[b'y'; 500]).ack(1019).fin())
            .push(Pkt::s2c(10_001, &[b'y'; 500]).ack(1019).fin())
            .push(Pkt::c2s(1019, b"").ack(10_502).fin());
        crate::tests::report(&t).connections.remove(0)
    }

    /// The captured run's recvs: the first takes the first segment, the
    /// second ends the stall and reopens the window.
    fn captured_rows() -> Vec<RecvRow> {
        let mut reopening = row(1, 30, 500, 1500, 0);
        reopening.stalled = Some(Stall {
            since_ns: 2_000_000,
            for_ns: 28_000_000,
        });
        reopening.window_update = Some(WindowUpdate {
            t_ns: 31_000_000,
            frame: 9,
            from: 0,
            to: 4000,
            pure: true,
        });
        vec![
            row(0, 1, 1000, 1000, 1000),
            reopening,
            row(2, 40, 0, 1500, 0),
        ]
    }

    const HEAD: Head = Head {
        header_length: 242,
        blank_line: 4,
        body_bytes: 1254,
    };

    /// The page of lab `name` after a captured run and one without a
    /// capture, with texts that need escaping.
    pub(super) fn built_page(name: &'static str) -> (String, Vec<RunSummary>) {
        let conn = stalled_download();
        let rows_a = captured_rows();
        let rows_b = [
            row(0, 0, 5120, 5120, 8000),
            row(1, 250, 1880, 7000, 1880),
            row(2, 500, 0, 7000, 0),
        ];
        let rcvbuf = Rcvbuf {
            asked: Some(4096),
            given: 8192,
        };
        let summaries = vec![
            summarize("a<b & \"c\"", rcvbuf, &rows_a, Some(&conn)).with_kernel(
                Some(SenderTimes {
                    busy_us: 40_000,
                    rwnd_limited_us: 28_000,
                    sndbuf_limited_us: 0,
                }),
                200_000_000,
            ),
            summarize("no capture", Rcvbuf::default(), &rows_b, None),
        ];
        let guides = [
            run_guide(&rows_a, Some(&conn), 4_000_000, HEAD),
            run_guide(
                &rows_b,
                None,
                0,
                Head {
                    body_bytes: 6754,
                    ..HEAD
                },
            ),
        ];
        let commands = [
            [
                "recvscope serve --port 8080".to_string(),
                "sudo recvscope fetch http://127.0.0.1:8080/cover3.jpg".to_string(),
            ],
            [
                "recvscope serve".to_string(),
                "recvscope fetch <x>".to_string(),
            ],
        ];
        let pcap = PathBuf::from("runs/lab-x/a.pcap");
        let log = PathBuf::from("runs/lab-x/a.recv.jsonl");
        let explanations = [
            vec!["The window closed & reopened.".to_string()],
            vec!["No <wire>.".to_string()],
        ];
        let lessons = [
            lesson(&rows_a, Some(&conn), 4_000_000),
            lesson(&rows_b, None, 0),
        ];
        let head =
            recvscope_wire::WireText::from("HTTP/1.1 200 OK\r\nX-Test: <script>alert(1)</script>");
        let reports: Vec<RunReport<'_>> = (0..2)
            .map(|i| RunReport {
                label: &summaries[i].label,
                rows: if i == 0 { &rows_a } else { &rows_b },
                summary: &summaries[i],
                lesson: &lessons[i],
                header: &head,
                arithmetic: &guides[i].arithmetic,
                explanation: &explanations[i],
                commands: &commands[i],
                saved: (i == 0).then(|| SavedRun {
                    pcap: Some(pcap.as_path()),
                    log: &log,
                }),
                pictures: &[],
            })
            .collect();
        let runs: Vec<PageRun<'_>> = (0..2)
            .map(|i| PageRun {
                report: &reports[i],
                connection: (i == 0).then_some(&conn),
                request_ts_ns: if i == 0 { 4_000_000 } else { 0 },
                guide: &guides[i],
            })
            .collect();
        let exp = Experiment {
            name,
            summary: "recv & <sleep>",
            look_for: &[LookFor {
                run: None,
                text: "Look for the <zero> window.",
                claims: &[],
            }],
            runs: &[],
        };
        (page(&exp, &runs, None), summaries)
    }

    #[test]
    fn the_page_shows_the_text_tables_rows_every_recv_size_and_the_graph_of_each_captured_run() {
        let (html, summaries) = built_page("book");
        for (i, r) in comparison(&summaries).iter().enumerate() {
            let cell = if i == 0 { "th" } else { "td class=\"n\"" };
            let end = if i == 0 { "th" } else { "td" };
            let cells: String = r
                .cells
                .iter()
                .map(|c| format!("<{cell}>{}</{end}>", escape(c)))
                .collect();
            let line = format!("<tr><th>{}</th>{cells}</tr>", escape(&r.measure));
            assert!(html.contains(&line), "{line}");
        }
        for line in [
            "<tr><th></th><th>a&lt;b &amp; &quot;c&quot;</th><th>no capture</th></tr>",
            "<tr><th>recv calls with data</th><td class=\"n\">2</td><td class=\"n\">2</td></tr>",
            "<tr><th>full-size recvs</th><td class=\"n\">0</td><td class=\"n\">1</td></tr>",
            "<tr><th>bytes</th><td class=\"n\">1500</td><td class=\"n\">7000</td></tr>",
        ] {
            assert!(html.contains(line), "{line}");
        }
        for line in [
            "<tr><td class=\"n\">0</td><td class=\"n\">1000</td><td class=\"n\">1000</td><td class=\"n\">5120</td><td class=\"n\">5120</td></tr>",
            "<tr><td class=\"n\">1</td><td class=\"n\">500</td><td class=\"n\">1500</td><td class=\"n\">1880</td><td class=\"n\">7000</td></tr>",
        ] {
            assert!(html.contains(line), "{line}");
        }
        assert!(
            !html.contains("<tr><td class=\"n\">2</td>"),
            "no line for the closing recv"
        );
        assert_eq!(
            html.matches("<svg").count(),
            1,
            "one graph: one run was captured"
        );
        assert_eq!(html.matches(" id=\"run0-plot-top\"").count(), 1);
        assert!(html.contains("clip-path=\"url(#run0-plot-top)\""));
        assert!(!html.contains(" id=\"plot-top\""));
        assert!(html.contains(&escape(NO_CAPTURE)));
        assert!(html.contains(
            "<pre>Header Length 242\nHTTP/1.1 200 OK\nX-Test: &lt;script&gt;alert(1)&lt;/script&gt;</pre>"
        ));
    }

    #[test]
    fn the_page_escapes_every_text_and_loads_nothing_from_elsewhere() {
        let (html, _) = built_page("book");
        assert!(!html.contains("<script"), "the header's script is text");
        assert!(!html.contains("<zero>") && !html.contains("<wire>") && !html.contains("<sleep>"));
        assert!(html.contains("<li>Look for the &lt;zero&gt; window.</li>"));
        assert!(html.contains("<li>No &lt;wire&gt;.</li>"));
        assert!(html.contains("<h1>Lab &quot;book&quot;: recv &amp; &lt;sleep&gt;</h1>"));
        assert!(html.contains("<pre>recvscope serve\nrecvscope fetch &lt;x&gt;</pre>"));
        for loads in [
            "src=", "href=", "@import", "<link", "<img", "<iframe", "<object", "<embed",
        ] {
            assert!(!html.contains(loads), "{loads}");
        }
        assert_eq!(
            html.matches("url(").count(),
            html.matches("url(#run0-").count(),
            "only references inside the page"
        );
        let urls: Vec<&str> = html
            .match_indices("http")
            .map(|(i, _)| &html[i..i + 25])
            .collect();
        assert_eq!(
            urls,
            ["http://www.w3.org/2000/sv", "http://127.0.0.1:8080/cov"],
            "the SVG namespace and the command's text"
        );
        assert!(html.contains("<li><b>a&lt;b &amp; &quot;c&quot;</b>: <code>runs/lab-x/a.pcap</code> <code>runs/lab-x/a.recv.jsonl</code></li>"));
    }
}
