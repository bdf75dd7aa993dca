//! A recv log that does not hold together, beside a real capture (the lab
//! recording of the book's delayed run): replay says in one warning which
//! line of which file is wrong, and goes on without the recv log.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The lab recording and its recv log, copied into `dir`, the log's line
/// `line` (1: the run line) changed by `edit`; the capture's path.
fn corrupted(dir: &Path, line: usize, edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let captures = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let pcap = dir.join("run.pcap");
    std::fs::copy(captures.join("lab-book-delay.pcap"), &pcap).expect("copy capture");
    let text = std::fs::read_to_string(captures.join("lab-book-delay.recv.jsonl")).expect("log");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut value: serde_json::Value = serde_json::from_str(&lines[line - 1]).expect("JSON line");
    edit(&mut value);
    lines[line - 1] = value.to_string();
    std::fs::write(dir.join("run.recv.jsonl"), lines.join("\n") + "\n").expect("write log");
    pcap
}

/// Replays `pcap` as text and as JSON; both must succeed. The text's lines
/// and the JSON document.
fn replay(pcap: &Path) -> (Vec<String>, serde_json::Value) {
    let run = |json: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_recvscope"));
        cmd.arg("replay").arg(pcap);
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output().expect("run recvscope");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stderr), "");
        out.stdout
    };
    let text = String::from_utf8(run(false)).expect("utf-8");
    let doc = serde_json::from_slice(&run(true)).expect("JSON");
    (text.lines().map(str::to_string).collect(), doc)
}

/// Corrupts line `line` with `edit`, replays, and checks that the one
/// warning says `why` of that line (in JSON: `fault`, typed) and that no
/// recv is correlated.
fn ignored_with(
    line: usize,
    edit: impl FnOnce(&mut serde_json::Value),
    why: &str,
    fault: serde_json::Value,
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = corrupted(dir.path(), line, edit);
    let (text, doc) = replay(&pcap);
    let log = dir.path().join("run.recv.jsonl");
    let expected = format!("{}: line {line}: {why}", log.display());
    let warnings: Vec<&String> = text.iter().filter(|l| l.contains("recv log")).collect();
    assert_eq!(
        warnings,
        [&format!("  warning: recv log ignored: {expected}")]
    );
    assert_eq!(
        doc["warnings"],
        serde_json::json!([{
            "kind": "recv_log_ignored",
            "file": log.display().to_string(),
            "line": line,
            "problem": "invalid",
            "fault": fault,
        }])
    );
    assert_eq!(doc.get("recvs"), None, "no recv is correlated");
    assert_eq!(doc["connections"][0]["http"][0]["complete"], true);
}

#[test]
fn the_unchanged_log_is_correlated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = corrupted(dir.path(), 1, |_| {});
    let (text, doc) = replay(&pcap);
    assert_eq!(doc["recvs"].as_array().map(Vec::len), Some(16));
    assert_eq!(doc["warnings"], serde_json::json!([]));
    assert!(text.iter().any(|l| l.starts_with("recv log ")), "{text:?}");
}

#[test]
fn more_bytes_than_the_total_is_refused() {
    ignored_with(
        2,
        |v| v["total"] = 100.into(),
        "total 100 is not the 0 before plus bytes 5120",
        serde_json::json!({"fault": "total_not_sum", "total": 100, "before": 0, "bytes": 5120}),
    );
}

#[test]
fn a_total_that_goes_backwards_is_refused() {
    ignored_with(
        9,
        |v| v["total"] = 5000.into(),
        "total 5000 is less than the line before's 35840",
        serde_json::json!({"fault": "total_fell", "total": 5000, "before": 35840}),
    );
}

#[test]
fn a_total_past_u64_max_is_refused() {
    ignored_with(
        3,
        |v| {
            v["bytes"] = 5120.into();
            v["total"] = u64::MAX.into();
        },
        "total 18446744073709551615 is not the 5120 before plus bytes 5120",
        serde_json::json!({"fault": "total_not_sum", "total": u64::MAX, "before": 5120, "bytes": 5120}),
    );
}

#[test]
fn more_bytes_than_asked_is_refused() {
    ignored_with(
        4,
        |v| {
            v["bytes"] = 6000.into();
            v["total"] = (15360 + 6000).into();
        },
        "bytes 6000 is more than the 5120 asked",
        serde_json::json!({"fault": "bytes_over_asked", "bytes": 6000, "asked": 5120}),
    );
}

#[test]
fn a_recv_that_ends_before_it_starts_is_refused() {
    ignored_with(
        5,
        |v| {
            v["start_ns"] = i64::MAX.into();
            v["end_ns"] = i64::MIN.into();
        },
        "end_ns -9223372036854775808 is before start_ns 9223372036854775807",
        serde_json::json!({"fault": "end_before_start", "start_ns": i64::MAX, "end_ns": i64::MIN}),
    );
}

#[test]
fn a_start_far_before_the_capture_is_refused() {
    ignored_with(
        6,
        |v| v["start_ns"] = i64::MIN.into(),
        "start_ns -9223372036854775808 is more than 60 s outside the capture, \
         whose frames run from 1796220722381269474 to 1796220726134829201",
        serde_json::json!({"fault": "outside_capture", "which": "start", "ts_ns": i64::MIN, "first_ns": 1_796_220_722_381_269_474i64, "last_ns": 1_796_220_726_134_829_201i64}),
    );
}

#[test]
fn an_end_far_after_the_capture_is_refused() {
    ignored_with(
        7,
        |v| v["end_ns"] = i64::MAX.into(),
        "end_ns 9223372036854775807 is more than 60 s outside the capture, \
         whose frames run from 1796220722381269474 to 1796220726134829201",
        serde_json::json!({"fault": "outside_capture", "which": "end", "ts_ns": i64::MAX, "first_ns": 1_796_220_722_381_269_474i64, "last_ns": 1_796_220_726_134_829_201i64}),
    );
}

#[test]
fn a_request_time_a_minute_and_a_nanosecond_before_the_capture_is_refused() {
    ignored_with(
        1,
        |v| v["request_ts_ns"] = (1_796_220_722_381_269_474i64 - 60_000_000_001).into(),
        "request_ts_ns 1796220662381269473 is more than 60 s outside the capture, \
         whose frames run from 1796220722381269474 to 1796220726134829201",
        serde_json::json!({"fault": "outside_capture", "which": "request", "ts_ns": 1_796_220_662_381_269_473i64, "first_ns": 1_796_220_722_381_269_474i64, "last_ns": 1_796_220_726_134_829_201i64}),
    );
}

#[test]
fn indices_out_of_order_are_refused() {
    ignored_with(
        5,
        |v| v["index"] = 4.into(),
        "index 4 where 3 is due (recvs are numbered from 0, in order)",
        serde_json::json!({"fault": "index", "index": 4, "expected": 3}),
    );
}

#[test]
fn a_line_that_is_not_a_recv_log_line_is_named_with_the_parsers_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = corrupted(dir.path(), 3, |v| *v = serde_json::json!("text"));
    let (text, doc) = replay(&pcap);
    let log = dir.path().join("run.recv.jsonl").display().to_string();
    let warning = &doc["warnings"][0];
    assert_eq!(warning["kind"], "recv_log_ignored");
    assert_eq!(warning["file"], log.as_str());
    assert_eq!(warning["line"], 3);
    assert_eq!(warning["problem"], "not_a_recv_log");
    let reason = warning["reason"].as_str().expect("the parser's reason");
    assert!(
        text.contains(&format!(
            "  warning: recv log ignored: {log}: line 3: not a recvscope recv log line ({reason})"
        )),
        "{text:?}"
    );
}

/// The lab recording copied into `dir` as `run.pcap`, with `log` put in
/// place of its recv log; the capture's path.
fn beside(dir: &Path, log: impl FnOnce(&Path)) -> PathBuf {
    let captures = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let pcap = dir.join("run.pcap");
    std::fs::copy(captures.join("lab-book-delay.pcap"), &pcap).expect("copy capture");
    log(&dir.join("run.recv.jsonl"));
    pcap
}

/// The one warning a replay of `pcap` gives, in text and in JSON.
fn the_warning(pcap: &Path) -> (String, serde_json::Value) {
    let (text, doc) = replay(pcap);
    let lines: Vec<&String> = text.iter().filter(|l| l.contains("recv log")).collect();
    assert_eq!(lines.len(), 1, "{text:?}");
    assert_eq!(doc["warnings"].as_array().map(Vec::len), Some(1), "{doc}");
    assert_eq!(doc.get("recvs"), None, "no recv is correlated");
    (lines[0].clone(), doc["warnings"][0].clone())
}

#[test]
fn a_pipe_or_a_link_to_a_device_in_place_of_the_log_is_refused_before_a_byte_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = beside(dir.path(), |log| {
        let c = std::ffi::CString::new(log.to_str().expect("utf-8")).expect("path");
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
    });
    let log = dir.path().join("run.recv.jsonl").display().to_string();
    let (line, json) = the_warning(&pcap);
    assert_eq!(
        line,
        format!("  warning: recv log ignored: {log}: it is a pipe, not a recv log file")
    );
    assert_eq!(json["problem"], "not_a_file");
    assert_eq!(json["what"], "a pipe");
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = beside(dir.path(), |log| {
        std::os::unix::fs::symlink("/dev/zero", log).expect("symlink");
    });
    let log = dir.path().join("run.recv.jsonl").display().to_string();
    let (line, _) = the_warning(&pcap);
    assert_eq!(
        line,
        format!(
            "  warning: recv log ignored: {log}: it is a character device, not a recv log file"
        )
    );
}

#[test]
fn a_line_longer_than_any_recv_log_line_is_refused_without_reading_it_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pcap = corrupted(dir.path(), 2, |v| {
        v["pad"] = "x".repeat(70_000).into();
    });
    let log = dir.path().join("run.recv.jsonl").display().to_string();
    let (line, json) = the_warning(&pcap);
    assert_eq!(
        line,
        format!(
            "  warning: recv log ignored: {log}: line 2: longer than 65536 bytes, which no recv log line is"
        )
    );
    assert_eq!(json["problem"], "line_too_long");
    assert_eq!(json["limit"], 65536);
}

#[test]
fn a_last_line_cut_short_without_its_line_break_is_dropped_and_the_rest_correlated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let captures = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let whole = std::fs::read_to_string(captures.join("lab-book-delay.recv.jsonl")).expect("log");
    let lines = whole.lines().count();
    let cut = &whole[..whole.trim_end().len() - 10];
    let pcap = beside(dir.path(), |log| std::fs::write(log, cut).expect("write"));
    let (_, doc) = replay(&pcap);
    assert_eq!(doc["warnings"], serde_json::json!([]));
    assert_eq!(
        doc["recvs"].as_array().map(Vec::len),
        Some(lines - 2),
        "every recv but the cut one"
    );
}
