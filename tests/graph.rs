//! `replay --graph/--html` end to end: the files it writes, with and
//! without a recv log, and the page as a browser draws it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use recvscope::analysis::NoBodies;
use recvscope::capture::records::Reading;
use recvscope::recvlog::{self, KIND, LogWriter, Rcvbuf, RecvEvent, RunInfo};
use recvscope::replay::analyse_file;
use recvscope::tcp::Flag;

fn capture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name)
}

fn recvscope(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_recvscope"))
        .args(args)
        .output()
        .expect("run recvscope")
}

fn svg_doc(text: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(text).unwrap_or_else(|e| panic!("SVG not well-formed: {e}"))
}

/// Children of the element with `id` that are `tag` elements.
fn count(doc: &roxmltree::Document<'_>, id: &str, tag: &str) -> usize {
    doc.descendants()
        .find(|n| n.attribute("id") == Some(id))
        .map_or(0, |g| {
            g.children().filter(|c| c.tag_name().name() == tag).count()
        })
}

#[test]
fn replay_writes_the_graph_and_the_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (svg, html) = (dir.path().join("out.svg"), dir.path().join("out.html"));
    let out = recvscope(&[
        Path::new("replay"),
        &capture("book-slow-reader.pcap"),
        Path::new("--graph"),
        &svg,
        Path::new("--html"),
        &html,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svg_text = std::fs::read_to_string(&svg).expect("svg written");
    let doc = svg_doc(&svg_text);
    assert_eq!(
        count(&doc, "data", "line") + count(&doc, "retransmission", "line"),
        26
    );
    assert_eq!(count(&doc, "zero-window", "path"), 20);
    let page = std::fs::read_to_string(&html).expect("html written");
    assert!(page.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(page.contains("<table id=\"flags\">"));
    assert!(page.contains("<td>zero_window</td>"));
    let names: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").collect();
    assert_eq!(names.len(), 2, "only the two files, no temporary ones");
}

#[test]
fn a_recv_log_beside_the_capture_puts_the_application_on_the_graph() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = dir.path().join("run.pcap");
    std::fs::copy(capture("book-slow-reader.pcap"), &pcap).expect("copy");
    let (report, _) = analyse_file(&pcap, Some(0), Reading::Ahead, &mut NoBodies).expect("analyse");
    let conn = &report.connections[0];
    let rows = conn.packet_list.as_deref().expect("rows");
    let request = rows.iter().find(|r| r.len > 0).expect("request").ts_ns;
    let run = RunInfo {
        kind: KIND.into(),
        version: "test".into(),
        url: "http://127.0.0.1/cover.jpg".into(),
        request: "GET /cover.jpg HTTP/1.0\r\n\r\n".into(),
        client: conn.tcp.client.clone(),
        server: conn.tcp.server.clone(),
        recv_size: 5120,
        delay_ns: 0,
        rcvbuf: Rcvbuf::default(),
        clock: "CLOCK_REALTIME".into(),
        request_ts_ns: request,
    };
    let mut log = LogWriter::create(&recvlog::path_for(&pcap), &run).expect("log");
    let updates: Vec<i64> = rows
        .iter()
        .filter(|r| r.analysis.contains(Flag::WindowUpdate))
        .map(|r| r.ts_ns - 20_000)
        .collect();
    let each = conn.tcp.bytes.server_to_client / updates.len() as u64;
    for (i, start) in updates.iter().enumerate() {
        let total = if i + 1 == updates.len() {
            conn.tcp.bytes.server_to_client
        } else {
            each * (i as u64 + 1)
        };
        log.recv(&RecvEvent {
            index: i as u64,
            start_ns: *start,
            end_ns: start + 1_000,
            asked: 8192,
            bytes: total - each * i as u64,
            total,
            queued_before: None,
            tcp_info: None,
        })
        .expect("recv line");
    }
    let svg = dir.path().join("g.svg");
    let out = recvscope(&[Path::new("replay"), &pcap, Path::new("--graph"), &svg]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&svg).expect("svg");
    let doc = svg_doc(&text);
    assert_eq!(count(&doc, "recv", "circle"), updates.len());
    assert_eq!(count(&doc, "recv-size", "rect"), updates.len());
    assert!(text.contains("since the request was sent"));
}

#[test]
fn graph_options_refuse_what_they_cannot_draw() {
    let dir = tempfile::tempdir().expect("tempdir");
    let svg = dir.path().join("g.svg");
    let cap = capture("book-nodelay.pcap");
    let out = recvscope(&[
        Path::new("replay"),
        &cap,
        Path::new("--conn"),
        Path::new("7"),
        Path::new("--graph"),
        &svg,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err,
        format!(
            "recvscope: {} has one connection, 0; there is no --conn 7\n",
            cap.display()
        )
    );
    assert!(out.stdout.is_empty(), "nothing before the error");
    let out = recvscope(&[Path::new("replay"), &cap, &cap, Path::new("--html"), &svg]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("give one capture file"));
    assert!(!svg.exists());
    let out = recvscope(&[
        Path::new("replay"),
        &cap,
        Path::new("--graph"),
        &dir.path().join("missing/g.svg"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write"));
}

fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser"].into_iter().find(|name| {
        Command::new(name)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// Opens the page in headless Chromium and checks the screenshot shows the
/// graph: not blank, with the data's blue and the window's orange on it.
#[test]
fn chromium_draws_the_page() {
    let Some(browser) = chromium() else {
        recvscope_testkit::tool_missing("chromium", "the browser rendering check");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let html = dir.path().join("page.html");
    let out = recvscope(&[
        Path::new("replay"),
        &capture("book-slow-reader.pcap"),
        Path::new("--html"),
        &html,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = dir.path().join("page.png");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1200,900",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish in 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png).expect("screenshot written"),
    ));
    let mut reader = decoder.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("png frame");
    let channels = info.color_type.samples();
    assert!(channels >= 3, "{:?}", info.color_type);
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    let near = |p: &[u8], rgb: [u8; 3]| (0..3).all(|i| p[i].abs_diff(rgb[i]) < 40);
    let inked = pixels.iter().filter(|p| !near(p, [255, 255, 255])).count();
    let blue = pixels
        .iter()
        .filter(|p| near(p, [0x00, 0x72, 0xB2]))
        .count();
    let orange = pixels
        .iter()
        .filter(|p| near(p, [0xE6, 0x9F, 0x00]))
        .count();
    assert!(
        inked * 50 > pixels.len(),
        "{inked} of {} pixels inked",
        pixels.len()
    );
    assert!(blue > 100, "{blue} data-blue pixels");
    assert!(orange > 100, "{orange} window-orange pixels");
}
