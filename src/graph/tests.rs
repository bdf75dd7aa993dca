//! The graph and the page drawn from the repository's own captures, parsed
//! back as XML to check what is on them.

use std::path::{Path, PathBuf};

use roxmltree::{Document, Node, ParsingOptions};

use super::*;
use crate::analysis::NoBodies;
use crate::capture::records::Reading;
use crate::correlate::{self, RecvRow};
use crate::recvlog::RecvEvent;
use crate::replay::analyse_file;
use crate::report::graph::terminal_chart;
use crate::tcp::{Flag, FlagSet, PacketRecord};
use crate::wire::{Side, TcpFlags};

fn capture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name)
}

/// Connection 0 of a capture, listed packet by packet.
fn listed(name: &str) -> ConnectionSummary {
    let (report, _) =
        analyse_file(&capture(name), Some(0), Reading::Ahead, &mut NoBodies).expect(name);
    let conn = report.connections.into_iter().next().expect("a connection");
    assert!(conn.packet_list.is_some());
    conn
}

fn rows(conn: &ConnectionSummary) -> &[PacketRecord] {
    conn.packet_list.as_deref().expect("packet list")
}

/// The slow reader's real recv sizes (from its client log) at made-up but
/// plausible times: the first as the data arrives, then two just before
/// each window update (reading is what reopens the window), and the
/// closing recv() returning 0 after the last packet.
fn slow_reader_recvs(conn: &ConnectionSummary) -> (Vec<RecvRow>, i64) {
    let log = std::fs::read_to_string(capture("logs/book-slow-reader.client.txt")).expect("log");
    let sizes: Vec<u64> = log
        .lines()
        .skip(1)
        .map_while(|l| l.split_whitespace().next()?.parse().ok())
        .collect();
    assert_eq!(sizes.len(), 22);
    let rows = rows(conn);
    let request = rows.iter().find(|r| r.len > 0).expect("request").ts_ns;
    let updates: Vec<i64> = rows
        .iter()
        .filter(|r| r.analysis.contains(Flag::WindowUpdate))
        .map(|r| r.ts_ns)
        .collect();
    let mut times = vec![rows[8].ts_ns + 1_000];
    for u in &updates {
        times.extend([u - 60_000, u - 30_000]);
    }
    let last = rows.last().expect("rows").ts_ns;
    let mut total = 0;
    let mut events: Vec<RecvEvent> = sizes
        .iter()
        .chain(&[0])
        .enumerate()
        .map(|(i, &bytes)| {
            total += bytes;
            let start = times.get(i).copied().unwrap_or(last + 1_000_000);
            RecvEvent {
                index: i as u64,
                start_ns: start,
                end_ns: start + 5_000,
                asked: 5120,
                bytes,
                total,
                queued_before: Some(bytes),
                tcp_info: None,
            }
        })
        .collect();
    events.sort_by_key(|e| e.start_ns);
    (correlate::correlate(request, &events, Some(rows)), request)
}

fn parse(xml: &str) -> Document<'_> {
    Document::parse_with_options(
        xml,
        ParsingOptions {
            allow_dtd: true,
            ..ParsingOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("not well-formed XML: {e}"))
}

fn by_id<'a, 'i>(doc: &'a Document<'i>, id: &str) -> Option<Node<'a, 'i>> {
    doc.descendants().find(|n| n.attribute("id") == Some(id))
}

/// Child elements of the element `id` with this tag.
fn count(doc: &Document<'_>, id: &str, tag: &str) -> usize {
    by_id(doc, id).map_or(0, |g| {
        g.children()
            .filter(|c| c.has_tag_name(("http://www.w3.org/2000/svg", tag)))
            .count()
    })
}

fn text_of(doc: &Document<'_>, id: &str) -> String {
    by_id(doc, id)
        .and_then(|n| n.text())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn the_slow_reader_graph_shows_every_segment_marker_and_axis() {
    let conn = listed("book-slow-reader.pcap");
    let svg = time_sequence_svg(&conn, None);
    let doc = parse(&svg);
    let rows = rows(&conn);
    let data = rows.iter().filter(|r| r.from == Side::Server && r.len > 0);
    let retrans = data
        .clone()
        .filter(|r| r.analysis.contains(Flag::Retransmission))
        .count();
    assert_eq!(retrans, 2);
    assert_eq!(
        count(&doc, "data", "line") + count(&doc, "retransmission", "line"),
        data.count()
    );
    assert_eq!(count(&doc, "retransmission", "line"), retrans);
    let client_flag = |label| {
        rows.iter()
            .filter(|r| r.from == Side::Client && r.analysis.contains(label))
            .count()
    };
    assert_eq!(
        count(&doc, "zero-window", "path"),
        client_flag(Flag::ZeroWindow)
    );
    assert_eq!(count(&doc, "zero-window", "path"), 20);
    assert_eq!(count(&doc, "window-update", "path"), 11);
    for id in ["ack", "window-limit", "advertised-window"] {
        assert_eq!(count(&doc, id, "path"), 1, "{id}");
    }
    assert!(by_id(&doc, "consumed").is_none() && by_id(&doc, "recv").is_none());
    assert!(text_of(&doc, "x-label").starts_with("time (s)"));
    assert!(text_of(&doc, "y-label").starts_with("bytes"));
    assert_eq!(text_of(&doc, "window-label"), "window (bytes)");
    assert!(text_of(&doc, "title").starts_with("127.0.0.1:"));
    assert!(text_of(&doc, "title").contains(" → 127.0.0.1:"));
    let y_ticks: Vec<String> = by_id(&doc, "y-axis")
        .expect("y axis")
        .descendants()
        .filter(|n| n.has_tag_name(("http://www.w3.org/2000/svg", "text")))
        .filter_map(|n| n.text())
        .map(str::to_string)
        .collect();
    assert_eq!(
        y_ticks,
        [
            "0", "10,000", "20,000", "30,000", "40,000", "50,000", "60,000", "70,000", "80,000"
        ]
    );
    let legend: String = by_id(&doc, "legend")
        .expect("legend")
        .descendants()
        .filter_map(|n| n.text())
        .collect();
    assert!(legend.contains("zero-window segments (20)") && legend.contains("retransmission"));
    assert!(svg.len() < 40_000, "{} bytes", svg.len());
}

#[test]
fn the_ack_line_climbs_to_the_end_of_the_stream() {
    let conn = listed("book-slow-reader.pcap");
    let svg = time_sequence_svg(&conn, None);
    let doc = parse(&svg);
    let d = by_id(&doc, "ack")
        .and_then(|g| g.first_element_child())
        .and_then(|p| p.attribute("d"))
        .expect("ack path")
        .to_string();
    let ys: Vec<f64> = d
        .split('V')
        .skip(1)
        .filter_map(|v| v.split('H').next()?.parse().ok())
        .collect();
    assert!(
        ys.windows(2).all(|w| w[1] <= w[0]),
        "ACKs never go back: {d}"
    );
    assert!(ys.len() > 10, "{d}");
}

#[test]
fn recvs_add_the_applications_line_a_dot_per_call_and_size_bars() {
    let conn = listed("book-slow-reader.pcap");
    let (recvs, request) = slow_reader_recvs(&conn);
    let app = AppRecvs {
        rows: &recvs,
        request_ts_ns: request,
    };
    let svg = time_sequence_svg(&conn, Some(app));
    let doc = parse(&svg);
    assert_eq!(count(&doc, "recv", "circle"), recvs.len());
    assert_eq!(count(&doc, "recv-size", "rect"), recvs.len());
    assert_eq!(count(&doc, "consumed", "path"), 1);
    assert!(text_of(&doc, "x-label").contains("since the request"));
    assert_eq!(text_of(&doc, "recv-size-label"), "recv() bytes");
    assert!(by_id(&doc, "no-recvs").is_none());
    let without = time_sequence_svg(&conn, None);
    assert!(text_of(&parse(&without), "no-recvs").starts_with("no recv log"));
}

#[test]
fn nodelay_has_data_but_no_flow_control_markers() {
    let conn = listed("book-nodelay.pcap");
    let svg = time_sequence_svg(&conn, None);
    let doc = parse(&svg);
    let segments = rows(&conn)
        .iter()
        .filter(|r| r.from == Side::Server && r.len > 0)
        .count();
    assert!(segments > 0);
    assert_eq!(
        count(&doc, "data", "line") + count(&doc, "retransmission", "line"),
        segments
    );
    assert_eq!(count(&doc, "zero-window", "path"), 0);
    assert_eq!(count(&doc, "window-update", "path"), 0);
}

#[test]
fn a_capture_without_the_handshake_still_draws() {
    let mut conn = listed("book-slow-reader.pcap");
    let all = conn.packet_list.take().expect("rows");
    let before = all
        .iter()
        .filter(|r| r.from == Side::Server && r.len > 0)
        .count();
    conn.packet_list = Some(all.into_iter().skip(3).collect());
    let svg = time_sequence_svg(&conn, None);
    let doc = parse(&svg);
    assert_eq!(
        count(&doc, "data", "line") + count(&doc, "retransmission", "line"),
        before
    );
    assert!(by_id(&doc, "no-data").is_none());
}

#[test]
fn an_empty_connection_draws_axes_and_says_no_data() {
    let mut conn = listed("book-nodelay.pcap");
    conn.packet_list = Some(Vec::new());
    let svg = time_sequence_svg(&conn, None);
    let doc = parse(&svg);
    assert_eq!(text_of(&doc, "no-data"), "no data");
    assert!(by_id(&doc, "x-axis").is_some() && by_id(&doc, "y-axis").is_some());
    assert_eq!(count(&doc, "data", "line"), 0);
    conn.packet_list = None;
    let svg = time_sequence_svg(&conn, None);
    assert_eq!(
        text_of(&parse(&svg), "no-data"),
        "no data (connection not listed packet by packet)"
    );
}

#[test]
fn addresses_are_escaped() {
    let mut conn = listed("book-nodelay.pcap");
    conn.tcp.client = "<script>&\"'".into();
    let svg = time_sequence_svg(&conn, None);
    assert!(!svg.contains("<script>"));
    let doc = parse(&svg);
    assert!(text_of(&doc, "title").starts_with("<script>&\"' → "));
    let page = html_page(&conn.tcp.client, &svg, &conn, None, &[]);
    assert!(!page.contains("<script>"));
    parse(&page);
}

/// A gigabyte sent in 1448-byte segments, ACKed every other one, with the
/// window closing and reopening: the SVG stays small and every segment is
/// still accounted for.
#[test]
fn a_gigabyte_transfer_is_merged_per_pixel_column() {
    let mut conn = listed("book-nodelay.pcap");
    let segments = (1u64 << 30) / 1448;
    let mut rows = Vec::with_capacity(segments as usize * 3 / 2);
    let row = |frame, ts_ns, from, rel_seq, rel_ack, len, window| PacketRecord {
        frame,
        ts_ns,
        from,
        flags: TcpFlags(TcpFlags::ACK),
        rel_seq,
        rel_ack: Some(rel_ack),
        len,
        window_raw: 0,
        window,
        scale_known: true,
        analysis: {
            let mut set = FlagSet::default();
            if window == 0 {
                set.insert(Flag::ZeroWindow);
            }
            set
        },
    };
    let mut frame = 0;
    for i in 0..segments {
        let seq = (1 + i * 1448) as u32;
        let ts = conn.tcp.start_ns + i as i64 * 10_000;
        frame += 1;
        rows.push(row(frame, ts, Side::Server, seq, 1, 1448, 65536));
        if i % 2 == 1 {
            frame += 1;
            let window = if i % 1000 == 1 { 0 } else { 262_144 };
            rows.push(row(
                frame,
                ts + 5_000,
                Side::Client,
                1,
                seq + 1448,
                0,
                window,
            ));
        }
    }
    conn.packet_list = Some(rows);
    let svg = time_sequence_svg(&conn, None);
    assert!(svg.len() < 2_000_000, "{} bytes", svg.len());
    let doc = parse(&svg);
    let elements = doc.descendants().filter(|n| n.is_element()).count();
    assert!(elements < 6_000, "{elements} elements");
    let drawn: usize = by_id(&doc, "data")
        .and_then(|g| g.attribute("data-segments"))
        .and_then(|n| n.parse().ok())
        .expect("data-segments");
    assert_eq!(drawn as u64, segments);
    assert!(count(&doc, "data", "line") <= 1000);
    assert!(count(&doc, "zero-window", "path") <= 1000);
}

#[test]
fn the_page_holds_the_graph_the_report_and_the_recvs_and_nothing_external() {
    let conn = listed("book-slow-reader.pcap");
    let (recvs, request) = slow_reader_recvs(&conn);
    let app = AppRecvs {
        rows: &recvs,
        request_ts_ns: request,
    };
    let svg = time_sequence_svg(&conn, Some(app));
    let lesson = crate::lesson::lesson(&recvs, Some(&conn), request);
    let explanation = crate::report::explain::explain(&lesson);
    let page = html_page("Connection #0", &svg, &conn, Some(&recvs), &explanation);
    let doc = parse(&page);
    assert!(
        doc.descendants()
            .any(|n| n.has_tag_name(("http://www.w3.org/2000/svg", "svg")))
    );
    let table_rows = |id| {
        by_id(&doc, id)
            .expect(id)
            .children()
            .filter(|c| c.has_tag_name("tr"))
            .count()
    };
    assert_eq!(table_rows("flags"), 1 + 15);
    assert_eq!(table_rows("recvs"), 1 + recvs.len());
    assert_eq!(table_rows("http"), 2);
    let verdict = crate::report::findings::flow_control_verdict(&conn.tcp.flow_control);
    assert_eq!(
        conn.tcp.flow_control.pace.server.set_by.limited_by(),
        crate::tcp::LimitedBy::Receiver
    );
    assert!(
        doc.descendants()
            .any(|n| n.text() == Some(verdict.as_str()))
    );
    assert!(page.contains("What happened"));
    for external in ["<script", "<link", " src=", "href=", "url(http", "@import"] {
        assert!(!page.contains(external), "{external}");
    }
    let bare = html_page("Connection #0", &svg, &conn, None, &[]);
    assert!(!bare.contains("id=\"recvs\""));
}

#[test]
fn files_are_written_whole_or_not_at_all() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("g.svg");
    write_atomically(&path, "<svg/>").expect("write");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), "<svg/>");
    let names: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").collect();
    assert_eq!(names.len(), 1, "no temporary file left");
    let missing = dir.path().join("no/such/dir/g.svg");
    let e = write_atomically(&missing, "x").expect_err("no directory");
    assert!(e.to_string().contains("cannot write"), "{e}");
}

#[test]
fn the_terminal_chart_shows_the_window_closed_while_data_waits() {
    let conn = listed("book-slow-reader.pcap");
    let (recvs, _) = slow_reader_recvs(&conn);
    let chart = terminal_chart(&recvs, 90);
    let lines: Vec<&str> = chart.lines().collect();
    assert_eq!(lines.len(), 1 + recvs.len() + 2, "{chart}");
    let first = lines[1];
    assert!(
        first.contains("window    0 ░"),
        "zero window before recv 0: {first}"
    );
    assert!(first.contains("queued 4096 ▓"), "{first}");
    assert!(lines.iter().all(|l| l.chars().count() <= 90), "{chart}");
}
