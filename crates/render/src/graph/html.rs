//! One self-contained HTML page: the graph inline, how to read it, the
//! connection's report and the recv table. Inline CSS, no scripts, no
//! external resources, so it can be mailed or opened from a USB stick.

use std::fmt::Write;

use crate::recv_table::{COLUMNS, cells};
use crate::shown::{shown, shown_or_dash};
use crate::units::ms_tenths;
use recvscope_analysis::ConnectionSummary;
use recvscope_analysis::correlate::RecvRow;
use recvscope_tcp::Flag;

use super::svg::escape;
use crate::facts::connection_facts;

/// The pages' inline style sheet.
pub(crate) const STYLE: &str = "
body { font-family: 'DejaVu Sans', Verdana, sans-serif; margin: 1.5em auto; max-width: 1100px; color: #222; padding: 0 1em; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
figure { margin: 1em 0; }
figure svg { width: 100%; height: auto; border: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.zero td { color: #999; }
tr.stalled td { background: #fff3e6; }
.key { display: inline-block; width: 1.6em; height: 0.9em; vertical-align: middle; margin-right: 0.4em; }
ul.read li { margin: 0.3em 0; }
p.note { color: #555; font-size: 0.9em; }
";

/// The page for one connection: `svg` from
/// [`time_sequence_svg`](super::time_sequence_svg), `conn`'s report as
/// tables, and the recv table with its `explanation` when there are recvs.
pub fn html_page(
    title: &str,
    svg: &str,
    conn: &ConnectionSummary,
    recvs: Option<&[RecvRow]>,
    explanation: &[String],
) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n<p class=\"note\">recvscope {}: TCP flow control on the wire next to what the application sees.</p>\n",
        escape(title),
        escape(title),
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(h, "<figure>\n{svg}</figure>");
    how_to_read(&mut h, recvs.is_some());
    connection(&mut h, conn);
    flags(&mut h, conn);
    http(&mut h, conn);
    if let Some(rows) = recvs {
        recv_table(&mut h, rows, explanation);
    }
    h.push_str("</body>\n</html>\n");
    h
}

fn key(colour: &str) -> String {
    format!("<span class=\"key\" style=\"background:{colour}\"></span>")
}

/// The graph's legend in words, as a section; `with_recvs` adds the
/// application's marks.
pub(crate) fn how_to_read(h: &mut String, with_recvs: bool) {
    h.push_str("<h2>How to read the graph</h2>\n<ul class=\"read\">\n");
    let items = [
        (
            "#0072B2",
            "<b>Blue bars</b>: each data segment the server sent, drawn from its first to its last byte. Steep stairs of bars mean fast sending; a flat stretch means the sender was waiting.",
        ),
        (
            "#CC79A7",
            "<b>Purple bars</b>: segments sent again (retransmissions).",
        ),
        (
            "#009E73",
            "<b>Green line (ACK)</b>: how many bytes the client's TCP has received and acknowledged.",
        ),
        (
            "#E69F00",
            "<b>Orange line (window limit)</b>: ACK + the receive window the client advertised. The server may not send above it: this is flow control.",
        ),
        (
            "#F7E2B8",
            "<b>Shaded band</b>: the room the server may still fill, between the green and orange lines. It vanishes when the window is zero.",
        ),
        (
            "#D55E00",
            "<b>▼ Zero-window segment</b>: the client advertises a window of zero (Wireshark's tcp.analysis.zero_window): its receive buffer is full; the orange line has come down onto the green one and the server must stop.",
        ),
        (
            "#F0E442",
            "<b>▲ Window update</b>: the client has room again and says so (Wireshark's tcp.analysis.window_update); the orange line jumps up and data flows again.",
        ),
    ];
    for (colour, text) in items {
        let _ = writeln!(h, "<li>{}{text}</li>", key(colour));
    }
    if with_recvs {
        let _ = writeln!(
            h,
            "<li>{}<b>Black line and dots</b>: the bytes the application has taken with recv(), one dot per call. The gap between the green and black lines is data waiting in the receive buffer.</li>",
            key("#000000")
        );
        let _ = writeln!(
            h,
            "<li>{}<b>Lower panel, bars</b>: how many bytes each recv() returned (left axis).</li>",
            key("#56B4E9")
        );
    }
    let _ = writeln!(
        h,
        "<li>{}<b>Lower panel, orange line</b>: the receive window the client advertised, in bytes (right axis). It falls as data waits unread and rises when the application reads.</li>\n</ul>",
        key("#E69F00")
    );
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

fn row(h: &mut String, name: &str, value: &str) {
    let _ = writeln!(
        h,
        "<tr><th>{}</th><td>{}</td></tr>",
        escape(name),
        escape(value)
    );
}

fn connection(h: &mut String, c: &ConnectionSummary) {
    let _ = writeln!(
        h,
        "<h2>Connection #{}</h2>\n<table id=\"connection\">",
        c.tcp.id
    );
    row(h, "client", &c.tcp.client);
    row(h, "server", &c.tcp.server);
    row(
        h,
        "duration",
        &format!(
            "{} ms, from frame {}",
            ms_tenths(c.tcp.duration_ns),
            c.tcp.first_frame
        ),
    );
    row(
        h,
        "packets",
        &format!(
            "client {}, server {}",
            c.tcp.packets.client, c.tcp.packets.server
        ),
    );
    for f in connection_facts(c) {
        row(h, f.label, &f.value);
    }
    h.push_str("</table>\n");
}

fn flags(h: &mut String, c: &ConnectionSummary) {
    h.push_str("<h2>Analysis flags (Wireshark's tcp.analysis.*)</h2>\n<table id=\"flags\">\n<tr><th>flag</th><th>sent by the client</th><th>sent by the server</th><th>total</th></tr>\n");
    for f in Flag::ALL {
        let (client, server) = (
            c.tcp.flags_by_direction.client.get(f),
            c.tcp.flags_by_direction.server.get(f),
        );
        let _ = writeln!(
            h,
            "<tr{}><td>{}</td><td class=\"n\">{client}</td><td class=\"n\">{server}</td><td class=\"n\">{}</td></tr>",
            if client + server == 0 {
                " class=\"zero\""
            } else {
                ""
            },
            f.name(),
            c.tcp.flags.get(f)
        );
    }
    h.push_str("</table>\n");
}

fn http(h: &mut String, c: &ConnectionSummary) {
    if c.http.is_empty() {
        return;
    }
    h.push_str("<h2>HTTP</h2>\n<table id=\"http\">\n<tr><th>#</th><th>request</th><th>status</th><th>content type</th><th>header length</th><th>body bytes</th><th>complete</th></tr>\n");
    for x in &c.http {
        let request = format!(
            "{} {} {}",
            shown_or_dash(x.method.as_ref()),
            shown_or_dash(x.uri.as_ref()),
            shown_or_dash(x.version.as_ref())
        );
        let status = if x.response_head_missing {
            crate::http_words::RESPONSE_HEAD_MISSING.to_string()
        } else {
            format!(
                "{} {}",
                opt(x.status),
                x.reason
                    .as_ref()
                    .map(shown)
                    .map(|r| r.to_string())
                    .unwrap_or_default()
            )
        };
        let _ = writeln!(
            h,
            "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            x.index,
            escape(&request),
            escape(&status),
            escape(&shown_or_dash(x.content_type.as_ref())),
            opt(x.header_length),
            x.body_bytes,
            if x.complete { "yes" } else { "no" }
        );
    }
    h.push_str("</table>\n");
}

fn recv_table(h: &mut String, rows: &[RecvRow], explanation: &[String]) {
    h.push_str("<h2>Each recv() next to the wire</h2>\n<p class=\"note\">ms since the request; queued: bytes waiting in the socket before the call; wire: bytes delivered in order when it returned; frames: those that carried its bytes; window: last advertised by the client before the call; kernel: TCP_INFO rcv_wnd before the call.</p>\n<table id=\"recvs\">\n<tr>");
    for c in COLUMNS {
        let _ = write!(h, "<th>{c}</th>");
    }
    h.push_str("</tr>\n");
    for r in rows {
        let class = if r.stalled.is_some() {
            " class=\"stalled\""
        } else {
            ""
        };
        let _ = write!(h, "<tr{class}>");
        let cells = cells(r);
        for (i, c) in cells.iter().enumerate() {
            let numeric = if matches!(i, 7 | 10) {
                ""
            } else {
                " class=\"n\""
            };
            let _ = write!(h, "<td{numeric}>{}</td>", escape(c));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
    if !explanation.is_empty() {
        h.push_str("<h2>What happened</h2>\n<ul>\n");
        for line in explanation {
            let _ = writeln!(h, "<li>{}</li>", escape(line));
        }
        h.push_str("</ul>\n");
    }
}
