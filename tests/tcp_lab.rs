//! `replay --tcp-lab` on the project's own captures, checked against tshark
//! where tshark defines the figure (computed at test time; skipped, with a
//! message, when tshark is not installed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use recvscope::analysis::NoBodies;
use recvscope::capture::records::Reading;
use recvscope::replay::analyse_file;
use recvscope::tcplab::{self, ALPHA, TcpLabAnswers};
use recvscope::wire::Side;

const CAPTURES: [&str; 7] = [
    "book-nodelay.pcap",
    "book-slow-reader.pcap",
    "keepalive-chunked.pcap",
    "ipv6-close-delimited.pcap",
    "sll2-any.pcap",
    "lab-book-nodelay.pcap",
    "lab-book-delay.pcap",
];

fn capture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name)
}

fn recvscope(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_recvscope"))
        .args(args)
        .output()
        .expect("run recvscope")
}

/// The answers for the connection `replay --tcp-lab` picks: the one with
/// the most payload.
fn answers(name: &str) -> TcpLabAnswers {
    let (r, _) = analyse_file(&capture(name), None, Reading::Ahead, &mut NoBodies).expect(name);
    let id = r
        .connections
        .iter()
        .max_by_key(|c| {
            (
                c.tcp.bytes.client_to_server + c.tcp.bytes.server_to_client,
                u64::MAX - c.tcp.id,
            )
        })
        .expect("a connection")
        .tcp
        .id;
    let (r, _) = analyse_file(&capture(name), Some(id), Reading::Ahead, &mut NoBodies).expect(name);
    let c = r
        .connections
        .iter()
        .find(|c| c.tcp.id == id)
        .expect("listed");
    tcplab::answer(c, r.first_ts_ns.expect("frames")).expect("packet list")
}

/// One frame as tshark dissects it.
#[derive(Debug, Default)]
struct Frame {
    number: u64,
    time_ns: i64,
    src: String,
    syn: bool,
    ack_flag: bool,
    seq_raw: u32,
    seq: u32,
    ack_raw: u32,
    ack: u32,
    len: u32,
    ack_rtt_ns: Option<i64>,
    acks_frame: Option<u64>,
    window: u64,
    retransmission: bool,
}

/// "0.000771869" as nanoseconds, without going through a float.
fn ns(text: &str) -> i64 {
    let (s, frac) = text.split_once('.').unwrap_or((text, ""));
    let frac = format!("{frac:0<9}");
    s.parse::<i64>().expect("seconds") * 1_000_000_000 + frac[..9].parse::<i64>().expect("ns")
}

const FIELDS: [&str; 15] = [
    "frame.number",
    "frame.time_relative",
    "ip.src",
    "ipv6.src",
    "tcp.srcport",
    "tcp.flags.syn",
    "tcp.flags.ack",
    "tcp.seq_raw",
    "tcp.seq",
    "tcp.ack_raw",
    "tcp.ack",
    "tcp.len",
    "tcp.analysis.ack_rtt",
    "tcp.analysis.acks_frame",
    "tcp.window_size",
];

/// tshark's view of TCP stream `stream`, or `None` without tshark.
fn tshark(name: &str, stream: u64) -> Option<Vec<Frame>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(capture(name)).args([
        "-Y",
        &format!("tcp.stream == {stream}"),
        "-T",
        "fields",
    ]);
    for f in FIELDS.iter().chain(&["tcp.analysis.retransmission"]) {
        cmd.args(["-e", f]);
    }
    let out = match cmd.output() {
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
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let frames = text
        .lines()
        .map(|line| {
            let c: Vec<&str> = line.split('\t').collect();
            assert_eq!(c.len(), FIELDS.len() + 1, "{line:?}");
            let n = |i: usize| c[i].parse::<u64>().expect(FIELDS[i]);
            Frame {
                number: n(0),
                time_ns: ns(c[1]),
                src: format!("{}{}:{}", c[2], c[3], c[4]),
                syn: c[5] == "1",
                ack_flag: c[6] == "1",
                seq_raw: n(7) as u32,
                seq: n(8) as u32,
                ack_raw: n(9) as u32,
                ack: n(10) as u32,
                len: n(11) as u32,
                ack_rtt_ns: (!c[12].is_empty()).then(|| ns(c[12])),
                acks_frame: (!c[13].is_empty()).then(|| n(13)),
                window: n(14),
                retransmission: !c[15].is_empty(),
            }
        })
        .collect();
    Some(frames)
}

/// "ip:port" the way tshark's fields are joined above.
fn addr(a: &str) -> String {
    let (ip, port) = a.rsplit_once(':').expect("ip:port");
    format!(
        "{}:{port}",
        ip.trim_start_matches('[').trim_end_matches(']')
    )
}

#[test]
fn every_answer_agrees_with_tshark_on_the_sample_captures() {
    for name in CAPTURES {
        let a = answers(name);
        let Some(frames) = tshark(name, a.connection) else {
            return;
        };
        let by_number: BTreeMap<u64, &Frame> = frames.iter().map(|f| (f.number, f)).collect();
        let frame = |n: u64| {
            *by_number
                .get(&n)
                .unwrap_or_else(|| panic!("{name}: frame {n}"))
        };
        let (sender, receiver) = if a.bulk_sender == Side::Client {
            (addr(&a.client), addr(&a.server))
        } else {
            (addr(&a.server), addr(&a.client))
        };

        // Questions 4 and 5: the handshake, raw and relative.
        let syn = a.syn.as_ref().expect("SYN");
        let t = frames
            .iter()
            .find(|f| f.syn && !f.ack_flag)
            .expect("tshark SYN");
        assert_eq!(
            (syn.frame, syn.raw_seq, syn.rel_seq),
            (t.number, Some(t.seq_raw), t.seq),
            "{name}"
        );
        let sa = a.syn_ack.as_ref().expect("SYN-ACK");
        let t = frames
            .iter()
            .find(|f| f.syn && f.ack_flag)
            .expect("tshark SYN-ACK");
        assert_eq!(
            (sa.frame, sa.raw_seq, sa.raw_ack),
            (t.number, Some(t.seq_raw), Some(t.ack_raw)),
            "{name}"
        );
        assert_eq!(sa.raw_ack, syn.raw_seq.map(|s| s.wrapping_add(1)), "{name}");

        // Question 6: the request segment.
        let req = &a.request.as_ref().expect("request").segment;
        let t = frame(req.frame);
        assert_eq!(
            (req.raw_seq, req.rel_seq, req.len),
            (Some(t.seq_raw), t.seq, t.len),
            "{name}"
        );
        assert_eq!(t.seq, 1, "{name}");

        // Questions 7 and 8: the RTT table, sample by sample, and the EWMA
        // recomputed from tshark's ack_rtt.
        assert!(!a.rtt.rows.is_empty(), "{name}");
        let mut estimate: Option<f64> = None;
        for row in &a.rtt.rows {
            let t = frame(row.frame);
            assert_eq!(t.src, sender, "{name} frame {}", row.frame);
            assert_eq!(
                (row.rel_seq, row.len, row.sent_ns),
                (t.seq, t.len, t.time_ns),
                "{name}"
            );
            let measured_by = frames.iter().find(|f| f.acks_frame == Some(row.frame));
            let karn = row.note == Some(tcplab::RttNote::SentMoreThanOnce);
            match (row.sample_rtt_ns, measured_by) {
                (Some(sample), Some(ack)) => {
                    assert_eq!(
                        Some(ack.number),
                        row.ack_frame,
                        "{name} frame {}",
                        row.frame
                    );
                    assert_eq!(ack.ack_rtt_ns, Some(sample), "{name} frame {}", row.frame);
                    let s = sample as f64;
                    estimate = Some(estimate.map_or(s, |e| (1.0 - ALPHA) * e + ALPHA * s));
                }
                (None, None) => {}
                // Wireshark measures a retransmitted segment anyway; Karn does not.
                (None, Some(_)) => assert!(karn, "{name} frame {}: no sample", row.frame),
                (Some(_), None) => panic!("{name} frame {}: tshark has no ack_rtt", row.frame),
            }
            assert_eq!(row.estimated_rtt_ns, estimate, "{name} frame {}", row.frame);
            if let (Some(f), Some(at)) = (row.ack_frame, row.ack_ns) {
                let ack = frame(f);
                assert_eq!(ack.time_ns, at, "{name}");
                assert!(ack.ack >= row.rel_seq + row.len, "{name} frame {f}");
            }
        }

        // Question 9: the receiver's window over the whole connection.
        let windows: Vec<u64> = frames
            .iter()
            .filter(|f| f.src == receiver)
            .map(|f| f.window)
            .collect();
        assert_eq!(a.window.min, windows.iter().min().copied(), "{name}");
        assert_eq!(a.window.max, windows.iter().max().copied(), "{name}");

        // Question 10: the retransmissions.
        let ours: Vec<u64> = a.retransmissions.iter().map(|r| r.frame).collect();
        let theirs: Vec<u64> = frames
            .iter()
            .filter(|f| f.retransmission)
            .map(|f| f.number)
            .collect();
        assert_eq!(ours, theirs, "{name}");

        // Questions 11 and 12 from tshark's relative numbers: bytes newly
        // acknowledged per ACK, and acknowledged bytes over time.
        let data: Vec<&Frame> = frames
            .iter()
            .filter(|f| f.src == sender && f.len > 0)
            .collect();
        let start = data[0].seq;
        let end = data.iter().map(|f| f.seq + f.len).max().expect("data");
        let mut prev = start;
        let mut covered: BTreeMap<u64, u64> = BTreeMap::new();
        let mut last_ack = None;
        for f in frames
            .iter()
            .filter(|f| f.src == receiver && f.ack_flag && !f.syn)
        {
            let ack = f.ack.min(end);
            if ack > prev {
                *covered.entry(u64::from(ack - prev)).or_default() += 1;
                prev = ack;
                last_ack = Some(f);
            }
        }
        let ours: BTreeMap<u64, u64> = a
            .ack_coverage
            .by_bytes
            .iter()
            .map(|b| (b.value, b.count))
            .collect();
        assert_eq!(ours, covered, "{name}");
        let tp = a.throughput.as_ref().expect("throughput");
        let last_ack = last_ack.expect("an ACK");
        assert_eq!(tp.bytes, u64::from(prev - start), "{name}");
        assert_eq!(
            (tp.first_data_frame, tp.first_data_ns),
            (data[0].number, data[0].time_ns),
            "{name}"
        );
        assert_eq!(
            (tp.last_ack_frame, tp.last_ack_ns),
            (last_ack.number, last_ack.time_ns),
            "{name}"
        );
        let seconds = (last_ack.time_ns - data[0].time_ns) as f64 / 1e9;
        assert_eq!(tp.bytes_per_second, tp.bytes as f64 / seconds, "{name}");

        // Question 13: the rounds partition the data segments.
        let segments: u64 = a.slow_start.rounds.iter().map(|r| r.segments).sum();
        let bytes: u64 = a.slow_start.rounds.iter().map(|r| r.bytes).sum();
        assert_eq!(segments, data.len() as u64, "{name}");
        assert_eq!(
            bytes,
            data.iter().map(|f| u64::from(f.len)).sum::<u64>(),
            "{name}"
        );
    }
}

#[test]
fn the_book_download_has_the_server_as_bulk_sender_and_no_slow_start_to_see() {
    let a = answers("book-nodelay.pcap");
    assert_eq!((a.bulk_sender, a.receiver), (Side::Server, Side::Client));
    assert_eq!(a.bulk_bytes, 70308);
    let lens: Vec<u32> = a.rtt.rows.iter().map(|r| r.len).collect();
    assert_eq!(lens, [32768, 32768, 4772]);
    assert!(!a.window.throttled);
    assert!(a.retransmissions.is_empty());
    assert_eq!(a.throughput.as_ref().map(|t| t.bytes), Some(70308));

    let slow = answers("book-slow-reader.pcap");
    assert!(slow.window.throttled);
    assert_eq!(slow.window.min, Some(0));
    assert_eq!(
        (
            slow.window.zero_window_segments,
            slow.window.zero_window_stalls
        ),
        (20, 11),
        "20 zero-window segments (as tshark counts them) in 11 stalls"
    );
}

#[test]
fn the_cli_prints_the_numbered_answers_and_json_adds_tcp_lab() {
    let file = capture("book-nodelay.pcap");
    let file = file.to_str().expect("utf-8 path");
    let out = recvscope(&["replay", "--tcp-lab", file]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    for n in [1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13] {
        assert!(
            text.lines().any(|l| l.starts_with(&format!("{n:>2}. "))),
            "answer {n} missing:\n{text}"
        );
    }
    for expected in [
        "Bulk sender: the server (70308 B)",
        "SYN: frame 1, seq 3760101558 (relative 0)",
        "ack 3760101559 (relative 1) = the client's ISN 3760101558 + 1",
        "HTTP request (GET http://127.0.0.1:18080/cover.jpg): frame 4",
        "Lengths of those segments: 32768, 32768, 4772 B.",
        "Retransmissions: none.",
        "Throughput = bytes acknowledged ÷ (t_last_ack − t_first_data) = 70308 B ÷",
        "recvscope replay --graph",
    ] {
        assert!(text.contains(expected), "{expected:?} missing:\n{text}");
    }
    assert!(
        !text.contains("Analysis flags"),
        "the lab replaces the report"
    );

    let out = recvscope(&["replay", "--tcp-lab", "--json", file]);
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let lab = &doc["tcp_lab"];
    assert_eq!(lab["connection"], 0);
    assert_eq!(lab["bulk_sender"], "server");
    assert_eq!(lab["syn"]["raw_seq"], 3760101558u32);
    assert_eq!(lab["rtt"]["rows"][0]["sample_rtt_ns"], 8203);
    assert_eq!(
        doc["connections"][0]["id"], 0,
        "the usual report is still there"
    );

    let out = recvscope(&["replay", "--tcp-lab", "--conn", "7", file]);
    assert_eq!(
        (out.status.code(), String::from_utf8_lossy(&out.stderr)),
        (
            Some(1),
            format!("recvscope: {file} has one connection, 0; there is no --conn 7\n").into()
        )
    );
    assert!(out.stdout.is_empty(), "nothing before the error");
}

#[test]
fn a_connection_without_data_has_no_rtt_table_and_no_list_of_lengths() {
    use recvscope_testkit::{Pkt, Trace};
    let mut t = Trace::new();
    t.push(Pkt::c2s(100, b"").syn())
        .push(Pkt::s2c(500, b"").syn().ack(101))
        .push(Pkt::c2s(101, b"").ack(501))
        .push(Pkt::c2s(101, b"").fin().ack(501))
        .push(Pkt::s2c(501, b"").fin().ack(102))
        .push(Pkt::c2s(102, b"").ack(502));
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("no-data.pcap");
    std::fs::write(&file, t.pcap()).expect("write");
    let out = recvscope(&["replay", "--tcp-lab", file.to_str().expect("utf-8")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    for expected in [
        "\n 7. RTT: the server sent no data segments, so there is none to measure.\n",
        "\n 8. Lengths of those segments: none (the server sent no data).\n",
    ] {
        assert!(text.contains(expected), "{expected:?} missing:\n{text}");
    }
    assert!(!text.contains("  B."), "{text}");
    assert!(!text.contains("SampleRTT ms"), "no empty table:\n{text}");
}
