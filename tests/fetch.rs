//! `recvscope fetch` end to end, against servers this test starts on
//! loopback: the book's experiment with and without flow control, the
//! saved run and its replay, privileges, and every way a download fails.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

const BODY_LEN: usize = 70_057;

/// The body the book downloads, here a deterministic pattern of its size.
fn body() -> Vec<u8> {
    (0..BODY_LEN).map(|i| (i * 7 % 251) as u8).collect()
}

/// How a test server answers.
#[derive(Clone, Copy)]
enum Reply {
    /// The book's reply: HTTP/1.1 200, Content-Length, the body, close.
    Image,
    /// Closes after part of the status line.
    CloseInHeader,
    /// Not HTTP at all.
    Ssh,
    /// A header that never ends.
    EndlessHeader,
    /// Content-Length says more than is sent.
    ShortBody,
    /// Sends part of the body, then resets.
    ResetMidBody,
    /// Reads the request and says nothing.
    Silent,
    /// A close-delimited body that never ends.
    Forever,
    /// A chunked body whose second chunk-size line is not hexadecimal.
    BadChunks,
    /// A status code of six digits.
    SixDigitStatus,
    /// Five bytes of body under a Content-Length of 2.
    LongerThanContentLength,
    /// The book's reply, 300 ms after the request.
    LateImage,
    /// A 404 whose reason and header set the terminal's title and clear it.
    Escapes,
}

/// Runs `recvscope ARGS` (a shell line after the binary's name) in `dir`,
/// mounted as a tmpfs of `kib` KiB in a mount namespace of its own (root
/// only), and returns what the shell printed.
fn on_a_tiny_disk(dir: &Path, kib: u32, args: &str) -> std::process::Output {
    let script = format!(
        "mount -t tmpfs -o size={kib}k tmpfs {d} && cd {d} && {exe} {args}",
        d = dir.display(),
        exe = env!("CARGO_BIN_EXE_recvscope"),
    );
    Command::new("unshare")
        .args(["--mount", "sh", "-c", &script])
        .output()
        .expect("unshare")
}

/// Starts a server on 127.0.0.1 that answers every connection with `reply`.
fn server(reply: Reply) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            std::thread::spawn(move || answer(conn, reply));
        }
    });
    addr
}

fn answer(mut c: TcpStream, reply: Reply) {
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        match c.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {BODY_LEN}\r\nContent-Type: image/jpeg\r\nConnection: close\r\n\r\n"
    );
    let _ = match reply {
        Reply::LateImage => {
            std::thread::sleep(Duration::from_millis(300));
            c.write_all(head.as_bytes())
                .and_then(|()| c.write_all(&body()))
        }
        Reply::Image => c
            .write_all(head.as_bytes())
            .and_then(|()| c.write_all(&body())),
        Reply::CloseInHeader => c.write_all(b"HTTP/1.1 200 OK\r\nContent-Le"),
        Reply::Ssh => c.write_all(b"SSH-2.0-OpenSSH_9.2\r\n"),
        Reply::EndlessHeader => c
            .write_all(b"HTTP/1.1 200 OK\r\nX-Long: ")
            .and_then(|()| c.write_all(&vec![b'a'; 70_000])),
        Reply::ShortBody => c
            .write_all(head.as_bytes())
            .and_then(|()| c.write_all(&body()[..1000])),
        Reply::ResetMidBody => {
            let _ = c.write_all(head.as_bytes());
            let _ = c.write_all(&body()[..3000]);
            std::thread::sleep(Duration::from_millis(100));
            socket2::SockRef::from(&c)
                .set_linger(Some(Duration::ZERO))
                .map(|()| drop(c))
        }
        Reply::Silent => {
            std::thread::sleep(Duration::from_secs(5));
            Ok(())
        }
        Reply::BadChunks => c.write_all(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n",
        ),
        Reply::SixDigitStatus => c.write_all(b"HTTP/1.1 999999 OK\r\nContent-Length: 2\r\n\r\nhi"),
        Reply::LongerThanContentLength => {
            c.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhello")
        }
        Reply::Escapes => c.write_all(
            b"HTTP/1.1 404 Not\x1b]0;owned\x07Found\r\nX-A: \x1b[2J\rb\r\nContent-Length: 2\r\n\r\nok",
        ),
        Reply::Forever => c
            .write_all(b"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n")
            .and_then(|()| {
                loop {
                    c.write_all(&[b'z'; 65536])?;
                }
            }),
    };
}

fn recvscope(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_recvscope"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run recvscope")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&o.stdout),
            stderr(o)
        )
    })
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Whether this process may capture; when it may not, checks that fetch
/// says how to get the privilege, and the caller skips the wire checks.
fn may_capture(dir: &Path, url: &str) -> bool {
    if is_root() {
        return true;
    }
    let out = recvscope(dir, &["fetch", url, "--no-save"]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains("CAP_NET_RAW") && err.contains("--no-capture"),
        "{err}"
    );
    eprintln!("not root: live-capture checks skipped (CI runs them as root)");
    false
}

fn rows(doc: &Value) -> &Vec<Value> {
    doc["recvs"].as_array().expect("recvs array")
}

#[test]
fn slow_reader_with_a_small_buffer_is_flow_controlled_and_replays_the_same() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("http://{}/cover3.jpg", server(Reply::Image));
    if !may_capture(dir.path(), &url) {
        return;
    }
    let out = recvscope(
        dir.path(),
        &[
            "fetch",
            &url,
            "--rcvbuf",
            "4096",
            "--delay",
            "250ms",
            "--save",
            "slow",
            "--json",
            "--graph",
            "slow.svg",
            "--html",
            "slow.html",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let live = json(&out);
    assert_eq!(
        std::fs::read(dir.path().join("cover3.jpg")).expect("body"),
        body()
    );
    assert_eq!(live["body_bytes"], BODY_LEN);
    assert_eq!(live["rcvbuf"]["asked"], 4096);
    assert_eq!(live["rcvbuf"]["given"], 8192, "Linux doubles SO_RCVBUF");
    assert_eq!(live["capture"]["dropped"], 0);
    let recvs = rows(&live);
    assert!(recvs.iter().any(|r| r["bytes"] == 5120), "full recvs");
    assert!(recvs.iter().any(|r| !r["stalled"].is_null()), "stalls");
    assert!(
        recvs
            .iter()
            .any(|r| r["window_update"]["from"] == 0 && r["window_update"]["to"].as_u64() > Some(0)),
        "recvs reopen the window"
    );
    let last = recvs.last().expect("a recv");
    assert_eq!(last["bytes"], 0, "the loop ends on recv() returning 0");
    let total = live["header_length"].as_u64().expect("header") + 4 + BODY_LEN as u64;
    assert_eq!(last["total"], total);
    assert_eq!(last["wire_delivered"], total);
    let conn = &live["connection"];
    assert!(conn["flags"]["zero_window"].as_u64() > Some(0));
    assert!(conn["flags"]["window_update"].as_u64() > Some(0));
    assert_eq!(
        conn["flow_control"]["pace"]["server"]["limited_by"],
        "receiver"
    );

    let svg = std::fs::read_to_string(dir.path().join("slow.svg")).expect("graph");
    let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
    let dots = doc
        .descendants()
        .find(|n| n.attribute("id") == Some("recv"))
        .map(|g| {
            g.children()
                .filter(|c| c.attribute("class") == Some("dot"))
                .count()
        });
    assert_eq!(dots, Some(recvs.len()), "one dot per recv() on the graph");
    for id in ["data", "ack", "window-limit", "consumed", "window-update"] {
        assert!(
            doc.descendants().any(|n| n.attribute("id") == Some(id)),
            "{id}"
        );
    }
    let page = std::fs::read_to_string(dir.path().join("slow.html")).expect("page");
    assert!(page.contains("<svg") && page.contains("zero_window"));

    let pcap = dir.path().join("runs/slow.pcap");
    assert!(dir.path().join("runs/slow.recv.jsonl").exists());
    let replay = recvscope(dir.path(), &["replay", "runs/slow.pcap", "--json"]);
    assert!(replay.status.success(), "{}", stderr(&replay));
    let replay = json(&replay);
    assert_eq!(replay["recvs"], live["recvs"], "replay correlates the same");
    assert_eq!(replay["connections"][0]["flags"], conn["flags"]);

    if let Some(tshark) = tshark_flags(&pcap) {
        for (name, count) in tshark {
            assert_eq!(conn["flags"][&name], count, "tshark's {name}");
        }
    }
}

/// tshark's count of each analysis flag in `pcap`, when tshark is installed.
fn tshark_flags(pcap: &Path) -> Option<Vec<(String, u64)>> {
    let names = [
        "zero_window",
        "window_full",
        "window_update",
        "keep_alive",
        "retransmission",
        "duplicate_ack",
        "out_of_order",
        "lost_segment",
    ];
    let mut args = vec![
        "-r".to_string(),
        pcap.display().to_string(),
        "-T".into(),
        "fields".into(),
    ];
    for n in names {
        args.push("-e".into());
        args.push(format!("tcp.analysis.{n}"));
    }
    let Ok(out) = Command::new("tshark")
        .args(&args)
        .args(["-E", "occurrence=f", "-E", "separator=,"])
        .output()
    else {
        recvscope_testkit::tool_missing("tshark", "the tshark comparison");
        return None;
    };
    assert!(out.status.success(), "tshark: {}", stderr(&out));
    let mut counts = vec![0u64; names.len()];
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        for (i, field) in line.split(',').enumerate() {
            if !field.is_empty() {
                counts[i] += 1;
            }
        }
    }
    Some(names.iter().map(|n| n.to_string()).zip(counts).collect())
}

#[test]
fn fast_reader_with_the_default_buffer_is_never_stalled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("http://{}/cover3.jpg", server(Reply::Image));
    if !may_capture(dir.path(), &url) {
        return;
    }
    let out = recvscope(dir.path(), &["fetch", &url, "--no-save", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let live = json(&out);
    assert!(rows(&live).iter().all(|r| r["stalled"].is_null()));
    assert_eq!(live["connection"]["flags"]["zero_window"], 0);
    // Not the receiver; the network when a tail loss probe's copy went
    // without a D-SACK.
    assert_ne!(
        live["connection"]["flow_control"]["pace"]["server"]["limited_by"],
        "receiver"
    );
    assert!(live["capture"]["file"].is_null());
    assert!(live["capture"]["packets"].as_u64() > Some(8));
    assert!(!dir.path().join("runs").exists(), "--no-save writes no run");
    assert_eq!(
        std::fs::read(dir.path().join("cover3.jpg")).expect("body"),
        body()
    );
}

#[test]
fn a_healthy_default_fetch_warns_of_nothing_and_its_body_is_complete_on_the_wire() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("http://{}/cover3.jpg", server(Reply::Image));
    if !may_capture(dir.path(), &url) {
        return;
    }
    let out = recvscope(dir.path(), &["fetch", &url, "--no-save"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["warning", "missing", "lost", "INCOMPLETE", "body 0 B"] {
        assert!(!text.contains(word), "{word:?} in:\n{text}");
    }
    let http = text
        .lines()
        .find(|l| l.starts_with("  HTTP GET"))
        .expect("an HTTP line");
    // The 83-byte head is whole in the capture: the wire says its length.
    assert!(
        http.contains(&format!(
            "header 83 B, body {BODY_LEN} B (Content-Length {BODY_LEN})"
        )),
        "{http}"
    );
    assert!(http.contains("bytes not captured (snaplen 8192)"), "{http}");
}

#[test]
fn text_report_prints_the_books_lines_then_the_correlation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("http://{}/cover3.jpg", server(Reply::Image));
    let out = recvscope(dir.path(), &["fetch", &url, "--no-capture", "--no-save"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let book: Vec<(u64, u64)> = text
        .lines()
        .filter_map(|l| {
            let (a, b) = l.split_once(' ')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        })
        .collect();
    let mut total = 0;
    for (size, running) in &book {
        assert!(*size <= 5120);
        total += size;
        assert_eq!(*running, total);
    }
    assert!(
        text.contains("\nHeader Length 83\nHTTP/1.1 200 OK\nContent-Length: 70057\n"),
        "{text}"
    );
    assert_eq!(total, 83 + 4 + BODY_LEN as u64);
    assert!(text.contains("Each recv() next to the wire"));
    assert!(text.contains("No capture: the wire view"));
}

#[test]
fn no_capture_needs_no_privilege_and_keeps_the_socket_columns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("http://{}/x.jpg", server(Reply::Image));
    let out = recvscope(
        dir.path(),
        &[
            "fetch",
            &url,
            "--no-capture",
            "--http",
            "1.1",
            "--json",
            "--save",
            "sock",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = json(&out);
    assert!(doc["capture"]["interface"].is_null());
    assert!(doc["capture"]["file"].is_null());
    assert_eq!(doc["capture"]["recv_log"], "runs/sock.recv.jsonl");
    assert!(doc["connection"].is_null());
    let r = &rows(&doc)[0];
    assert!(r["queued_before"].is_u64());
    assert!(r["tcp_info"]["rcv_space"].is_u64());
    assert!(r["wire_delivered"].is_null());
    assert_eq!(
        doc["request"],
        format!(
            "GET /x.jpg HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            &url[7..url.len() - 6]
        )
    );
    let log = std::fs::read_to_string(dir.path().join("runs/sock.recv.jsonl")).expect("log");
    assert_eq!(log.lines().count(), rows(&doc).len() + 1);
}

#[test]
fn under_sudo_the_run_drops_to_the_invoking_user_who_owns_every_file() {
    if !is_root() {
        eprintln!("not root: privilege drop not testable here (CI runs it as root)");
        return;
    }
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::chown(dir.path(), Some(65534), Some(65534)).expect("chown");
    let url = format!("http://{}/cover3.jpg", server(Reply::Image));
    let out = Command::new(env!("CARGO_BIN_EXE_recvscope"))
        .args(["fetch", &url, "--save", "mine"])
        .current_dir(dir.path())
        .env("SUDO_UID", "65534")
        .env("SUDO_GID", "65534")
        .env("SUDO_USER", "nobody")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    for f in [
        "cover3.jpg",
        "runs",
        "runs/mine.pcap",
        "runs/mine.recv.jsonl",
    ] {
        let meta = std::fs::metadata(dir.path().join(f)).expect(f);
        assert_eq!((meta.uid(), meta.gid()), (65534, 65534), "{f}");
    }
}

#[test]
fn without_the_capture_privilege_it_says_how_to_get_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("http://{}/cover3.jpg", server(Reply::Image));
    if !is_root() {
        assert!(!may_capture(dir.path(), &url));
        return;
    }
    std::os::unix::fs::chown(dir.path(), Some(65534), Some(65534)).expect("chown");
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_recvscope"))
        .args(["fetch", &url, "--no-save"])
        .current_dir(dir.path())
        .output()
        .expect("setpriv");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    for needle in [
        "CAP_NET_RAW",
        "sudo",
        "setcap cap_net_raw,cap_net_admin=eip",
        "--no-capture",
    ] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("dir").count(),
        0,
        "nothing written"
    );
}

/// Runs a fetch that must fail; returns its one-line error.
fn fails(dir: &Path, args: &[&str]) -> String {
    let out = recvscope(dir, args);
    assert!(!out.status.success(), "{args:?} succeeded");
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn each_broken_server_gets_one_clear_line_and_no_complete_looking_file() {
    let cases = [
        (Reply::CloseInHeader, "before the end of the HTTP header"),
        (Reply::Ssh, "the reply is not HTTP"),
        (Reply::EndlessHeader, "no blank line after"),
        (
            Reply::ShortBody,
            "shorter than its Content-Length: 1000 of 70057 bytes",
        ),
        (Reply::ResetMidBody, "reset the connection"),
    ];
    for (reply, needle) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("http://{}/cover3.jpg", server(reply));
        let err = fails(dir.path(), &["fetch", &url, "--no-capture", "--no-save"]);
        assert!(err.contains(needle), "{needle}: {err}");
        let names = names_in(dir.path());
        assert!(!names.contains(&"cover3.jpg".to_string()), "{names:?}");
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    }
}

#[test]
fn short_body_is_kept_under_a_partial_name_and_never_over_an_earlier_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("http://{}/cover3.jpg", server(Reply::ShortBody));
    let err = fails(dir.path(), &["fetch", &url, "--no-capture", "--no-save"]);
    assert!(
        err.ends_with("the partial body is in cover3.jpg.partial\n"),
        "{err}"
    );
    assert_eq!(names_in(dir.path()), ["cover3.jpg.partial"]);
    assert_eq!(
        std::fs::read(dir.path().join("cover3.jpg.partial")).expect("partial"),
        body()[..1000]
    );
    std::fs::write(dir.path().join("cover3.jpg.partial"), "earlier").expect("write");
    let err = fails(dir.path(), &["fetch", &url, "--no-capture", "--no-save"]);
    assert!(
        err.ends_with("the partial body is in cover3.jpg.partial-2\n"),
        "{err}"
    );
    assert_eq!(
        names_in(dir.path()),
        ["cover3.jpg.partial", "cover3.jpg.partial-2"]
    );
    assert_eq!(
        std::fs::read(dir.path().join("cover3.jpg.partial")).expect("kept"),
        b"earlier"
    );
}

#[test]
fn a_saved_run_is_never_replaced_or_joined_with_another_runs_capture_unless_forced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("http://{}/cover3.jpg", server(Reply::Image));
    let fetch = |save: &str, out: &str, more: &[&str]| {
        let args = [
            &["fetch", &url, "--no-capture", "--save", save, "-o", out],
            more,
        ]
        .concat();
        recvscope(dir.path(), &args)
    };
    let runs = dir.path().join("runs");
    assert!(fetch("run", "a.jpg", &[]).status.success());
    let log = std::fs::read(runs.join("run.recv.jsonl")).expect("log");
    let err = stderr(&fetch("run", "b.jpg", &[]));
    assert_eq!(
        err,
        "recvscope: runs/run.recv.jsonl already exists; pass --force to replace it, or --save another NAME\n"
    );
    assert_eq!(
        std::fs::read(runs.join("run.recv.jsonl")).expect("kept"),
        log
    );

    std::fs::write(runs.join("old.pcap"), "another run's capture").expect("write");
    let err = stderr(&fetch("old", "c.jpg", &[]));
    assert_eq!(
        err,
        "recvscope: runs/old.pcap already exists; pass --force to replace it, or --save another NAME\n"
    );
    assert_eq!(names_in(&runs), ["old.pcap", "run.recv.jsonl"]);
    let forced = fetch("old", "c.jpg", &["--force"]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_eq!(
        names_in(&runs),
        ["old.recv.jsonl", "run.recv.jsonl"],
        "--force takes the old capture away: no recv log beside another run's capture"
    );
    assert_eq!(names_in(dir.path()), ["a.jpg", "c.jpg", "runs"]);
}

#[test]
fn a_link_planted_at_a_runs_capture_name_is_never_written_through() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("http://{}/cover3.jpg", server(Reply::Image));
    if !may_capture(dir.path(), &url) {
        return;
    }
    let runs = dir.path().join("runs");
    std::fs::create_dir(&runs).expect("mkdir");
    let victim = dir.path().join("victim.pcap");
    std::os::unix::fs::symlink(&victim, runs.join("x.pcap")).expect("symlink");
    let fetch = |more: &[&str]| {
        recvscope(
            dir.path(),
            &[&["fetch", &url, "--save", "x", "--discard-body"], more].concat(),
        )
    };
    assert_eq!(
        stderr(&fetch(&[])),
        "recvscope: runs/x.pcap already exists; pass --force to replace it, or --save another NAME\n",
        "a dangling link is a name too"
    );
    assert!(!victim.exists(), "the link was not followed");
    let forced = fetch(&["--force"]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert!(!victim.exists(), "--force removes the link, then writes");
    assert!(
        !runs
            .join("x.pcap")
            .symlink_metadata()
            .expect("pcap")
            .is_symlink()
    );
    assert_eq!(names_in(&runs), ["x.pcap", "x.recv.jsonl"]);
}

#[test]
fn a_servers_terminal_escapes_are_shown_escaped_with_the_heads_line_breaks_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("http://{}/x", server(Reply::Escapes));
    let out = recvscope(
        dir.path(),
        &["fetch", &url, "--no-capture", "--no-save", "--discard-body"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!out.stdout.contains(&0x1b), "no ESC on stdout");
    assert!(!out.stderr.contains(&0x1b), "no ESC on stderr");
    let text = String::from_utf8_lossy(&out.stdout);
    let head: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("Header Length"))
        .take(4)
        .collect();
    assert_eq!(
        head,
        [
            "Header Length 63",
            "HTTP/1.1 404 Not\\x1b]0;owned\\x07Found",
            "X-A: \\x1b[2J\\x0db",
            "Content-Length: 2",
        ]
    );
    assert_eq!(
        stderr(&out),
        "recvscope: warning: the server answered 404 Not\\x1b]0;owned\\x07Found\n"
    );
}

#[test]
fn runs_under_the_default_name_never_collide_and_discard_body_writes_no_body() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("http://{}/cover3.jpg", server(Reply::Image));
    let args = [
        "fetch",
        url.as_str(),
        "--no-capture",
        "--discard-body",
        "--json",
    ];
    let outs = [recvscope(dir.path(), &args), recvscope(dir.path(), &args)];
    let logs: Vec<String> = outs
        .iter()
        .map(|o| {
            assert!(o.status.success(), "{}", stderr(o));
            let doc = json(o);
            assert!(doc["saved_to"].is_null());
            assert_eq!(doc["body_bytes"], BODY_LEN);
            doc["capture"]["recv_log"]
                .as_str()
                .expect("log")
                .to_string()
        })
        .collect();
    assert_ne!(logs[0], logs[1]);
    let mut names: Vec<String> = logs.iter().map(|l| l.replace("runs/", "")).collect();
    names.sort();
    assert_eq!(names_in(&dir.path().join("runs")), names);
    for log in &logs {
        let stamp = log
            .strip_prefix("runs/cover3-")
            .and_then(|l| l.strip_suffix(".recv.jsonl"))
            .expect("runs/cover3-TIME.recv.jsonl");
        let stamp = stamp.strip_suffix("-2").unwrap_or(stamp);
        assert!(
            stamp.len() == 15 && stamp.as_bytes()[8] == b'-',
            "YYYYMMDD-HHMMSS: {log}"
        );
    }
    assert_eq!(names_in(dir.path()), ["runs"], "no body file");
}

#[test]
fn refused_timeout_https_and_existing_output_each_say_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let err = fails(
        dir.path(),
        &[
            "fetch",
            &format!("http://127.0.0.1:{port}/a"),
            "--no-capture",
            "--no-save",
        ],
    );
    assert!(
        err.contains("connection refused") && err.contains("recvscope serve"),
        "{err}"
    );

    let silent = format!("http://{}/a", server(Reply::Silent));
    let err = fails(
        dir.path(),
        &[
            "fetch",
            &silent,
            "--no-capture",
            "--no-save",
            "--timeout",
            "300ms",
        ],
    );
    assert!(err.contains("no data for 0.3 s"), "{err}");

    let err = fails(dir.path(), &["fetch", "https://127.0.0.1/cover3.jpg"]);
    assert!(err.contains("only TLS"), "{err}");

    std::fs::write(dir.path().join("cover3.jpg"), "mine").expect("write");
    let url = format!("http://{}/cover3.jpg", server(Reply::Image));
    let err = fails(dir.path(), &["fetch", &url, "--no-capture", "--no-save"]);
    assert!(err.contains("--force"), "{err}");
    assert_eq!(
        std::fs::read(dir.path().join("cover3.jpg")).expect("kept"),
        b"mine"
    );
    let out = recvscope(
        dir.path(),
        &["fetch", &url, "--no-capture", "--no-save", "--force"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(dir.path().join("cover3.jpg")).expect("new"),
        body()
    );
}

#[test]
fn ctrl_c_keeps_the_capture_and_recv_log_so_far_and_they_replay() {
    interrupted_run_keeps_what_it_has(libc::SIGINT);
}

#[test]
fn sigterm_keeps_the_capture_and_recv_log_so_far_too() {
    interrupted_run_keeps_what_it_has(libc::SIGTERM);
}

fn interrupted_run_keeps_what_it_has(signal: libc::c_int) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("http://{}/cover3.jpg", server(Reply::Image));
    let capture = is_root();
    let mut args = vec![
        "fetch",
        url.as_str(),
        "--rcvbuf",
        "4096",
        "--delay",
        "250ms",
        "--save",
        "cut",
    ];
    if !capture {
        args.push("--no-capture");
    }
    let child = Command::new(env!("CARGO_BIN_EXE_recvscope"))
        .args(&args)
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let log_path = dir.path().join("runs/cut.recv.jsonl");
    recvscope_testkit::wait_until(
        || std::fs::read_to_string(&log_path).is_ok_and(|l| l.lines().count() >= 3),
        "the run line and two recvs in the recv log",
    );
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, signal) };
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("interrupted after"), "{err}");
    let names = names_in(dir.path());
    assert!(
        names.contains(&"cover3.jpg.partial".to_string()),
        "{names:?}"
    );
    assert!(!names.contains(&"cover3.jpg".to_string()), "{names:?}");
    let log = std::fs::read_to_string(dir.path().join("runs/cut.recv.jsonl")).expect("log");
    assert!(log.lines().count() >= 3, "run line and recvs so far: {log}");
    if capture {
        let replay = recvscope(dir.path(), &["replay", "runs/cut.pcap", "--json"]);
        assert!(replay.status.success(), "{}", stderr(&replay));
        let doc = json(&replay);
        assert_eq!(rows(&doc).len(), log.lines().count() - 1);
        assert!(rows(&doc)[0]["advertised_window"].is_u64());
    }
}

#[test]
fn server_closing_after_the_header_gives_an_empty_body_not_an_error() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        if let Ok((mut c, _)) = listener.accept() {
            let mut buf = [0u8; 256];
            let _ = c.read(&mut buf);
            let _ = c.write_all(b"HTTP/1.0 204 No Content\r\n\r\n");
            let _ = c.shutdown(Shutdown::Both);
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let out = recvscope(
        dir.path(),
        &[
            "fetch",
            &format!("http://{addr}/e"),
            "--no-capture",
            "--no-save",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json(&out)["body_bytes"], 0);
    assert_eq!(names_in(dir.path()), ["e"]);
}

#[test]
fn without_a_url_it_fetches_the_built_in_image_from_its_own_lab_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = vec!["fetch", "--no-save", "--json"];
    if !is_root() {
        args.push("--no-capture");
    }
    let out = recvscope(dir.path(), &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc = json(&out);
    let image = recvscope::serve::image::cover();
    assert_eq!(
        std::fs::read(dir.path().join("cover3.jpg")).expect("body"),
        image
    );
    assert_eq!(doc["content_length"], image.len());
    assert!(
        doc["request"]
            .as_str()
            .is_some_and(|r| r.starts_with("GET http://127.0.0.1:")
                && r.ends_with("/cover3.jpg HTTP/1.0\r\n\r\n"))
    );
}

#[test]
fn an_unknown_host_says_it_cannot_be_resolved() {
    if !is_root() {
        eprintln!("not root: no private network namespace for the DNS test");
        return;
    }
    // A network namespace of our own with no network: the lookup fails
    // without sending a packet anywhere.
    let out = Command::new("unshare")
        .arg("--net")
        .arg(env!("CARGO_BIN_EXE_recvscope"))
        .args([
            "fetch",
            "http://no-such-host.invalid/cover3.jpg",
            "--no-capture",
            "--no-save",
        ])
        .output()
        .expect("unshare");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(
        err,
        "recvscope: cannot resolve host \"no-such-host.invalid\": Temporary failure in name resolution; check the host name in the URL\n",
        "the reason once, without \"failed to lookup address information\" before it"
    );
}

#[test]
fn an_unwritable_output_directory_and_a_missing_interface_say_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("http://{}/cover3.jpg", server(Reply::Image));
    let err = fails(
        dir.path(),
        &[
            "fetch",
            &url,
            "--no-capture",
            "--no-save",
            "-o",
            "no/such/dir/x.jpg",
        ],
    );
    assert_eq!(
        err,
        "recvscope: cannot write in no/such/dir: No such file or directory (os error 2)\n"
    );
    let err = fails(
        dir.path(),
        &["fetch", &url, "--no-capture", "--captures", "/proc/nope"],
    );
    assert_eq!(
        err,
        "recvscope: cannot create the captures directory /proc/nope: No such file or directory (os error 2)\n"
    );
    if is_root() {
        let err = fails(
            dir.path(),
            &["fetch", &url, "--no-save", "--interface", "nosuch0"],
        );
        assert!(
            err.contains("there is no network interface \"nosuch0\""),
            "{err}"
        );
    }
    assert_eq!(names_in(dir.path()), Vec::<String>::new());
}

#[test]
fn a_full_disk_is_an_error_and_leaves_no_file_that_looks_complete() {
    if !is_root() {
        eprintln!("not root: no private mount namespace for the disk-full test");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("http://{}/cover3.jpg", server(Reply::Image));
    // A 32 KiB tmpfs in a mount namespace of our own: the 70 KB body does not fit.
    let out = on_a_tiny_disk(
        dir.path(),
        32,
        &format!(
            "fetch {url} --no-capture --no-save; echo \"exit=$?\"; ls -A {d}",
            d = dir.path().display()
        ),
    );
    let err = stderr(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(err.contains("No space left on device"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(text.contains("exit=1"), "{text}");
    let listing = text
        .lines()
        .skip_while(|l| !l.starts_with("exit="))
        .skip(1)
        .collect::<Vec<_>>();
    assert!(listing.iter().all(|n| *n != "cover3.jpg"), "{listing:?}");
}

#[test]
fn a_server_that_sends_forever_is_stopped_by_ctrl_c_and_what_came_is_kept_as_partial() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("http://{}/endless", server(Reply::Forever));
    let child = Command::new(env!("CARGO_BIN_EXE_recvscope"))
        .args([
            "fetch",
            &url,
            "--no-capture",
            "--no-save",
            "--recv-size",
            "65536",
        ])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let body_written = || {
        std::fs::read_dir(dir.path()).is_ok_and(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .any(|m| m.is_file() && m.len() > 65536)
        })
    };
    recvscope_testkit::wait_until(
        body_written,
        "more than one recv's worth of body in the file being written",
    );
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert_eq!(names_in(dir.path()), ["endless.partial"]);
    let kept = std::fs::metadata(dir.path().join("endless.partial"))
        .expect("partial")
        .len();
    assert!(kept > 65536, "{kept} bytes kept");
}

#[test]
fn a_reader_that_closes_stdout_ends_the_run_quietly_and_a_full_stdout_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("http://{}/cover3.jpg", server(Reply::Image));
    let args = [
        "fetch",
        &url,
        "--no-capture",
        "--no-save",
        "--discard-body",
        "--recv-size",
        "1",
    ];
    // `recvscope fetch … | head -1`: one line read, then the pipe closed.
    let mut child = Command::new(env!("CARGO_BIN_EXE_recvscope"))
        .args(args)
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = [0u8; 1];
    let mut stdout = child.stdout.take().expect("stdout");
    stdout.read_exact(&mut first).expect("a first byte");
    drop(stdout);
    let out = child.wait_with_output().expect("wait");
    assert_eq!((out.status.code(), stderr(&out)), (Some(0), String::new()));

    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let out = Command::new(env!("CARGO_BIN_EXE_recvscope"))
        .args(args)
        .current_dir(dir.path())
        .stdout(full)
        .output()
        .expect("run");
    assert_eq!(
        (out.status.code(), stderr(&out)),
        (
            Some(1),
            "recvscope: writing to standard output: No space left on device (os error 28)\n"
                .to_string()
        )
    );
}

#[test]
fn a_full_captures_directory_names_the_recv_log_it_could_not_write() {
    if !is_root() {
        eprintln!("not root: no private mount namespace for the full-directory test");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("http://{}/cover3.jpg", server(Reply::Image));
    // 70057 one-byte recvs make a recv log far past a 64 KiB tmpfs.
    let out = on_a_tiny_disk(
        dir.path(),
        64,
        &format!("fetch {url} --no-capture --save x --discard-body --recv-size 1 >/dev/null"),
    );
    assert_eq!(
        (out.status.code(), stderr(&out)),
        (
            Some(1),
            "recvscope: cannot write the recv log runs/x.recv.jsonl: the disk is full; free some space, or save runs on another disk with --captures DIR (or not at all with --no-save)\n"
                .to_string()
        )
    );
}

#[test]
fn a_full_captures_directory_with_the_capture_on_it_never_claims_the_wire_is_kept() {
    if !is_root() {
        eprintln!("not root: no private mount namespace for the full-directory test");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("http://{}/cover3.jpg", server(Reply::Image));
    let out = on_a_tiny_disk(
        dir.path(),
        64,
        &format!("fetch {url} --save x --discard-body --recv-size 1 >/dev/null"),
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(
            "recvscope: cannot write the recv log runs/x.recv.jsonl: the disk is full;"
        ),
        "{err}"
    );
    assert!(
        err.contains("; writing the capture runs/x.pcap failed too ("),
        "{err}"
    );
    assert!(!err.contains("the wire so far is in"), "{err}");
}

#[test]
fn a_silent_server_leaves_no_empty_file_posing_as_a_partial_body() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("http://{}/cover3.jpg", server(Reply::Silent));
    let err = fails(
        dir.path(),
        &[
            "fetch",
            &url,
            "--no-capture",
            "--no-save",
            "--timeout",
            "300ms",
        ],
    );
    assert_eq!(
        err,
        "recvscope: no data for 0.3 s after 0 bytes (raise --timeout)\n"
    );
    assert_eq!(names_in(dir.path()), Vec::<String>::new());
}

#[test]
fn broken_chunks_and_a_six_digit_status_each_say_what_is_wrong() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("http://{}/c", server(Reply::BadChunks));
    let err = fails(
        dir.path(),
        &["fetch", &url, "--http", "1.1", "--no-capture", "--no-save"],
    );
    assert_eq!(
        err,
        "recvscope: the chunked framing is broken after 5 body bytes: invalid chunk size; the partial body is in c.partial\n"
    );
    let url = format!("http://{}/s", server(Reply::SixDigitStatus));
    let err = fails(dir.path(), &["fetch", &url, "--no-capture", "--no-save"]);
    assert_eq!(
        err,
        "recvscope: the status line \"HTTP/1.1 999999 OK\" is malformed: the status code must be 3 digits\n"
    );
    assert_eq!(names_in(dir.path()), ["c.partial"]);
}

#[test]
fn bytes_past_the_content_length_are_a_warning_and_not_saved() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("http://{}/l", server(Reply::LongerThanContentLength));
    let out = recvscope(dir.path(), &["fetch", &url, "--no-capture", "--no-save"]);
    assert_eq!(
        (out.status.code(), stderr(&out)),
        (
            Some(0),
            "recvscope: warning: the server sent 3 bytes more than its Content-Length of 2; they are not part of the body and were not saved\n"
                .to_string()
        )
    );
    assert_eq!(std::fs::read(dir.path().join("l")).expect("body"), b"he");
}

#[test]
fn a_zero_timeout_a_unitless_delay_and_a_header_cutting_snaplen_are_refused_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = |args: &[&str]| {
        let out = recvscope(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        stderr(&out).lines().next().unwrap_or_default().to_string()
    };
    assert_eq!(
        first(&["fetch", "--timeout", "0s"]),
        "error: invalid value '0s' for '--timeout <DURATION>': \"0s\": must be more than 0, e.g. 30s"
    );
    assert_eq!(
        first(&["fetch", "--delay", "5"]),
        "error: invalid value '5' for '--delay <DURATION>': \"5\" needs a unit: 5s or 5ms (ns, us, ms, s or m)"
    );
    assert_eq!(
        first(&["fetch", "--snaplen", "10"]),
        "error: invalid value '10' for '--snaplen <BYTES>': 10 bytes cut a frame inside its headers, so no packet could be read as TCP: give at least 144, or 0 for whole frames"
    );
    assert_eq!(names_in(dir.path()), Vec::<String>::new());
}

#[test]
fn a_capture_file_that_cannot_be_written_is_a_warning_that_says_what_it_means() {
    if !is_root() {
        eprintln!("not root: no capture and no private mount namespace for this test");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    // The reply comes late, so the recv log's few lines (one page) are
    // placed first; the capture of whole frames then fills the 32 KiB tmpfs.
    let url = format!("http://{}/cover3.jpg", server(Reply::LateImage));
    let out = on_a_tiny_disk(
        dir.path(),
        32,
        &format!("fetch {url} --save x --snaplen 0 --recv-size 65536 --discard-body"),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let warning: Vec<&str> = text.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    let [line] = warning[..] else {
        panic!("one warning: {text}");
    };
    let (before, after) = line
        .split_once(" bytes reached the disk)")
        .unwrap_or_else(|| panic!("{line}"));
    assert!(
        before.starts_with("  warning: writing the capture file runs/x.pcap failed ("),
        "{line}"
    );
    assert_eq!(
        after,
        ": the file stops early, so `recvscope replay` of it shows less than this report, which saw every frame"
    );
    assert_eq!(
        text.lines().last(),
        Some(
            "saved runs/x.pcap and runs/x.recv.jsonl; `recvscope replay runs/x.pcap` shows the part of this run the file holds"
        )
    );
}
