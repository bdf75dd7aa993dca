//! `recvscope-conformance`: a capture a side cannot read is a failure of its
//! own, never a row of agreeing zeros.

use std::path::Path;
use std::process::{Command, Output};

fn conformance(dir: &Path, exceptions: Option<&Path>) -> Option<Output> {
    if Command::new("tshark").arg("--version").output().is_err() {
        recvscope_testkit::tool_missing("tshark", "the conformance check");
        return None;
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_recvscope-conformance"));
    cmd.arg(dir);
    if let Some(e) = exceptions {
        cmd.arg("--exceptions").arg(e);
    }
    Some(cmd.output().expect("run recvscope-conformance"))
}

/// A directory with a sample capture and a text file named `notes.pcap`.
fn sample_and_text() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/book-nodelay.pcap");
    std::fs::copy(from, dir.path().join("book-nodelay.pcap")).expect("copy");
    std::fs::write(
        dir.path().join("notes.pcap"),
        "a text file, not a capture\n",
    )
    .expect("write");
    dir
}

#[test]
fn a_capture_neither_side_can_read_fails_the_run() {
    let dir = sample_and_text();
    let Some(out) = conformance(dir.path(), None) else {
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let row = text
        .lines()
        .find(|l| l.starts_with("notes.pcap"))
        .expect("a row for the unreadable file");
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(&cols[..4], ["notes.pcap", "readable", "0", "0"], "{row}");
    assert!(row.contains("UNREADABLE"), "{row}");
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("notes.pcap") && !l.contains("readable")),
        "no flag of it is compared: {text}"
    );
    assert!(text.contains("1 unlisted mismatch(es)"), "{text}");
}

#[test]
fn a_listed_unreadable_capture_passes_and_the_readable_one_is_compared() {
    let dir = sample_and_text();
    let exceptions = dir.path().join("exceptions.tsv");
    std::fs::write(
        &exceptions,
        "notes.pcap\treadable\t0\t0\ta text file: neither reads it\n",
    )
    .expect("write");
    let Some(out) = conformance(dir.path(), Some(&exceptions)) else {
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("EXCEPTION: a text file: neither reads it"),
        "{text}"
    );
    assert!(
        text.contains("2 captures, 16 counts compared"),
        "15 for the readable capture (14 flags and dsack), 1 for the other: {text}"
    );
}
