//! Adversarial captures, built here, replayed end to end: recvscope
//! finishes each with a report and warnings, and its memory stays within
//! the documented bounds (open connections, 4 MiB of reassembly per
//! direction, 64 KiB of HTTP head), whatever the file's size.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use etherparse::PacketBuilder;

/// A classic little-endian nanosecond pcap being written.
struct Pcap {
    out: std::io::BufWriter<std::fs::File>,
    ts: u64,
}

impl Pcap {
    fn create(path: &Path) -> Pcap {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
        let mut header = Vec::new();
        header.extend_from_slice(&0xa1b2_3c4du32.to_le_bytes());
        header.extend_from_slice(&2u16.to_le_bytes());
        header.extend_from_slice(&4u16.to_le_bytes());
        header.extend_from_slice(&[0; 8]);
        header.extend_from_slice(&262_144u32.to_le_bytes());
        header.extend_from_slice(&1u32.to_le_bytes());
        out.write_all(&header).expect("header");
        Pcap {
            out,
            ts: 1_700_000_000_000_000_000,
        }
    }

    /// One TCP segment from `from_client`'s side of connection `port`.
    fn tcp(
        &mut self,
        port: u16,
        from_client: bool,
        seq: u32,
        ack: Option<u32>,
        flags: &str,
        payload: &[u8],
    ) {
        let (c, s) = (([10, 0, 0, 1], port), ([10, 0, 0, 2], 80));
        let ((sip, sp), (dip, dp)) = if from_client { (c, s) } else { (s, c) };
        let mut b = PacketBuilder::ethernet2([0; 6], [0; 6])
            .ipv4(sip, dip, 64)
            .tcp(sp, dp, seq, 65535);
        for f in flags.chars() {
            b = match f {
                'S' => b.syn(),
                'F' => b.fin(),
                'R' => b.rst(),
                'P' => b.psh(),
                _ => b,
            };
        }
        if let Some(a) = ack {
            b = b.ack(a);
        }
        let mut frame = Vec::with_capacity(b.size(payload.len()));
        b.write(&mut frame, payload).expect("frame");
        self.ts += 1_000;
        let secs = (self.ts / 1_000_000_000) as u32;
        let nanos = (self.ts % 1_000_000_000) as u32;
        for v in [secs, nanos, frame.len() as u32, frame.len() as u32] {
            self.out.write_all(&v.to_le_bytes()).expect("record");
        }
        self.out.write_all(&frame).expect("frame");
    }

    /// A handshake for connection `port` (client ISN 0, server ISN 0).
    fn handshake(&mut self, port: u16) {
        self.tcp(port, true, 0, None, "S", b"");
        self.tcp(port, false, 0, Some(1), "S", b"");
        self.tcp(port, true, 1, Some(1), "", b"");
    }
}

/// A request, then a response head and `blocks` segments of 1400 bytes.
fn exchange(pcap: &mut Pcap, port: u16, request: &[u8], head: &[u8], blocks: u32) {
    pcap.handshake(port);
    let client_next = 1 + request.len() as u32;
    pcap.tcp(port, true, 1, Some(1), "P", request);
    pcap.tcp(port, false, 1, Some(client_next), "P", head);
    let mut seq = 1 + head.len() as u32;
    for _ in 0..blocks {
        pcap.tcp(port, false, seq, Some(client_next), "", &[b'x'; 1400]);
        seq += 1400;
    }
}

/// Replays `path` (report to /dev/null); returns stderr and, of all the
/// replays this test binary has waited for, the largest resident set in MiB.
fn replay(path: &Path) -> (String, u64) {
    let out = Command::new(env!("CARGO_BIN_EXE_recvscope"))
        .arg("replay")
        .arg("--json")
        .arg(path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run recvscope");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let warnings = doc["warnings"].to_string()
        + &doc["connections"]
            .as_array()
            .map(|cs| {
                cs.iter()
                    .map(|c| c["warnings"].to_string() + &c["http"].to_string())
                    .collect::<String>()
            })
            .unwrap_or_default();
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut u);
        u
    };
    (warnings, usage.ru_maxrss as u64 / 1024)
}

#[test]
fn a_hundred_thousand_connections_that_never_close_stay_within_the_open_connection_bound() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("syn-flood.pcap");
    let mut pcap = Pcap::create(&path);
    for i in 0..100_000u32 {
        let port = 1024 + (i % 60_000) as u16;
        let p = PacketBuilder::ethernet2([0; 6], [0; 6])
            .ipv4([10, 1, (i / 60_000) as u8, 1], [10, 0, 0, 2], 64)
            .tcp(port, 80, i, 65535)
            .syn();
        let mut frame = Vec::new();
        p.write(&mut frame, b"").expect("frame");
        pcap.ts += 1_000;
        for v in [
            (pcap.ts / 1_000_000_000) as u32,
            (pcap.ts % 1_000_000_000) as u32,
            frame.len() as u32,
            frame.len() as u32,
        ] {
            pcap.out.write_all(&v.to_le_bytes()).expect("record");
        }
        pcap.out.write_all(&frame).expect("frame");
    }
    drop(pcap);
    let (warnings, rss) = replay(&path);
    let evicted = r#"[{"connections":83968,"kind":"connections_evicted","max_live":16384}]"#;
    assert!(warnings.starts_with(evicted), "{}", &warnings[..200]);
    assert!(rss < 100, "peak {rss} MiB");
    eprintln!("peak {rss} MiB");
}

#[test]
fn hostile_streams_are_cut_at_their_limits_with_warnings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hostile.pcap");
    let mut pcap = Pcap::create(&path);
    let block = vec![b'x'; 1400];

    // Sequence numbers that jump by 1.5 GB at every segment.
    pcap.handshake(1001);
    for i in 0..20_000u32 {
        pcap.tcp(
            1001,
            false,
            1 + i.wrapping_mul(1_500_000_000),
            Some(1),
            "",
            &block,
        );
    }

    // Endless out-of-order data: the first 1400 bytes never come.
    pcap.handshake(1002);
    for i in 1..20_000u32 {
        pcap.tcp(1002, false, 1 + i * 1400, Some(1), "", &block);
    }

    // A 10 MB HTTP head.
    exchange(
        &mut pcap,
        1003,
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Long: ",
        10_000_000 / 1400,
    );
    // Content-Length 2^63, then 2.8 MB of body.
    exchange(
        &mut pcap,
        1004,
        b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\n",
        2000,
    );
    // A chunk size that overflows 64 bits.
    exchange(
        &mut pcap,
        1005,
        b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\nabc\r\n",
        0,
    );
    drop(pcap);

    let (warnings, rss) = replay(&path);
    for needle in [
        r#""why":{"kind":"head_too_large","max":65536}"#,
        r#""why":{"kind":"chunk_size_overflow"}"#,
        r#"{"kind":"reassembly_limit"}"#,
        "\"content_length\":9223372036854775808",
        "\"body_bytes\":2800000",
    ] {
        assert!(warnings.contains(needle), "{needle}: {warnings}");
    }
    assert!(rss < 100, "peak {rss} MiB");
    eprintln!("peak {rss} MiB");
}

#[test]
fn terminal_escapes_in_a_capture_are_shown_escaped_in_the_text_and_exact_in_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("escapes.pcap");
    let mut pcap = Pcap::create(&path);
    exchange(
        &mut pcap,
        1000,
        // A target with a control byte is not a request (the parser skips
        // it); C1 controls, UTF-8 encoded, are bytes a target may hold.
        b"GET /\xc2\x9b2J.jpg HTTP/1.1\r\nHost: a\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\x1b]0;owned\x07\x1b[2J\r\nContent-Length: 1400\r\n\r\n",
        1,
    );
    exchange(
        &mut pcap,
        1001,
        b"GET / HTTP/1.1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\x1b[2J\r\n\r\n",
        0,
    );
    drop(pcap);
    let run = |json: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_recvscope"));
        cmd.arg("replay");
        if json {
            cmd.arg("--json");
        }
        let out = cmd.arg(&path).output().expect("run recvscope");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let text = run(false);
    assert!(!text.contains(&0x1b), "no ESC reaches the terminal");
    let text = String::from_utf8(text).expect("UTF-8");
    assert!(!text.contains('\u{9b}'), "no C1 CSI either");
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  HTTP") || l.contains("Content-Length \""))
        .collect();
    assert_eq!(
        lines,
        [
            "  HTTP GET /\\u{9b}2J.jpg HTTP/1.1 -> 200 image/jpeg\\x1b]0;owned\\x07\\x1b[2J  header 77 B, body 1400 B (Content-Length 1400)",
            "  HTTP GET / HTTP/1.1 -> 200 -  header 38 B, body 0 B, INCOMPLETE",
            "  warning: server: transaction 0: invalid Content-Length \"1\\x1b[2J\"; message incomplete",
        ]
    );
    let doc: serde_json::Value = serde_json::from_slice(&run(true)).expect("JSON");
    let x = &doc["connections"][0]["http"][0];
    assert_eq!(x["uri"], "/\u{9b}2J.jpg", "JSON keeps the bytes");
    assert_eq!(x["content_type"], "image/jpeg\u{1b}]0;owned\u{7}\u{1b}[2J");
}
