//! Every guided lab runs on loopback and its lesson is asserted.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn recvscope(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_recvscope"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run recvscope")
}

/// One lab at a time: a lab's lesson rests on timing (a reader that keeps
/// up with loopback never closes an 8 KiB window), which other labs
/// running beside it on two cores would disturb.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs a lab as JSON (capturing when root, else socket-side only).
fn lab(name: &str) -> (Value, tempfile::TempDir) {
    let _alone = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = vec!["lab", name, "--json"];
    if !is_root() {
        eprintln!("not root: lab {name} runs without capture (CI runs it as root)");
        args.push("--no-capture");
    }
    let out = recvscope(dir.path(), &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = serde_json::from_slice(&out.stdout).expect("JSON");
    sentences_hold(&doc);
    (doc, dir)
}

/// Asserts, for every run of a lab, that its lesson's facts are the figures of its
/// recvs and wire, and that no sentence printed about it says otherwise.
fn sentences_hold(doc: &Value) {
    let runs = doc["runs"].as_array().expect("runs");
    for (i, run) in runs.iter().enumerate() {
        let lesson = &run["fetch"]["lesson"];
        let said = run["fetch"]["explanation"]
            .as_array()
            .expect("explanation")
            .iter()
            .map(|l| l.as_str().expect("a sentence"))
            .collect::<Vec<_>>()
            .join(" ");
        let data: Vec<&Value> = run["fetch"]["recvs"]
            .as_array()
            .expect("recvs")
            .iter()
            .filter(|r| r["bytes"].as_u64() > Some(0))
            .collect();
        let n = |r: &Value, k: &str| r[k].as_u64().expect(k);
        let full = data
            .iter()
            .filter(|r| n(r, "bytes") >= n(r, "asked"))
            .count();
        let ctx = format!("run {i}: {said}");
        assert_eq!(lesson["recvs"]["full"].as_u64(), Some(full as u64), "{ctx}");
        assert_eq!(
            run["summary"]["full_recvs"].as_u64(),
            Some(full as u64),
            "{ctx}"
        );
        let waiting = &lesson["recvs"]["waiting"];
        let queued: Vec<u64> = data.iter().map(|r| n(r, "queued_before")).collect();
        assert_eq!(
            waiting["most"].as_u64(),
            queued.iter().max().copied(),
            "{ctx}"
        );
        let found_less = data.iter().any(|r| n(r, "queued_before") < n(r, "asked"));
        let kept_up = lesson["kept_up"] == true;
        assert_eq!(said.contains("kept up"), kept_up, "{ctx}");
        let Some(story) = lesson["wire"].as_object() else {
            assert!(!kept_up, "{ctx}");
            continue;
        };
        let w = |k: &str| story[k].as_u64().expect(k);
        let stalls = w("zero_window_stalls");
        assert_eq!(wire(doc, i, "zero_window_stalls"), Some(stalls), "{ctx}");
        assert_eq!(
            wire(doc, i, "zero_window_segments"),
            Some(w("zero_window_segments")),
            "{ctx}"
        );
        if kept_up {
            assert!(
                found_less && stalls == 0 && w("zero_window_segments") == 0,
                "{ctx}"
            );
        }
        if said.contains("window never closed") {
            assert_eq!((stalls, w("zero_window_segments")), (0, 0), "{ctx}");
        }
        if said.contains("never held the sender back") {
            assert_eq!(w("window_full_segments"), 0, "{ctx}");
        }
        let stalled_since: Vec<i64> = data
            .iter()
            .filter_map(|r| r["stalled"]["since_ns"].as_i64())
            .collect();
        if let Some(first) = stalled_since.iter().min() {
            assert!(
                story["first_zero_window"]["at"]["t_ns"].as_i64() <= Some(*first),
                "the first zero window is no later than any recv saw one: {ctx}"
            );
        }
        if stalls > 0 {
            let t = story["first_zero_window"]["at"]["t_ns"]
                .as_i64()
                .expect("a stall has a first zero window");
            let ms = format!("{:.1} ms", t as f64 / 1e6);
            assert!(
                said.contains(&ms),
                "the sentence names the zero window's time {ms}: {ctx}"
            );
        }
    }
    for look in doc["look_for"].as_array().expect("look_for") {
        let text = look["text"].as_str().expect("text");
        assert_eq!(look["held"] == false, text.contains("(Not in"), "{text}");
    }
}

/// A wire figure of run `i`, or `None` without a capture.
fn wire(doc: &Value, i: usize, name: &str) -> Option<u64> {
    doc["runs"][i]["summary"]["wire"][name].as_u64()
}

fn label(doc: &Value, i: usize) -> &str {
    doc["runs"][i]["label"].as_str().expect("label")
}

/// The frames of `pcap` that tshark's display `filter` keeps, or `None`
/// without tshark.
fn tshark_count(pcap: &Path, filter: &str) -> Option<u64> {
    let out = match Command::new("tshark")
        .arg("-r")
        .arg(pcap)
        .args(["-Y", filter, "-T", "fields", "-e", "frame.number"])
        .output()
    {
        Ok(out) => out,
        Err(_) => {
            recvscope_testkit::tool_missing("tshark", "the tshark comparison");
            return None;
        }
    };
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).lines().count() as u64)
}

/// The lab table's per-segment rows of run `i` (the client's zero-window
/// segments and window updates, the server's window-full segments and
/// persist probes) are tshark's counts of its capture.
fn per_segment_rows_are_tsharks(doc: &Value, i: usize, dir: &Path) {
    let run = &doc["runs"][i]["fetch"];
    let pcap = dir.join(run["capture"]["file"].as_str().expect("the capture file"));
    let server = run["connection"]["server"].as_str().expect("server");
    let port = server.rsplit_once(':').expect("addr:port").1;
    let client = format!("tcp.dstport == {port}");
    let from_server = format!("tcp.srcport == {port}");
    for (row, filter) in [
        (
            "zero_window_segments",
            format!("tcp.analysis.zero_window && {client}"),
        ),
        (
            "window_updates",
            format!("tcp.analysis.window_update && {client}"),
        ),
        (
            "window_full_segments",
            format!("tcp.analysis.window_full && {from_server}"),
        ),
        (
            "persist_probes",
            format!("tcp.analysis.keep_alive && {from_server}"),
        ),
    ] {
        if let Some(n) = tshark_count(&pcap, &filter) {
            assert_eq!(wire(doc, i, row), Some(n), "{row}: tshark -Y '{filter}'");
        }
    }
}

/// A figure the server's kernel gave of run `i`.
fn kernel(doc: &Value, i: usize, name: &str) -> u64 {
    doc["runs"][i]["summary"]["kernel"][name]
        .as_u64()
        .unwrap_or_else(|| panic!("run {i} has no kernel {name}: {doc}"))
}

/// Asserts that on every run of the lab the wire's verdict ("limited by") and the server
/// kernel's agree on whether the receiver's window set the pace, wherever the kernel can
/// tell; returns the labels of the runs too short for it (open under 100 ms, where its
/// clock counts 0 or a tick or two).
fn wire_and_kernel_agree(doc: &Value) -> Vec<String> {
    let runs = doc["runs"].as_array().expect("runs");
    let mut too_short = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        let s = &run["summary"];
        let (busy, rwnd, sndbuf) = (
            kernel(doc, i, "busy_us"),
            kernel(doc, i, "rwnd_limited_us"),
            kernel(doc, i, "sndbuf_limited_us"),
        );
        assert!(busy >= rwnd + sndbuf, "the limits are parts of busy: {s}");
        let verdict = &s["kernel"]["limited_by"];
        if verdict.is_null() {
            assert!(kernel(doc, i, "open_ns") < 100_000_000, "{s}");
            assert_eq!(s["verdicts_agree"], Value::Null, "{s}");
            too_short.push(label(doc, i).to_string());
            continue;
        }
        if !is_root() {
            assert_eq!(s["verdicts_agree"], Value::Null, "no wire: {s}");
            continue;
        }
        let wire = &s["wire"]["pace"]["limited_by"];
        assert_eq!(
            *verdict == "receiver",
            *wire == "receiver",
            "{}: the wire says {wire}, the server's kernel {verdict} (busy {busy} µs, rwnd-limited {rwnd} µs, sndbuf-limited {sndbuf} µs): {s}",
            label(doc, i)
        );
        assert_eq!(s["verdicts_agree"], true, "{s}");
    }
    too_short
}

/// Asserts that each run's retransmissions and D-SACKs, each way, are the frames tshark
/// flags `tcp.analysis.retransmission` and marks "D-SACK Sequence" (the frames with a
/// `tcp.options.sack.dsack_le`) in the capture the lab recorded. Every run must have
/// one; skipped, with a message, without tshark.
fn retransmissions_and_dsacks_are_tsharks(doc: &Value, dir: &Path) {
    for run in doc["runs"].as_array().expect("runs") {
        let pcap = run["fetch"]["capture"]["file"]
            .as_str()
            .expect("a capture of every run");
        let out = Command::new("tshark")
            .args(["-n", "-r", pcap, "-T", "fields", "-E", "separator=,"])
            .args(["-E", "occurrence=f", "-e", "tcp.srcport"])
            .args(["-e", "tcp.analysis.retransmission"])
            .args(["-e", "tcp.options.sack.dsack_le"])
            .current_dir(dir)
            .output();
        let Ok(out) = out else {
            recvscope_testkit::tool_missing("tshark", "the D-SACK comparison");
            return;
        };
        assert!(out.status.success(), "tshark on {pcap}");
        let conn = &run["fetch"]["connection"];
        let server_port = conn["server"]
            .as_str()
            .and_then(|a| a.rsplit(':').next())
            .expect("server address");
        let text = String::from_utf8_lossy(&out.stdout);
        let from = |side: &str, line: &str| {
            (line.split(',').next() == Some(server_port)) == (side == "server")
        };
        let (mut theirs, mut ours) = (Vec::new(), Vec::new());
        for (sender, receiver) in [("server", "client"), ("client", "server")] {
            let resent = &conn["flow_control"]["pace"][sender]["retransmissions"];
            ours.push((sender, resent["segments"].clone(), resent["dsacks"].clone()));
            let count = |side: &str, column: usize| {
                text.lines()
                    .filter(|l| from(side, l))
                    .filter(|l| l.split(',').nth(column).is_some_and(|f| !f.is_empty()))
                    .count()
            };
            theirs.push((
                sender,
                Value::from(count(sender, 1)),
                Value::from(count(receiver, 2)),
            ));
        }
        assert_eq!(
            ours, theirs,
            "{pcap}: (sender, retransmissions, D-SACKs from its receiver)"
        );
    }
}

#[test]
fn book_lab_delayed_run_is_flow_controlled_and_undelayed_run_is_not() {
    let (doc, dir) = lab("book");
    assert_eq!(
        (label(&doc, 0), label(&doc, 1)),
        ("no delay", "0.25 s delay")
    );
    let full = |i: usize| {
        doc["runs"][i]["summary"]["full_recvs"]
            .as_u64()
            .expect("full")
    };
    assert!(full(1) > full(0), "the slow reader's recvs come back full");
    let sizes = |i: usize| -> Vec<u64> {
        doc["runs"][i]["fetch"]["recvs"]
            .as_array()
            .expect("recvs")
            .iter()
            .filter_map(|r| r["bytes"].as_u64())
            .filter(|&b| b > 0)
            .collect()
    };
    let delayed = sizes(1);
    let short_before_last = delayed[..delayed.len() - 1]
        .iter()
        .filter(|&&b| b != 5120)
        .count();
    assert!(
        short_before_last <= 1,
        "with the sleep every recv is full but the last and the one that ends the last stall: {delayed:?}"
    );
    let short: Vec<u64> = sizes(0).into_iter().filter(|&b| b < 5120).collect();
    assert!(
        short.len() >= 3,
        "without it the sizes vary with what has arrived: {short:?}"
    );
    for i in 0..2 {
        assert_eq!(doc["runs"][i]["fetch"]["header_length"], 242);
        assert_eq!(
            doc["runs"][i]["summary"]["bytes"], 70_303,
            "242 + 4 + 70057"
        );
        assert_eq!(
            doc["runs"][i]["summary"]["bytes"],
            doc["runs"][i]["fetch"]["recvs"]
                .as_array()
                .and_then(|r| r.last())
                .map(|r| r["total"].clone())
                .expect("total")
        );
        assert_eq!(doc["runs"][i]["fetch"]["rcvbuf"]["given"], 65536);
    }
    if is_root() {
        let pace = |i: usize| &doc["runs"][i]["summary"]["wire"]["pace"];
        assert_ne!(pace(0)["limited_by"], "receiver", "{}", pace(0));
        assert_eq!(pace(1)["limited_by"], "receiver", "{}", pace(1));
        assert_eq!(
            pace(1)["zero_window_stalls"],
            wire(&doc, 1, "zero_window_stalls").expect("stalls")
        );
        retransmissions_and_dsacks_are_tsharks(&doc, dir.path());
        assert_eq!(wire(&doc, 0, "zero_window_stalls"), Some(0));
        assert!(wire(&doc, 1, "zero_window_stalls") > Some(0));
        assert!(wire(&doc, 1, "window_updates") > Some(0));
        assert!(wire(&doc, 1, "persist_probes") > Some(0));
        for (i, slug) in ["nodelay", "delay"].into_iter().enumerate() {
            let pcap = doc["runs"][i]["fetch"]["capture"]["file"]
                .as_str()
                .expect("the capture file");
            assert_eq!(pcap, format!("{}/{slug}.pcap", run_dir(dir.path())));
            let replay = recvscope(dir.path(), &["replay", pcap, "--json"]);
            assert!(replay.status.success());
            let r: Value = serde_json::from_slice(&replay.stdout).expect("JSON");
            assert_eq!(
                r["recvs"], doc["runs"][i]["fetch"]["recvs"],
                "{slug} replays the same"
            );
            assert_eq!(
                r["connections"][0]["http"][0]["complete"], true,
                "labs keep whole frames, so the capture holds the HTTP"
            );
        }
    }
    // Known: the no-delay run is over in a few tens of milliseconds (three or four 20 ms
    // rounds of the shaped server), under the 100 ms the kernel's chronographs need
    // (ten ticks at HZ=100), so only the wire judges it.
    assert_eq!(wire_and_kernel_agree(&doc), ["no delay"]);
    if is_root() {
        for look in doc["look_for"].as_array().expect("look_for") {
            assert_eq!(
                look["held"], true,
                "the book's runs show what to look for: {look}"
            );
        }
    }
    let commands = &doc["runs"][1]["commands"];
    assert_eq!(commands[0], "recvscope serve --port 8080 --rtt 20ms");
    assert_eq!(
        commands[1],
        "sudo recvscope fetch http://127.0.0.1:8080/cover3.jpg --rcvbuf 32768 --delay 250ms --snaplen 0 --discard-body"
    );
}

#[test]
fn lab_html_writes_one_page_for_the_experiment_that_the_invoking_user_owns() {
    use std::os::unix::fs::MetadataExt;
    let _alone = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_recvscope"));
    cmd.args(["lab", "book", "--html", "book.html"])
        .current_dir(dir.path());
    if is_root() {
        std::os::unix::fs::chown(dir.path(), Some(65534), Some(65534)).expect("chown");
        cmd.env("SUDO_UID", "65534")
            .env("SUDO_GID", "65534")
            .env("SUDO_USER", "nobody");
    } else {
        eprintln!("not root: the page is made without a capture (CI runs it as root)");
        cmd.arg("--no-capture");
    }
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.ends_with("\nThe experiment's page (open it in a browser): book.html\n"),
        "{stdout}"
    );
    let path = dir.path().join("book.html");
    let page = std::fs::read_to_string(&path).expect("the page");
    if is_root() {
        let meta = std::fs::metadata(&path).expect("meta");
        assert_eq!(
            (meta.uid(), meta.gid()),
            (65534, 65534),
            "written after the privilege drop"
        );
    }
    let mut names = names_in(dir.path());
    names.retain(|n| n != "runs");
    assert_eq!(names, ["book.html"], "one page, no page per run");
    assert!(page.starts_with("<!DOCTYPE html>") && page.ends_with("</html>\n"));
    assert_eq!(
        page.matches("<svg").count(),
        if is_root() { 2 } else { 0 },
        "a graph per captured run"
    );
    for label in ["no delay", "0.25 s delay"] {
        let answer =
            format!("<li><b>{label}</b>: 242 + 4 + 70057 = 70303, the last running total.</li>");
        assert!(page.contains(&answer), "the book's arithmetic: {answer}");
    }
    assert_eq!(
        page.matches("<pre>Header Length 242\nHTTP/1.1 200 OK")
            .count(),
        2
    );
    for loads in ["src=", "href=", "@import", "<link", "<script"] {
        assert!(!page.contains(loads), "{loads}");
    }
}

#[test]
fn lab_html_over_an_existing_file_stops_before_the_runs_without_force() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("book.html"), "mine").expect("write");
    let mut args = vec!["lab", "book", "--html", "book.html"];
    if !is_root() {
        args.push("--no-capture");
    }
    let out = recvscope(dir.path(), &args);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err,
        "recvscope: book.html already exists; pass --force to replace it, or --html another FILE\n"
    );
    assert_eq!(names_in(dir.path()), ["book.html"], "no run was made");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("book.html")).expect("read"),
        "mine"
    );
}

/// The one directory a lab made under `DIR/runs`, as `runs/lab-NAME-TIME`,
/// after checking it is the only entry there and named for the UTC time.
fn run_dir(dir: &Path) -> String {
    let names = names_in(&dir.join("runs"));
    assert_eq!(names.len(), 1, "one directory per lab: {names:?}");
    let name = &names[0];
    let stamp = name.strip_prefix("lab-book-").expect("lab-book-TIME");
    assert!(is_utc_stamp(stamp), "{name}");
    format!("runs/{name}")
}

/// `YYYYMMDD-HHMMSS`.
fn is_utc_stamp(s: &str) -> bool {
    s.len() == 15
        && s.char_indices()
            .all(|(i, c)| if i == 8 { c == '-' } else { c.is_ascii_digit() })
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
fn the_commands_that_repeat_a_run_by_hand_work_when_pasted_twice() {
    use recvscope::report::lab::experiments;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let run = experiments::find("book").expect("book").runs[0];
    let [serve, fetch] = experiments::commands(&run, port);
    let dir = tempfile::tempdir().expect("tempdir");
    let argv = |line: &str| -> Vec<String> {
        let mut words: Vec<String> = line
            .split_whitespace()
            .skip_while(|w| *w == "sudo")
            .skip(1)
            .map(String::from)
            .collect();
        if !is_root() && words[0] == "fetch" {
            words.push("--no-capture".into());
        }
        words
    };
    let mut server = Command::new(env!("CARGO_BIN_EXE_recvscope"))
        .args(argv(&serve))
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve");
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed().as_secs() < 10,
            "the server never listened"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let args = argv(&fetch);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let outs = [recvscope(dir.path(), &args), recvscope(dir.path(), &args)];
    server.kill().expect("stop the server");
    server.wait().expect("wait");
    for out in &outs {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(names_in(dir.path()), ["runs"], "no body file");
    let saved = names_in(&dir.path().join("runs"));
    let logs: Vec<&String> = saved
        .iter()
        .filter(|n| n.ends_with(".recv.jsonl"))
        .collect();
    assert_eq!(logs.len(), 2, "two runs, two names: {saved:?}");
    for log in logs {
        let name = log.trim_end_matches(".recv.jsonl");
        let stamp = name.strip_prefix("cover3-").expect("cover3-TIME");
        assert!(is_utc_stamp(stamp.trim_end_matches("-2")), "{name}");
        assert_eq!(
            saved.contains(&format!("{name}.pcap")),
            is_root(),
            "{saved:?}"
        );
    }
}

#[test]
fn slow_reader_lab_shows_stalls_probes_and_updates() {
    let (doc, dir) = lab("slow-reader");
    if is_root() {
        retransmissions_and_dsacks_are_tsharks(&doc, dir.path());
        let stalls = wire(&doc, 0, "zero_window_stalls").expect("stalls");
        assert!(stalls > 0);
        let segments = wire(&doc, 0, "zero_window_segments").expect("segments");
        assert_eq!(
            Some(segments),
            doc["runs"][0]["fetch"]["connection"]["flags_by_direction"]["client"]["zero_window"]
                .as_u64(),
            "the client's segments Wireshark flags zero_window"
        );
        assert!(segments >= stalls, "each stall starts with one");
        per_segment_rows_are_tsharks(&doc, 0, dir.path());
        assert!(
            wire(&doc, 0, "persist_probes") >= Some(stalls),
            "probes while stalled"
        );
        assert!(wire(&doc, 0, "window_updates") > Some(0));
    }
    assert!(wire_and_kernel_agree(&doc).is_empty());
}

#[test]
fn buffer_size_lab_stalls_less_as_the_buffer_grows() {
    let (doc, dir) = lab("buffer-size");
    let given: Vec<u64> = (0..4)
        .map(|i| {
            doc["runs"][i]["fetch"]["rcvbuf"]["given"]
                .as_u64()
                .expect("rcvbuf")
        })
        .collect();
    assert_eq!(given[..3], [8192, 32768, 131072], "Linux doubles SO_RCVBUF");
    if is_root() {
        let stalls: Vec<u64> = (0..4)
            .map(|i| wire(&doc, i, "zero_window_stalls").expect("stalls"))
            .collect();
        assert!(stalls[0] > 0, "{stalls:?}");
        assert!(stalls.windows(2).all(|w| w[0] >= w[1]), "{stalls:?}");
        assert_eq!(
            stalls[3], 0,
            "the default buffer holds the whole body: {stalls:?}"
        );
        retransmissions_and_dsacks_are_tsharks(&doc, dir.path());
    }
    assert!(wire_and_kernel_agree(&doc).is_empty());
}

#[test]
fn slow_sender_lab_never_fills_the_window() {
    let (doc, dir) = lab("slow-sender");
    assert_eq!(
        (label(&doc, 0), label(&doc, 1)),
        ("slow sender", "slow reader")
    );
    let (full, recvs) = (
        doc["runs"][0]["summary"]["full_recvs"]
            .as_u64()
            .expect("full"),
        doc["runs"][0]["summary"]["recvs"].as_u64().expect("recvs"),
    );
    assert!(
        full * 4 <= recvs,
        "recv returns what trickles in (3276 bytes per 50 ms); only a reader held up \
         for a whole piece finds 5120 waiting: {full} of {recvs} full"
    );
    if is_root() {
        assert_eq!(wire(&doc, 0, "zero_window_stalls"), Some(0));
        assert_eq!(wire(&doc, 0, "window_full_segments"), Some(0));
        let limited_by = |i: usize| &doc["runs"][i]["summary"]["wire"]["pace"]["limited_by"];
        assert_eq!(*limited_by(0), "sender");
        assert!(wire(&doc, 1, "zero_window_stalls") > Some(0));
        assert_eq!(*limited_by(1), "receiver");
        retransmissions_and_dsacks_are_tsharks(&doc, dir.path());
    }
    assert!(wire_and_kernel_agree(&doc).is_empty());
    assert_eq!(kernel(&doc, 0, "rwnd_limited_us"), 0, "the slow sender");
}

#[test]
fn list_describes_every_lab_and_an_unknown_name_says_how_to_find_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = recvscope(dir.path(), &["lab", "--list"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for name in ["book", "slow-reader", "buffer-size", "slow-sender"] {
        assert!(text.contains(&format!("  {name} ")), "{name}: {text}");
    }
    let out = recvscope(dir.path(), &["lab", "nope"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("recvscope lab --list"), "{err}");
}

#[test]
fn without_the_capture_privilege_a_lab_says_how_to_get_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = if is_root() {
        std::os::unix::fs::chown(dir.path(), Some(65534), Some(65534)).expect("chown");
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_recvscope"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_recvscope"))
    };
    let out = cmd
        .args(["lab", "book"])
        .current_dir(dir.path())
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("CAP_NET_RAW") && err.contains("--no-capture"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("dir").count(),
        0,
        "nothing written"
    );
}

#[test]
fn ctrl_c_in_a_lab_keeps_the_runs_so_far() {
    let _alone = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args = vec!["lab", "book"];
    if !is_root() {
        args.push("--no-capture");
    }
    let child = Command::new(env!("CARGO_BIN_EXE_recvscope"))
        .args(&args)
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let second_run_reading = || {
        let runs = dir.path().join("runs");
        let Ok(mut labs) = std::fs::read_dir(&runs) else {
            return false;
        };
        labs.next()
            .and_then(Result::ok)
            .and_then(|lab| std::fs::read_to_string(lab.path().join("delay.recv.jsonl")).ok())
            .is_some_and(|log| log.lines().count() >= 2)
    };
    recvscope_testkit::wait_until(
        second_run_reading,
        "the delayed run's first recv in its log",
    );
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted after"), "{err}");
    let lab = run_dir(dir.path());
    for log in ["nodelay.recv.jsonl", "delay.recv.jsonl"] {
        assert!(dir.path().join(&lab).join(log).exists(), "{log}");
    }
    if is_root() {
        let replay = recvscope(
            dir.path(),
            &["replay", &format!("{lab}/delay.pcap"), "--json"],
        );
        assert!(replay.status.success());
    }
}
