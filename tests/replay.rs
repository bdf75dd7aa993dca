//! Replay of the project's own loopback captures, and the CLI on bad input.

use std::path::{Path, PathBuf};
use std::process::Command;

use recvscope::analysis::NoBodies;
use recvscope::capture::file::ReadEnd;
use recvscope::capture::records::Reading;
use recvscope::replay::analyse_file;
use recvscope::tcp::{Flag, PaceSetter, Retransmissions};
use recvscope_testkit::pcapng_block;

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

#[test]
fn flag_counts_equal_tsharks_on_every_sample_capture() {
    let table = std::fs::read_to_string(capture("expected-flags.tsv")).expect("expected-flags.tsv");
    let mut checked = 0;
    for line in table.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [file, flag, count] = cols[..] else {
            panic!("bad row {line:?}");
        };
        let (report, end) =
            analyse_file(&capture(file), None, Reading::Ahead, &mut NoBodies).expect(file);
        assert_eq!(end, ReadEnd::Complete);
        let flag = Flag::from_name(flag).expect("flag name");
        assert_eq!(
            report.flags.get(flag),
            count.parse::<u64>().expect("count"),
            "{file} {}",
            flag.name()
        );
        checked += 1;
    }
    assert_eq!(checked, 7 * 14);
}

#[test]
fn the_book_download_has_the_books_header_arithmetic() {
    let (r, _) = analyse_file(
        &capture("book-nodelay.pcap"),
        None,
        Reading::Ahead,
        &mut NoBodies,
    )
    .expect("replay");
    assert_eq!(r.connections.len(), 1);
    let c = &r.connections[0];
    assert!(c.tcp.handshake.seen);
    assert_eq!(c.http.len(), 1);
    let h = &c.http[0];
    assert_eq!(h.method.as_ref().map(|t| t.as_str()), Some("GET"));
    assert!(
        h.uri
            .as_ref()
            .map(|t| t.as_str())
            .is_some_and(|u| u.starts_with("http://127.0.0.1:"))
    );
    assert_eq!(h.version.as_ref().map(|t| t.as_str()), Some("HTTP/1.0"));
    assert_eq!(h.status, Some(200));
    assert_eq!(h.header_length, Some(247));
    assert_eq!(h.content_length, Some(70057));
    assert_eq!(h.body_bytes, 70057);
    assert!(h.complete);
    // header length + blank line + body = every byte the server sent.
    assert_eq!(c.tcp.bytes.server_to_client, 247 + 4 + 70057);
    assert_eq!(c.tcp.flow_control.pace.server.set_by, PaceSetter::Sender);
    assert_eq!(c.tcp.flow_control.pace.client.set_by, PaceSetter::Sender);
}

#[test]
fn the_slow_reader_is_receiver_limited_with_zero_window_stalls() {
    let (r, _) = analyse_file(
        &capture("book-slow-reader.pcap"),
        None,
        Reading::Ahead,
        &mut NoBodies,
    )
    .expect("replay");
    let c = &r.connections[0];
    let PaceSetter::Receiver(w) = &c.tcp.flow_control.pace.server.set_by else {
        panic!("{:?}", c.tcp.flow_control.pace.server);
    };
    assert_eq!(
        (
            w.zero_window_stalls,
            w.stalled_ns,
            w.window_full_with_data_waiting
        ),
        (11, 4_358_049_095, 24)
    );
    assert_eq!(w.frames.len(), 35, "11 stalls and 24 window-full segments");
    assert_eq!(c.tcp.flow_control.client_zero_windows, 11);
    assert_eq!(c.tcp.flow_control.window_full_to_client, 24);
    assert!(c.tcp.zero_window_stall_ns > 1_000_000_000);
    assert_eq!(c.tcp.receiver_window.client.min, Some(0));
    assert_eq!(c.tcp.handshake.client_wscale, Some(0));
    assert_eq!(c.tcp.flags.get(Flag::PersistProbe), 10);
    assert_eq!(c.http[0].body_bytes, 70057);
}

#[test]
fn the_lab_recordings_window_outweighs_its_one_tail_probe_no_dsack_covers() {
    let (r, _) = analyse_file(
        &capture("lab-book-delay.pcap"),
        None,
        Reading::Ahead,
        &mut NoBodies,
    )
    .expect("replay");
    let pace = &r.connections[0].tcp.flow_control.pace.server;
    assert_eq!(
        pace.retransmissions,
        Retransmissions {
            segments: 3,
            tail: 3,
            dsack_unnecessary: 2,
            already_acknowledged: 0,
            dsacks: 2,
        }
    );
    assert_eq!(pace.retransmissions.real(), 1);
    let PaceSetter::Receiver(w) = &pace.set_by else {
        panic!("{pace:?}");
    };
    assert_eq!(
        (w.zero_window_stalls, w.window_full_with_data_waiting),
        (2, 5)
    );
}

#[test]
fn keep_alive_pipelining_chunked_and_head_are_paired() {
    let (r, _) = analyse_file(
        &capture("keepalive-chunked.pcap"),
        None,
        Reading::Ahead,
        &mut NoBodies,
    )
    .expect("replay");
    assert_eq!(r.connections.len(), 2);
    let first: Vec<_> = r.connections[0]
        .http
        .iter()
        .map(|h| (h.method.clone(), h.status, h.chunked, h.complete))
        .collect();
    assert_eq!(first.len(), 3);
    assert!(first[1].2, "second response is chunked");
    assert_eq!(first[2].1, Some(304));
    assert!(first.iter().all(|t| t.3));
    let head = &r.connections[1].http[0];
    assert_eq!(head.method.as_ref().map(|t| t.as_str()), Some("HEAD"));
    assert_eq!(head.body_bytes, 0);
    assert!(head.complete);
}

#[test]
fn ipv6_close_delimited_body_ends_at_the_close() {
    let (r, _) = analyse_file(
        &capture("ipv6-close-delimited.pcap"),
        None,
        Reading::Ahead,
        &mut NoBodies,
    )
    .expect("replay");
    let c = &r.connections[0];
    assert!(c.tcp.client.starts_with("[::1]"));
    let h = &c.http[0];
    assert_eq!(h.content_length, None);
    assert_eq!(h.header_length, Some(108));
    assert_eq!(h.body_bytes, 20000);
    assert!(h.complete);
}

#[test]
fn linux_cooked_v2_captures_replay() {
    let (r, _) = analyse_file(
        &capture("sll2-any.pcap"),
        None,
        Reading::Ahead,
        &mut NoBodies,
    )
    .expect("replay");
    assert_eq!(r.link_type, "LINUX_SLL2");
    assert_eq!(r.connections[0].http[0].body_bytes, 10240);
}

/// The server's TCP payload in frame order, read straight from the file
/// (no reassembly): valid for a capture without loss or retransmission.
fn server_payload(file: &Path) -> Vec<u8> {
    let mut cap = pcap::Capture::from_file(file).expect("open");
    let mut out = Vec::new();
    while let Ok(p) = cap.next_packet() {
        let ip = &p.data[14..];
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        let tcp = &ip[ihl..];
        let sport = u16::from_be_bytes([tcp[0], tcp[1]]);
        let off = usize::from(tcp[12] >> 4) * 4;
        if sport == 18080 || sport == 18081 {
            out.extend_from_slice(&tcp[off..]);
        }
    }
    out
}

#[test]
fn extract_writes_the_body_byte_for_byte() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = capture("book-nodelay.pcap");
    let out = recvscope(&[
        "replay",
        "--extract",
        dir.path().to_str().expect("utf8"),
        file.to_str().expect("utf8"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let saved: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").path())
        .collect();
    let response = saved
        .iter()
        .find(|p| p.to_string_lossy().contains("response"))
        .expect("a response body");
    assert!(response.to_string_lossy().ends_with(".jpg"));
    let body = std::fs::read(response).expect("read body");
    let wire = server_payload(&file);
    assert_eq!(body.len(), 70057);
    assert_eq!(body, wire[247 + 4..]);
}

#[test]
fn extract_never_writes_through_a_link_planted_at_a_name_it_uses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "keep").expect("write");
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).expect("mkdir");
    for name in [
        ".recvscope-write-test",
        ".conn0000-txn000-Server.tmp",
        "conn0000-txn000-response.jpg",
    ] {
        std::os::unix::fs::symlink(&victim, out_dir.join(name)).expect("symlink");
    }
    let file = capture("book-nodelay.pcap");
    let out = recvscope(&[
        "replay",
        "--extract",
        out_dir.to_str().expect("utf8"),
        file.to_str().expect("utf8"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&victim).expect("victim"), b"keep");
    let body = out_dir.join("conn0000-txn000-response.jpg");
    assert!(
        !body.symlink_metadata().expect("body").is_symlink(),
        "the body replaced the link, not written through it"
    );
    assert_eq!(
        std::fs::read(&body).expect("body"),
        server_payload(&file)[247 + 4..]
    );
}

#[test]
fn json_has_the_documented_shape() {
    let out = recvscope(&[
        "replay",
        "--json",
        capture("book-slow-reader.pcap").to_str().expect("utf8"),
    ]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["packets"], 87);
    assert_eq!(v["link_type"], "EN10MB");
    let c = &v["connections"][0];
    for key in [
        "id",
        "client",
        "server",
        "handshake",
        "bytes",
        "flags",
        "flags_by_direction",
        "receiver_window",
        "zero_window_stall_ns",
        "http",
    ] {
        assert!(!c[key].is_null(), "missing {key}");
    }
    assert_eq!(c["roles_from"], "handshake");
    for key in [
        "seen",
        "client_wscale",
        "server_wscale",
        "mss",
        "sack_permitted",
        "rtt_ns",
    ] {
        assert!(c["handshake"].get(key).is_some(), "missing handshake.{key}");
    }
    for f in Flag::WIRESHARK {
        assert!(c["flags"][f.name()].is_u64(), "flags.{}", f.name());
        assert!(c["flags_by_direction"]["client"][f.name()].is_u64());
    }
    assert_eq!(c["flags"]["zero_window"], 20);
    assert_eq!(c["flags_by_direction"]["client"]["zero_window"], 20);
    let server = &c["flow_control"]["pace"]["server"];
    assert_eq!(server["limited_by"], "receiver");
    assert_eq!(server["zero_window_stalls"], 11);
    assert_eq!(server["window_full_with_data_waiting"], 24);
    assert_eq!(
        server["retransmissions"],
        serde_json::json!({"segments": 2, "tail": 2, "dsack_unnecessary": 2,
            "already_acknowledged": 0, "real": 0, "dsacks": 2})
    );
    assert_eq!(c["flow_control"]["pace"]["client"]["limited_by"], "sender");
    assert_eq!(
        c["flow_control"]["client_zero_window_stalls"], 11,
        "the 20 zero-window segments stalled the server 11 times"
    );
    assert!(c["receiver_window"]["client"]["min"].is_u64());
    let h = &c["http"][0];
    for key in [
        "method",
        "uri",
        "version",
        "status",
        "header_length",
        "content_length",
        "content_type",
        "body_bytes",
        "complete",
    ] {
        assert!(h.get(key).is_some(), "missing http.{key}");
    }
    assert!(v["warnings"].is_array());
}

#[test]
fn conn_lists_one_connection_packet_by_packet() {
    let out = recvscope(&[
        "replay",
        "--conn",
        "0",
        capture("book-slow-reader.pcap").to_str().expect("utf8"),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    let rows = text
        .lines()
        .skip_while(|l| !l.contains("packet by packet"))
        .filter(|l| {
            l.trim_start()
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit())
        })
        .count();
    assert_eq!(rows, 87);
    assert!(text.contains("ZeroWindow"));
}

fn one_line_error(out: &std::process::Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(err.lines().count(), 1, "expected one line, got {err:?}");
    assert!(!err.contains("panicked"));
    err
}

#[test]
fn a_missing_file_is_one_line_and_exit_1() {
    let out = recvscope(&["replay", "/nonexistent/x.pcap"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(one_line_error(&out).contains("No such file"));
}

#[test]
fn a_file_that_is_not_a_capture_is_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("notes.pcap");
    std::fs::write(&f, "this is a text file, not a capture\n".repeat(10)).expect("write");
    let out = recvscope(&["replay", f.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(one_line_error(&out).contains("not a pcap or pcapng capture"));
    let empty = dir.path().join("empty.pcap");
    std::fs::write(&empty, b"").expect("write");
    let out = recvscope(&["replay", empty.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(one_line_error(&out).contains("empty"));
}

#[test]
fn a_device_is_not_a_capture_file_and_says_what_it_is() {
    let out = recvscope(&["replay", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        one_line_error(&out),
        "recvscope: /dev/zero is a character device, not a capture file (a file, a pipe or - for standard input)\n"
    );
}

#[test]
fn an_unreadable_file_cannot_be_read_exit_1_not_a_capture() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let f = dir.path().join("secret.pcap");
    std::fs::copy(capture("book-nodelay.pcap"), &f).expect("copy");
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_recvscope"));
    cmd.args(["replay", f.to_str().expect("utf8")]);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // root reads any file: the check runs as nobody.
        cmd.uid(65534).gid(65534);
    }
    let out = cmd.output().expect("run recvscope");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        one_line_error(&out),
        format!(
            "recvscope: cannot read {}: Permission denied (os error 13)\n",
            f.display()
        )
    );
}

/// The report of `book-nodelay.pcap` after its heading line.
fn report_body(stdout: &[u8]) -> String {
    let text = String::from_utf8_lossy(stdout);
    text.split_once('\n')
        .map(|(_, rest)| rest.to_string())
        .unwrap_or_default()
}

#[test]
fn a_pipe_and_standard_input_are_read_as_a_stream_with_the_files_report() {
    let file = capture("book-nodelay.pcap");
    let whole = recvscope(&["replay", file.to_str().expect("utf8")]);
    assert!(whole.status.success());
    let expected = report_body(&whole.stdout);
    assert!(expected.contains("HTTP GET"), "{expected}");

    let stdin = Command::new(env!("CARGO_BIN_EXE_recvscope"))
        .args(["replay", "-"])
        .stdin(std::fs::File::open(&file).expect("open"))
        .output()
        .expect("run recvscope");
    assert!(
        stdin.status.success(),
        "{}",
        String::from_utf8_lossy(&stdin.stderr)
    );
    assert!(stdin.stdout.starts_with(b"- (link type EN10MB):\n"));
    assert_eq!(report_body(&stdin.stdout), expected);

    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("live.pcap");
    let c = std::ffi::CString::new(fifo.to_str().expect("utf8")).expect("path");
    // SAFETY: `c` is a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    let writer = {
        let (fifo, file) = (fifo.clone(), file.clone());
        std::thread::spawn(move || {
            let bytes = std::fs::read(file).expect("read");
            std::fs::OpenOptions::new()
                .write(true)
                .open(fifo)
                .and_then(|mut f| std::io::Write::write_all(&mut f, &bytes))
                .expect("write the pipe");
        })
    };
    let piped = recvscope(&["replay", fifo.to_str().expect("utf8")]);
    writer.join().expect("writer");
    assert!(
        piped.status.success(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    assert_eq!(report_body(&piped.stdout), expected);
}

fn pcap_header(link_field: u32) -> Vec<u8> {
    let mut header = Vec::new();
    header.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    header.extend_from_slice(&2u16.to_le_bytes());
    header.extend_from_slice(&4u16.to_le_bytes());
    header.extend_from_slice(&[0; 8]);
    header.extend_from_slice(&65535u32.to_le_bytes());
    header.extend_from_slice(&link_field.to_le_bytes());
    header
}

#[test]
fn reserved_link_type_bits_mean_a_corrupt_header() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("reserved.pcap");
    std::fs::write(&f, pcap_header(0x0030_0000)).expect("write");
    let out = recvscope(&["replay", f.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(one_line_error(&out).contains("reserved bits 0x00300000"));
}

#[test]
fn an_unknown_link_type_names_it_and_lists_the_supported_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("wifi.pcap");
    std::fs::write(&f, pcap_header(105)).expect("write"); // IEEE 802.11
    let out = recvscope(&["replay", f.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(2));
    let err = one_line_error(&out);
    assert!(err.contains("link type 105"), "{err}");
    assert!(err.contains("LINUX_SLL2"), "{err}");
}

#[test]
fn a_capture_cut_mid_record_reports_what_was_read_and_exits_3() {
    let dir = tempfile::tempdir().expect("tempdir");
    let whole = std::fs::read(capture("book-slow-reader.pcap")).expect("read");
    let f = dir.path().join("cut.pcap");
    std::fs::write(&f, &whole[..whole.len() / 2]).expect("write");
    let out = recvscope(&["replay", "--json", f.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(3));
    let err = one_line_error(&out);
    assert!(err.contains("damaged"), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let packets = v["packets"].as_u64().expect("packets");
    assert!(packets > 10 && packets < 87, "{packets}");
    assert!(v["warnings"].to_string().contains("damaged"));
}

fn interface(link: u16) -> Vec<u8> {
    let mut body = link.to_le_bytes().to_vec();
    body.extend_from_slice(&[0, 0]);
    body.extend_from_slice(&65535u32.to_le_bytes());
    pcapng_block(1, &body)
}

fn packet(iface: u32, frame: &[u8]) -> Vec<u8> {
    let mut body = iface.to_le_bytes().to_vec();
    body.extend_from_slice(&[0; 8]);
    body.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    body.extend_from_slice(&(frame.len() as u32).to_le_bytes());
    body.extend_from_slice(frame);
    pcapng_block(6, &body)
}

use recvscope::wire::FrameMeta;
use recvscope_testkit::{Interface, Pkt, Trace, pcapng, tshark_count, wrap};

/// Frames with their times and captured bytes.
type Frames = Vec<(FrameMeta, Vec<u8>)>;

/// An HTTP exchange on client port `port` whose response body is `body`
/// bytes, as raw IPv4 frames from `start_ns`, 1 ms apart.
fn exchange(port: u16, body: usize, start_ns: i64) -> Frames {
    let request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut response = format!("HTTP/1.1 200 OK\r\nContent-Length: {body}\r\n\r\n").into_bytes();
    let head = response.len() as u32;
    response.resize(head as usize + body, b'b');
    let end = 9001 + response.len() as u32;
    let mut t = Trace::new();
    t.at(0, Pkt::c2s(1000, b"").syn().client_port(port))
        .push(Pkt::s2c(9000, b"").syn().ack(1001).client_port(port))
        .push(Pkt::c2s(1001, b"").ack(9001).client_port(port))
        .push(Pkt::c2s(1001, request).ack(9001).client_port(port))
        .push(Pkt::s2c(9001, &response).ack(1028).client_port(port))
        .push(Pkt::c2s(1028, b"").ack(end).fin().client_port(port))
        .push(Pkt::s2c(end, b"").ack(1029).fin().client_port(port))
        .push(Pkt::c2s(1029, b"").ack(end + 1).client_port(port));
    t.frames
        .into_iter()
        .map(|(mut m, b)| {
            m.ts_ns += start_ns;
            (m, b)
        })
        .collect()
}

/// Frames on interfaces, interleaved in time order and renumbered: each
/// `(interface, frames)` part keeps its own frames' times.
fn merged(parts: Vec<(u32, Frames)>) -> Vec<(u32, FrameMeta, Vec<u8>)> {
    let mut all: Vec<(u32, FrameMeta, Vec<u8>)> = parts
        .into_iter()
        .flat_map(|(i, frames)| frames.into_iter().map(move |(m, b)| (i, m, b)))
        .collect();
    all.sort_by_key(|(_, m, _)| m.ts_ns);
    for (n, (_, m, _)) in all.iter_mut().enumerate() {
        m.number = n as u64 + 1;
    }
    all
}

fn ethernet(frames: Frames) -> Frames {
    frames
        .into_iter()
        .map(|(mut m, ip)| {
            let f = wrap::ethernet(&ip, 0x0800);
            m.orig_len = f.len() as u32;
            (m, f)
        })
        .collect()
}

/// Replays `file` written to a tempdir as `name`: its JSON report, and
/// the file's path (for tshark) while `dir` lives.
fn replay_written(
    dir: &tempfile::TempDir,
    name: &str,
    file: &[u8],
) -> (serde_json::Value, PathBuf) {
    let f = dir.path().join(name);
    std::fs::write(&f, file).expect("write");
    (replay_json(&f), f)
}

const ETHERNET: u16 = 1;
const RAW: u16 = 101;
const LINUX_SLL: u16 = 113;

fn iface(link: u16, snaplen: u32, tsresol: Option<u8>) -> Interface {
    Interface {
        link,
        snaplen,
        tsresol,
    }
}

#[test]
fn a_mergecap_pcapng_of_interfaces_with_different_snaplens_reads_whole() {
    // libpcap refused this as "damaged after frame 0" (an interface has a
    // snapshot length 65535 different from the first's); tshark reads all 16.
    const TSHARK_FRAMES: usize = 16;
    const TSHARK_RESPONSES: usize = 2;
    let file = pcapng(
        &[iface(ETHERNET, 128, None), iface(ETHERNET, 65535, None)],
        &merged(vec![
            (0, ethernet(exchange(40001, 300, 0))),
            (1, ethernet(exchange(40000, 300, 500_000))),
        ]),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let (v, f) = replay_written(&dir, "merged.pcapng", &file);
    assert_eq!(v["packets"], TSHARK_FRAMES as u64);
    assert_eq!(v["tcp_packets"], TSHARK_FRAMES as u64);
    assert_eq!(v["link_type"], "EN10MB", "one link type: not mixed");
    assert!(v.get("interfaces").is_none());
    let c = v["connections"].as_array().expect("connections");
    let responses: usize = c
        .iter()
        .map(|c| c["http"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(responses, TSHARK_RESPONSES);
    let by_port = |port: &str| {
        c.iter()
            .find(|c| c["client"].as_str().is_some_and(|s| s.ends_with(port)))
            .expect("connection")
    };
    let whole = by_port(":40000");
    assert_eq!(whole["snaplen"], serde_json::Value::Null);
    assert_eq!(whole["http"][0]["body_bytes"], 300);
    let cut = by_port(":40001");
    assert_eq!(cut["snaplen"], 128, "its own interface's snaplen");
    // 14 + 20 + 20 of headers and 40 of response head leave 34 body bytes.
    assert_eq!(cut["not_captured_bytes"]["server_to_client"], 300 - 34);
    assert_eq!(
        cut["missing_bytes"]["server_to_client"], 0,
        "not captured, never lost"
    );
    if let Some(n) = tshark_count(&f, "frame") {
        assert_eq!(n, TSHARK_FRAMES);
    }
    if let Some(n) = tshark_count(&f, "http.response") {
        assert_eq!(n, TSHARK_RESPONSES);
    }
}

#[test]
fn a_pcapng_of_ethernet_raw_ip_and_cooked_interfaces_analyses_each_connection() {
    const TSHARK_TCP: usize = 24;
    let cooked: Frames = exchange(40002, 30, 700_000)
        .into_iter()
        .map(|(mut m, ip)| {
            let f = wrap::sll(&ip, 0x0800);
            m.orig_len = f.len() as u32;
            (m, f)
        })
        .collect();
    let file = pcapng(
        &[
            iface(ETHERNET, 65535, None),
            iface(RAW, 65535, None),
            iface(LINUX_SLL, 65535, None),
        ],
        &merged(vec![
            (0, ethernet(exchange(40000, 10, 0))),
            (1, exchange(40001, 20, 500_000)),
            (2, cooked),
        ]),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let (v, f) = replay_written(&dir, "mixed.pcapng", &file);
    assert_eq!(v["packets"], TSHARK_TCP as u64);
    assert_eq!(v["tcp_packets"], TSHARK_TCP as u64);
    assert_eq!(v["link_type"], "mixed");
    assert_eq!(v["link_type_code"], serde_json::Value::Null);
    assert_eq!(
        v["interfaces"],
        serde_json::json!([
            {"interface": 0, "link_type": "EN10MB", "link_type_code": 1},
            {"interface": 1, "link_type": "RAW", "link_type_code": 101},
            {"interface": 2, "link_type": "LINUX_SLL", "link_type_code": 113}
        ])
    );
    let bodies: Vec<&serde_json::Value> = v["connections"]
        .as_array()
        .expect("connections")
        .iter()
        .map(|c| &c["http"][0]["body_bytes"])
        .collect();
    assert_eq!(bodies, [10, 20, 30]);
    let text = recvscope(&["replay", f.to_str().expect("utf8")]);
    assert_eq!(
        String::from_utf8_lossy(&text.stdout).lines().next(),
        Some(
            format!(
                "{} (link types: interface 0 EN10MB, interface 1 RAW, interface 2 LINUX_SLL):",
                f.display()
            )
            .as_str()
        )
    );
    if let Some(n) = tshark_count(&f, "tcp") {
        assert_eq!(n, TSHARK_TCP);
    }
}

#[test]
fn a_nanosecond_interface_beside_a_microsecond_one_keeps_each_ones_times() {
    let us = 1_700_000_000_000_001_000;
    let ns = 1_700_000_000_000_500_789;
    let file = pcapng(
        &[iface(RAW, 65535, None), iface(RAW, 65535, Some(9))],
        &merged(vec![
            (0, exchange(40000, 1, us)),
            (1, exchange(40001, 1, ns)),
        ]),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let (v, f) = replay_written(&dir, "times.pcapng", &file);
    assert_eq!(v["link_type"], "RAW");
    assert_eq!(v["first_ts_ns"], us);
    assert_eq!(v["last_ts_ns"], ns + 7_000_000);
    let starts: Vec<&serde_json::Value> = v["connections"]
        .as_array()
        .expect("connections")
        .iter()
        .map(|c| &c["start_ns"])
        .collect();
    assert_eq!(starts, [us, ns]);
    if let Ok(t) = Command::new("tshark")
        .args([
            "-r",
            f.to_str().expect("utf8"),
            "-T",
            "fields",
            "-e",
            "frame.time_epoch",
            "-c",
            "2",
        ])
        .output()
    {
        assert_eq!(
            String::from_utf8_lossy(&t.stdout),
            "1700000000.000001000\n1700000000.000500789\n"
        );
    } else {
        recvscope_testkit::tool_missing("tshark", "the tshark comparison");
    }
}

#[test]
fn frames_on_an_interface_of_an_unsupported_link_type_are_counted_and_said_once() {
    let mut frames = merged(vec![(0, exchange(40000, 5, 0))]);
    let wifi = |ts_ns| FrameMeta {
        number: 0,
        ts_ns,
        orig_len: 24,
    };
    frames.insert(1, (1, wifi(500_000), vec![0x08; 24]));
    frames.insert(3, (1, wifi(1_500_000), vec![0x08; 24]));
    let file = pcapng(&[iface(RAW, 65535, None), iface(105, 65535, None)], &frames);
    let dir = tempfile::tempdir().expect("tempdir");
    let (v, f) = replay_written(&dir, "wifi.pcapng", &file);
    assert_eq!(v["packets"], 10);
    assert_eq!(v["tcp_packets"], 8);
    assert_eq!(v["other_packets"], 2);
    assert_eq!(v["link_type"], "mixed");
    assert_eq!(v["interfaces"][1]["link_type"], serde_json::Value::Null);
    assert_eq!(
        v["warnings"],
        serde_json::json!([{"kind": "link_type_not_supported", "interface": 1, "link_type_code": 105, "frames": 2}])
    );
    let text = recvscope(&["replay", f.to_str().expect("utf8")]);
    let said: Vec<String> = String::from_utf8_lossy(&text.stdout)
        .lines()
        .filter(|l| l.contains("not supported"))
        .map(str::to_owned)
        .collect();
    assert_eq!(said.len(), 2, "the heading and one warning: {said:?}");
    assert!(
        said[1]
            .contains("2 frame(s) on interface 1 not analysed: its link type 105 is not supported"),
        "{said:?}"
    );
}

#[test]
fn a_packet_on_an_interface_no_block_declared_is_damage_naming_its_frame() {
    let mut frames = merged(vec![(0, exchange(40000, 5, 0))]);
    let mut file = pcapng(&[iface(RAW, 65535, None)], &frames[..3]);
    frames[3].0 = 1;
    let rest = pcapng(
        &[iface(RAW, 65535, None), iface(RAW, 65535, None)],
        &frames[3..4],
    );
    // The section header and its two interfaces are left off: only the packet.
    let header = 28 + 2 * 20;
    file.extend_from_slice(&rest[header..]);
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("undeclared.pcapng");
    std::fs::write(&f, file).expect("write");
    let out = recvscope(&["replay", "--json", f.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        one_line_error(&out).trim_end(),
        format!(
            "recvscope: warning: {}: capture is damaged after frame 3 (frame 4 is on interface 1, which no interface description block declared); the report covers the 3 frames read",
            f.display()
        )
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["packets"], 3);
}

/// A section header: little-endian, version 1.0, length unknown.
fn section_header() -> Vec<u8> {
    let mut shb = 0x1a2b_3c4du32.to_le_bytes().to_vec();
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    pcapng_block(0x0a0d_0d0a, &shb)
}

/// A raw IPv4 TCP segment between 10.0.0.1:40000 and 10.0.0.2:80.
fn raw_tcp(from_client: bool, seq: u32, ack: u32, syn: bool) -> Vec<u8> {
    let (a, b, pa, pb) = if from_client {
        ([10, 0, 0, 1], [10, 0, 0, 2], 40000, 80)
    } else {
        ([10, 0, 0, 2], [10, 0, 0, 1], 80, 40000)
    };
    let mut tcp = etherparse::PacketBuilder::ipv4(a, b, 64).tcp(pa, pb, seq, 65535);
    if syn {
        tcp = tcp.syn();
    }
    if ack != 0 {
        tcp = tcp.ack(ack);
    }
    let mut ip = Vec::new();
    tcp.write(&mut ip, b"").expect("build");
    ip
}

#[test]
fn a_pcapng_with_two_raw_ip_interfaces_is_one_link_type_and_reads_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Both interfaces first, and the second one after a packet: libpcap
    // refuses either at the second LINKTYPE 101 (it compares it with DLT 12).
    let layouts: [&[&str]; 2] = [&["if", "if", "c", "s", "c"], &["if", "c", "if", "s", "c"]];
    for (n, layout) in layouts.iter().enumerate() {
        let mut file = section_header();
        let mut packets = [
            packet(0, &raw_tcp(true, 1000, 0, true)),
            packet(1, &raw_tcp(false, 9000, 1001, true)),
            packet(0, &raw_tcp(true, 1001, 9001, false)),
        ]
        .into_iter();
        for b in *layout {
            match *b {
                "if" => file.extend(interface(101)),
                _ => file.extend(packets.next().expect("packet")),
            }
        }
        let f = dir.path().join(format!("raw{n}.pcapng"));
        std::fs::write(&f, file).expect("write");
        let out = recvscope(&["replay", "--json", f.to_str().expect("utf8")]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(v["link_type"], "RAW");
        assert_eq!(v["packets"], 3, "{layout:?}");
        assert_eq!(v["connections"].as_array().map(Vec::len), Some(1));
        assert_eq!(v["tcp_packets"], 3, "{layout:?}");
        if let Some(n) = recvscope_testkit::tshark_count(&f, "tcp") {
            assert_eq!(n, 3, "tshark reads it too");
        }
    }
}

#[test]
fn the_book_lab_capture_replays_with_its_recv_log() {
    let out = recvscope(&[
        "replay",
        capture("lab-book-delay.pcap").to_str().expect("utf-8"),
        "--json",
    ]);
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(
        doc["recv_log"]
            .as_str()
            .is_some_and(|p| p.ends_with("lab-book-delay.recv.jsonl"))
    );
    assert_eq!(doc["recv_connection"], 0);
    let recvs = doc["recvs"].as_array().expect("recvs");
    let stalled = recvs.iter().filter(|r| !r["stalled"].is_null()).count();
    let reopened = recvs
        .iter()
        .filter(|r| r["window_update"]["from"] == 0)
        .count();
    assert_eq!(
        (stalled, reopened),
        (13, 2),
        "13 recvs found the window zero, 2 of them reopened it"
    );
    let sizes: Vec<u64> = recvs
        .iter()
        .filter_map(|r| r["bytes"].as_u64())
        .filter(|b| *b > 0)
        .collect();
    assert_eq!(
        sizes,
        [[5120; 13].as_slice(), &[2944, 799]].concat(),
        "the book's delayed run: 5120 on every recv but the last ones"
    );
    let last = recvs.last().expect("recv");
    assert_eq!(last["bytes"], 0);
    assert_eq!(
        last["total"], last["wire_delivered"],
        "every byte the wire delivered was read"
    );
    let http = &doc["connections"][0]["http"][0];
    assert_eq!(http["complete"], true);
    assert_eq!(
        last["total"].as_u64(),
        Some(
            http["header_length"].as_u64().expect("header")
                + 4
                + http["body_bytes"].as_u64().expect("body")
        )
    );
}

#[test]
fn several_files_report_whole_and_in_order_as_one_by_one_with_any_number_of_jobs() {
    let files = [
        "book-nodelay.pcap",
        "keepalive-chunked.pcap",
        "sll2-any.pcap",
    ];
    let paths: Vec<String> = files
        .iter()
        .map(|f| capture(f).display().to_string())
        .collect();
    let args: Vec<&str> = std::iter::once("replay")
        .chain(paths.iter().map(String::as_str))
        .collect();
    let one_by_one: Vec<u8> = paths
        .iter()
        .flat_map(|p| recvscope(&["replay", "--jobs", "1", p]).stdout)
        .collect();
    for jobs in [None, Some("1"), Some("2"), Some("4")] {
        let mut with_jobs = args.clone();
        if let Some(n) = jobs {
            with_jobs.extend(["--jobs", n]);
        }
        let together = recvscope(&with_jobs);
        assert!(together.status.success(), "--jobs {jobs:?}");
        assert_eq!(
            String::from_utf8_lossy(&together.stdout),
            String::from_utf8_lossy(&one_by_one),
            "--jobs {jobs:?}"
        );
    }
    let zero = recvscope(&["replay", "--jobs", "0", &paths[0]]);
    assert_eq!(zero.status.code(), Some(2), "clap's usage error");
}

#[test]
fn a_conn_the_capture_does_not_have_is_an_error_before_any_output_naming_the_range() {
    let two = capture("keepalive-chunked.pcap");
    let one = capture("book-nodelay.pcap");
    let (two, one) = (two.to_str().expect("path"), one.to_str().expect("path"));
    for args in [
        vec!["replay", "--conn", "999", two],
        vec!["replay", "--conn", "999", two, "--json"],
        vec!["replay", "--conn", "999", two, two, "-j", "2"],
    ] {
        let out = recvscope(&args);
        assert_eq!(
            (out.status.code(), String::from_utf8_lossy(&out.stderr)),
            (
                Some(1),
                format!("recvscope: {two} has connections 0–1; there is no --conn 999\n").into()
            ),
            "{args:?}"
        );
        assert!(out.stdout.is_empty(), "{args:?}: nothing before the error");
    }
    // One file has it, the next does not: still nothing but the error.
    let out = recvscope(&["replay", "--conn", "1", two, one, "-j", "1"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("recvscope: {one} has one connection, 0; there is no --conn 1\n")
    );
    assert!(out.stdout.is_empty());
    let out = recvscope(&["replay", "--conn", "1", two]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("\n#1  "),
        "a --conn in range is listed"
    );
}

#[test]
fn a_trace_the_tests_build_is_a_capture_recvscope_and_tshark_both_read() {
    use recvscope_testkit::{Pkt, Trace};
    let mut t = Trace::new();
    t.push(Pkt::c2s(100, b"").syn())
        .push(Pkt::s2c(500, b"").syn().ack(101))
        .push(Pkt::c2s(101, b"GET / HTTP/1.0\r\n\r\n").ack(501))
        .push(
            Pkt::s2c(501, b"HTTP/1.0 204 No Content\r\n\r\n")
                .ack(119)
                .fin(),
        )
        .push(Pkt::c2s(119, b"").ack(529).fin())
        .push(Pkt::s2c(529, b"").ack(120));
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("built.pcap");
    std::fs::write(&file, t.pcap()).expect("write");
    let out = recvscope(&["replay", "--json", file.to_str().expect("utf-8")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["tcp_packets"], 6, "{json}");
    assert_eq!(json["connections"][0]["http"][0]["status"], 204, "{json}");
    if let Some(n) = recvscope_testkit::tshark_count(&file, "tcp") {
        assert_eq!(n, 6);
    }
    if let Some(n) = recvscope_testkit::tshark_count(&file, "http.response.code == 204") {
        assert_eq!(n, 1);
    }
}

/// `n` keep-alive GETs and their 200s between `client` and `server` ports,
/// no handshake: the capture starts at the first request.
fn exchanges_without_handshake(n: u32, client: u16, server: u16) -> recvscope_testkit::Trace {
    use recvscope_testkit::{Pkt, Trace};
    let mut t = Trace::new();
    let (mut cseq, mut sseq) = (1000u32, 5000u32);
    for i in 0..n {
        let req = format!("GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n");
        let resp = format!("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{i:02}");
        t.push(
            Pkt::c2s(cseq, req.as_bytes())
                .ack(sseq)
                .ports(client, server),
        );
        cseq += req.len() as u32;
        t.at(
            2000,
            Pkt::s2c(sseq, resp.as_bytes())
                .ack(cseq)
                .ports(client, server),
        );
        sseq += resp.len() as u32;
        t.push(Pkt::c2s(cseq, b"").ack(sseq).ports(client, server));
    }
    t
}

/// `replay --json` of a built trace, with the file it was written to.
fn replay_built(t: &recvscope_testkit::Trace) -> (tempfile::TempDir, PathBuf, serde_json::Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("built.pcap");
    std::fs::write(&file, t.pcap()).expect("write");
    let out = recvscope(&["replay", "--json", file.to_str().expect("utf-8")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = serde_json::from_slice(&out.stdout).expect("json");
    (dir, file, json)
}

#[test]
fn without_a_handshake_a_request_line_makes_its_sender_the_client_whatever_the_ports() {
    // The server is on the higher port: port order alone would swap the
    // roles and every exchange would be skipped.
    let t = exchanges_without_handshake(6, 39976, 64000);
    let (_dir, file, json) = replay_built(&t);
    let c = &json["connections"][0];
    assert_eq!(c["roles_from"], "content", "{c}");
    assert_eq!(c["client"], "10.0.0.1:39976");
    assert_eq!(c["server"], "10.0.0.2:64000");
    let http = c["http"].as_array().expect("http");
    let paired: Vec<(String, u64, bool)> = http
        .iter()
        .map(|x| {
            (
                x["uri"].as_str().unwrap_or("-").to_string(),
                x["status"].as_u64().unwrap_or(0),
                x["complete"] == true,
            )
        })
        .collect();
    let want: Vec<(String, u64, bool)> = (0..6).map(|i| (format!("/{i}"), 200, true)).collect();
    assert_eq!(paired, want);
    assert!(
        http.iter().all(|x| x["time_to_first_byte_ns"] == 2_000_000),
        "{c}"
    );
    const TSHARK_RESPONSES: usize = 6;
    if let Some(n) = recvscope_testkit::tshark_count(&file, "http.response") {
        assert_eq!(n, TSHARK_RESPONSES);
    }
    let text = recvscope(&["replay", file.to_str().expect("utf-8")]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(
            "  roles: no handshake: client and server told by the first request or status line\n"
        ),
        "{text}"
    );
}

/// A capture starting inside a response body, then one whole exchange,
/// no handshake, between `client` and `server` ports.
fn mid_body_start(client: u16, server: u16) -> recvscope_testkit::Trace {
    use recvscope_testkit::{Pkt, Trace};
    let tail: &[u8] = b"the end of a body sent before the capture started";
    let req: &[u8] = b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n";
    let resp: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    let mut t = Trace::new();
    t.push(Pkt::s2c(5000, tail).ack(1000).ports(client, server))
        .push(
            Pkt::c2s(1000, b"")
                .ack(5000 + tail.len() as u32)
                .ports(client, server),
        )
        .push(
            Pkt::c2s(1000, req)
                .ack(5000 + tail.len() as u32)
                .ports(client, server),
        )
        .at(
            2000,
            Pkt::s2c(5000 + tail.len() as u32, resp)
                .ack(1000 + req.len() as u32)
                .ports(client, server),
        );
    t
}

/// tshark's count of responses in a [`mid_body_start`] capture, where
/// recvscope pairs 1: tshark takes the body tail for the start of a head
/// and reads the response into it ("Continuation"); with TCP
/// desegmentation off it counts the 1 response too.
const TSHARK_RESPONSES_AFTER_A_BODY_TAIL: usize = 0;

/// The roles, rule and exchanges (uri, status) of a built trace's one connection.
fn roles_and_exchanges(
    t: &recvscope_testkit::Trace,
) -> (
    PathBuf,
    tempfile::TempDir,
    String,
    String,
    Vec<(String, u64)>,
) {
    let (dir, file, json) = replay_built(t);
    let c = &json["connections"][0];
    let exchanges = c["http"]
        .as_array()
        .expect("http")
        .iter()
        .map(|x| {
            (
                x["uri"].as_str().unwrap_or("-").to_string(),
                x["status"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    (
        file,
        dir,
        c["roles_from"].as_str().unwrap_or("-").to_string(),
        c["client"].as_str().unwrap_or("-").to_string(),
        exchanges,
    )
}

#[test]
fn without_a_handshake_or_a_telling_first_payload_the_well_known_port_is_the_servers() {
    // An old BSD-style ephemeral port below the server's 8080: port order
    // alone would take 8080 for the client.
    let (file, _dir, rule, client, exchanges) = roles_and_exchanges(&mid_body_start(1050, 8080));
    assert_eq!(rule, "well_known_port");
    assert_eq!(client, "10.0.0.1:1050");
    assert_eq!(exchanges, [("/next".to_string(), 200)]);
    if let Some(n) = recvscope_testkit::tshark_count(&file, "http.response") {
        assert_eq!(n, TSHARK_RESPONSES_AFTER_A_BODY_TAIL);
    }
}

#[test]
fn without_a_handshake_a_telling_payload_or_a_well_known_port_the_higher_port_is_the_clients() {
    let (file, _dir, rule, client, exchanges) = roles_and_exchanges(&mid_body_start(6000, 5000));
    assert_eq!(rule, "port_order");
    assert_eq!(client, "10.0.0.1:6000");
    assert_eq!(exchanges, [("/next".to_string(), 200)]);
    if let Some(n) = recvscope_testkit::tshark_count(&file, "http.response") {
        assert_eq!(n, TSHARK_RESPONSES_AFTER_A_BODY_TAIL);
    }
}

#[test]
fn a_lost_response_head_leaves_its_exchange_marked_and_the_others_paired_with_their_own_responses()
{
    use recvscope_testkit::{Pkt, Trace};
    let mut t = Trace::new();
    t.push(Pkt::c2s(100, b"").syn())
        .push(Pkt::s2c(500, b"").syn().ack(101))
        .push(Pkt::c2s(101, b"").ack(501));
    let (mut cseq, mut sseq) = (101u32, 501u32);
    for i in 1..=3u32 {
        let req = format!("GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n");
        let head: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
        let body = format!("body{i}");
        t.push(Pkt::c2s(cseq, req.as_bytes()).ack(sseq));
        cseq += req.len() as u32;
        // Each response's head 3 ms after its request, its body 1 ms later;
        // the capture lost the second response's head.
        if i == 2 {
            t.at(
                4000,
                Pkt::s2c(sseq + head.len() as u32, body.as_bytes()).ack(cseq),
            );
        } else {
            t.at(3000, Pkt::s2c(sseq, head).ack(cseq))
                .push(Pkt::s2c(sseq + head.len() as u32, body.as_bytes()).ack(cseq));
        }
        sseq += (head.len() + body.len()) as u32;
        t.push(Pkt::c2s(cseq, b"").ack(sseq));
    }
    let (_dir, file, json) = replay_built(&t);
    let http = json["connections"][0]["http"].as_array().expect("http");
    let seen: Vec<(&str, Option<u64>, Option<i64>, bool)> = http
        .iter()
        .map(|x| {
            (
                x["uri"].as_str().unwrap_or("-"),
                x["status"].as_u64(),
                x["time_to_first_byte_ns"].as_i64(),
                x["response_head_missing"] == true,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("/1", Some(200), Some(3_000_000), false),
            ("/2", None, None, true),
            ("/3", Some(200), Some(3_000_000), false),
        ]
    );
    assert_eq!(http[2]["complete"], true);
    // tshark counts 1: it takes the second body for the start of a head
    // and reads the third response into it ("Continuation").
    const TSHARK_RESPONSES: usize = 1;
    if let Some(n) = recvscope_testkit::tshark_count(&file, "http.response") {
        assert_eq!(n, TSHARK_RESPONSES);
    }
    let text = recvscope(&["replay", file.to_str().expect("utf-8")]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("  HTTP GET /2 HTTP/1.1 -> - -  header - B, response head not in the capture, INCOMPLETE\n"),
        "{text}"
    );
}

/// A download of a 12-byte body whose segments come as listed, each a
/// (body offset, bytes) pair after the head.
fn body_segments(segments: &[(u32, &[u8])]) -> recvscope_testkit::Trace {
    use recvscope_testkit::{Pkt, Trace};
    let head = b"HTTP/1.0 200 OK\r\nContent-Length: 12\r\n\r\n";
    let body = 501 + head.len() as u32;
    let mut t = Trace::new();
    t.push(Pkt::c2s(100, b"").syn())
        .push(Pkt::s2c(500, b"").syn().ack(101))
        .push(Pkt::c2s(101, b"GET / HTTP/1.0\r\n\r\n").ack(501))
        .push(Pkt::s2c(501, head).ack(119));
    for &(off, bytes) in segments {
        t.push(Pkt::s2c(body + off, bytes).ack(119));
    }
    t
}

#[test]
fn a_retransmission_with_other_bytes_is_warned_of_and_the_first_copy_kept() {
    for (name, segments, frame) in [
        (
            "in order",
            [(0, &b"first"[..]), (5, b"copy1!!"), (5, b"COPY2??")],
            7,
        ),
        (
            "out of order",
            [(5, &b"copy1!!"[..]), (5, b"COPY2??"), (0, b"first")],
            6,
        ),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("conflict.pcap");
        std::fs::write(&file, body_segments(&segments).pcap()).expect("write");
        let bodies = dir.path().join("bodies");
        std::fs::create_dir(&bodies).expect("mkdir");
        let f = file.to_str().expect("utf-8");
        let out = recvscope(&["replay", "--extract", bodies.to_str().expect("utf-8"), f]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{name}: {text}");
        assert!(
            text.contains(&format!(
                "1 segment from the server carried bytes that differ from the copy captured first (first at frame {frame})"
            )),
            "{name}: {text}"
        );
        let json = recvscope(&["replay", "--json", f]);
        let json: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
        let w = &json["connections"][0]["warnings"];
        assert_eq!(w[0]["kind"], "conflicting_copies", "{name}: {w}");
        assert_eq!(w[0]["segments"], 1, "{name}: {w}");
        let body = std::fs::read_dir(&bodies)
            .expect("list")
            .map(|e| e.expect("entry").path())
            .find(|p| p.to_string_lossy().contains("response"))
            .expect("a response body");
        assert_eq!(
            std::fs::read(body).expect("read"),
            b"firstcopy1!!",
            "{name}: the copy captured first"
        );
        // tshark keeps the same copy; it flags the overlap conflict where
        // it reassembles both copies (out of order, when told to reassemble
        // out-of-order data), not where the message was complete before the
        // second copy came.
        let (prefs, tshark_conflicts): (&[&str], usize) = match name {
            "in order" => (&[], 0),
            _ => (&["tcp.reassemble_out_of_order:TRUE"], 1),
        };
        let conflict = "tcp.segment.overlap.conflict";
        if let Some(n) = recvscope_testkit::tshark_count_with(&file, prefs, conflict) {
            assert_eq!(n, tshark_conflicts, "{name}");
        }
        let first_copy = "http.file_data == \"firstcopy1!!\"";
        if let Some(n) = recvscope_testkit::tshark_count_with(&file, prefs, first_copy) {
            assert_eq!(n, 1, "{name}");
        }
    }
}

#[test]
fn a_retransmission_of_the_same_bytes_is_no_conflict() {
    let t = body_segments(&[(0, b"first"), (5, b"copy1!!"), (0, b"firstcopy1!!")]);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("same.pcap");
    std::fs::write(&file, t.pcap()).expect("write");
    let out = recvscope(&["replay", "--json", file.to_str().expect("utf-8")]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let conn = &json["connections"][0];
    assert_eq!(conn["warnings"], serde_json::json!([]), "{conn}");
    assert_eq!(conn["flags"]["retransmission"], 1, "{conn}");
    if let Some(n) = recvscope_testkit::tshark_count(&file, "tcp.analysis.retransmission") {
        assert_eq!(n, 1);
    }
}

/// A built trace written to a fresh directory: the directory (kept alive
/// by the caller) and the file's path.
fn built(t: &recvscope_testkit::Trace) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("built.pcap");
    std::fs::write(&file, t.pcap()).expect("write");
    (dir, file)
}

/// `replay --json` of one file.
fn replay_json(file: &Path) -> serde_json::Value {
    let out = recvscope(&["replay", "--json", file.to_str().expect("utf-8")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

/// Handshake and ten bytes from the client (its next sequence number 111),
/// then one more client segment `past` bytes beyond that.
fn a_segment_past_nextseq(past: u32) -> recvscope_testkit::Trace {
    use recvscope_testkit::{Pkt, Trace};
    let mut t = Trace::new();
    t.push(Pkt::c2s(100, b"").syn())
        .push(Pkt::s2c(500, b"").syn().ack(101))
        .push(Pkt::c2s(101, b"").ack(501))
        .push(Pkt::c2s(101, b"0123456789").ack(501))
        .push(Pkt::s2c(501, b"").ack(111))
        .push(Pkt::c2s(111u32.wrapping_add(past), b"fuzz").ack(501));
    t
}

#[test]
fn a_segment_exactly_two_to_the_31_past_nextseq_is_a_lost_segment_as_in_tshark() {
    // tshark 4.0.17 flags the segment 2^31 - 1 and 2^31 past nextseq
    // (GT_SEQ holds), not the one 2^31 + 1 past (that is behind).
    for (past, tshark) in [(0x7fff_ffff, 1), (0x8000_0000, 1), (0x8000_0001, 0)] {
        let (_dir, file) = built(&a_segment_past_nextseq(past));
        let json = replay_json(&file);
        assert_eq!(json["flags"]["lost_segment"], tshark, "{past:#x}: {json}");
        if let Some(n) = recvscope_testkit::tshark_count(&file, "tcp.analysis.lost_segment") {
            assert_eq!(n, tshark, "{past:#x}: tshark");
        }
    }
}

/// tshark's `tcp.stream` numbers in `file`, each once.
fn tshark_streams(file: &Path) -> Option<usize> {
    let out = match Command::new("tshark")
        .arg("-n")
        .arg("-r")
        .arg(file)
        .args(["-T", "fields", "-e", "tcp.stream"])
        .output()
    {
        Ok(out) => out,
        Err(_) => {
            recvscope_testkit::tool_missing("tshark", "the comparison with tshark");
            return None;
        }
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let streams: std::collections::BTreeSet<&str> = std::str::from_utf8(&out.stdout)
        .expect("utf-8")
        .lines()
        .collect();
    Some(streams.len())
}

/// `gap_us` after the last frame: a handshake, 18 bytes from the client,
/// 19 from the server, and the client's reset.
fn reset_by_the_client(t: &mut recvscope_testkit::Trace, gap_us: i64, isn: u32) {
    use recvscope_testkit::Pkt;
    t.at(gap_us, Pkt::c2s(isn, b"").syn())
        .push(Pkt::s2c(9000, b"").syn().ack(isn + 1))
        .push(Pkt::c2s(isn + 1, b"").ack(9001))
        .push(Pkt::c2s(isn + 1, b"GET / HTTP/1.1\r\n\r\n").ack(9001))
        .push(Pkt::s2c(9001, b"HTTP/1.1 204 OK\r\n\r\n").ack(isn + 19))
        .push(Pkt::c2s(isn + 19, b"").rst().ack(9020));
}

const SEVENTY_SEVEN_S_US: i64 = 77_000_000;

#[test]
fn a_reset_77_s_after_a_reset_stays_in_its_connection_as_one_tcp_stream() {
    use recvscope_testkit::{Pkt, Trace};
    let mut t = Trace::new();
    reset_by_the_client(&mut t, 1000, 1000);
    // Other traffic goes on (a minute and more after the close), then a
    // stray reset on the same ports, far out of window.
    t.at(
        SEVENTY_SEVEN_S_US - 1000,
        Pkt::c2s(1, b"").syn().client_port(40001),
    )
    .push(Pkt::c2s(2_094_169_081, b"").rst().ack(9020));
    let (_dir, file) = built(&t);
    let json = replay_json(&file);
    const TSHARK_STREAMS: usize = 2;
    let conns = json["connections"].as_array().expect("connections");
    assert_eq!(conns.len(), TSHARK_STREAMS, "{json}");
    assert_eq!(conns[0]["client"], "10.0.0.1:40000", "{json}");
    assert_eq!(conns[0]["bytes"]["client_to_server"], 18, "{json}");
    assert_eq!(conns[0]["bytes"]["server_to_client"], 19, "{json}");
    if let Some(n) = tshark_streams(&file) {
        assert_eq!(n, TSHARK_STREAMS, "tshark");
    }
}

#[test]
fn a_syn_with_a_new_isn_77_s_after_a_reset_starts_a_second_tcp_stream() {
    let mut t = recvscope_testkit::Trace::new();
    reset_by_the_client(&mut t, 1000, 1000);
    reset_by_the_client(&mut t, SEVENTY_SEVEN_S_US, 555_000);
    let (_dir, file) = built(&t);
    let json = replay_json(&file);
    const TSHARK_STREAMS: usize = 2;
    let conns = json["connections"].as_array().expect("connections");
    assert_eq!(conns.len(), TSHARK_STREAMS, "{json}");
    for c in conns {
        assert_eq!(c["bytes"]["client_to_server"], 18, "{json}");
    }
    if let Some(n) = tshark_streams(&file) {
        assert_eq!(n, TSHARK_STREAMS, "tshark");
    }
}

/// `replay` of one file, as printed.
fn replay_text(file: &Path) -> String {
    let out = recvscope(&["replay", file.to_str().expect("utf-8")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn an_ssh_connection_captured_from_its_handshake_is_not_http_not_entered_mid_message() {
    use recvscope_testkit::{Pkt, Trace};
    let banner = b"SSH-2.0-OpenSSH_9.2\r\n";
    let n = banner.len() as u32;
    let mut t = Trace::new();
    t.push(Pkt::c2s(100, b"").syn().ports(40000, 22))
        .push(Pkt::s2c(500, b"").syn().ack(101).ports(40000, 22))
        .push(Pkt::c2s(101, b"").ack(501).ports(40000, 22))
        .push(Pkt::s2c(501, banner).ack(101).ports(40000, 22))
        .push(Pkt::c2s(101, banner).ack(501 + n).ports(40000, 22))
        .push(Pkt::s2c(501 + n, b"").ack(101 + n).ports(40000, 22));
    let (_dir, file) = built(&t);
    let text = replay_text(&file);
    assert!(
        text.contains("client: skipped 21 bytes (not HTTP)"),
        "{text}"
    );
    assert!(
        text.contains("server: skipped 21 bytes (not HTTP)"),
        "{text}"
    );
    assert!(!text.contains("capture started inside a message"), "{text}");
}

#[test]
fn a_capture_that_starts_inside_a_body_says_so() {
    use recvscope_testkit::{Pkt, Trace};
    let mut t = Trace::new();
    t.push(Pkt::s2c(5000, b"the middle of a body").ack(900))
        .push(Pkt::c2s(900, b"").ack(5020));
    let (_dir, file) = built(&t);
    let text = replay_text(&file);
    assert!(
        text.contains("server: skipped 20 bytes (capture started inside a message)"),
        "{text}"
    );
    assert!(!text.contains("not HTTP"), "{text}");
}

#[test]
fn extract_writes_thousands_of_bodies_in_progress_at_once_within_a_few_descriptors() {
    use recvscope_testkit::{Pkt, Trace};
    use std::os::unix::process::CommandExt;
    const BODIES: u16 = 1500;
    let head = b"HTTP/1.0 200 OK\r\nContent-Length: 8\r\n\r\n";
    let h = head.len() as u32;
    let mut t = Trace::new();
    for i in 0..BODIES {
        let p = |pkt: Pkt| pkt.ports(10_000 + i, 80);
        t.push(p(Pkt::c2s(100, b"").syn()))
            .push(p(Pkt::s2c(500, b"").syn().ack(101)))
            .push(p(Pkt::c2s(101, b"GET / HTTP/1.0\r\n\r\n").ack(501)))
            .push(p(Pkt::s2c(501, head).ack(119)))
            .push(p(Pkt::s2c(501 + h, format!("{i:04}").as_bytes()).ack(119)));
    }
    for i in 0..BODIES {
        t.push(Pkt::s2c(505 + h, b"tail").ack(119).ports(10_000 + i, 80));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("many.pcap");
    std::fs::write(&file, t.pcap()).expect("write");
    let bodies = dir.path().join("bodies");
    // 256 descriptors: the bodies in progress outnumber them six to one.
    let out = unsafe {
        Command::new(env!("CARGO_BIN_EXE_recvscope"))
            .arg("replay")
            .arg("--extract")
            .arg(&bodies)
            .arg(&file)
            .pre_exec(|| {
                let limit = libc::rlimit {
                    rlim_cur: 256,
                    rlim_max: 256,
                };
                // SAFETY: setrlimit is async-signal-safe.
                if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            })
            .output()
            .expect("run recvscope")
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = std::fs::read_dir(&bodies)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), usize::from(BODIES), "{:?}", &names[..3]);
    for (i, name) in names.iter().enumerate() {
        assert_eq!(name, &format!("conn{i:04}-txn000-response.bin"));
        let body = std::fs::read(bodies.join(name)).expect("read");
        assert_eq!(body, format!("{i:04}tail").into_bytes(), "{name}");
    }
}

#[test]
fn several_files_report_each_bad_one_in_a_line_and_the_rest_whole_and_exit_with_the_worst() {
    let dir = tempfile::tempdir().expect("tempdir");
    let garbage = dir.path().join("notes.pcap");
    std::fs::write(&garbage, "a text file, not a capture\n").expect("write");
    let missing = dir.path().join("missing.pcap");
    let good = capture("book-nodelay.pcap");
    let (g, m, f) = (
        garbage.to_str().expect("utf-8"),
        missing.to_str().expect("utf-8"),
        good.to_str().expect("utf-8"),
    );
    let alone = recvscope(&["replay", f]);
    let one = String::from_utf8_lossy(&alone.stdout).into_owned();
    for jobs in ["1", "2"] {
        for (files, code) in [(vec![g, f, f], 2), (vec![f, g, m, f], 1)] {
            let mut args = vec!["replay", "-j", jobs];
            args.extend(&files);
            let out = recvscope(&args);
            assert_eq!(out.status.code(), Some(code), "{files:?}");
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                one.repeat(2),
                "both good reports, whole"
            );
            let err = String::from_utf8_lossy(&out.stderr);
            let mut expected =
                format!("recvscope: {g} is not a pcap or pcapng capture (unknown file format)\n");
            if files.contains(&m) {
                expected += &format!(
                    "recvscope: cannot read {m}: No such file or directory (os error 2)\n"
                );
            }
            assert_eq!(err, expected, "{files:?}");
        }
    }
    let single = recvscope(&["replay", g]);
    assert_eq!(
        single.status.code(),
        Some(2),
        "one bad file is still exit 2"
    );
}

#[test]
fn dash_r_reads_a_file_as_tcpdump_does_before_the_files_named() {
    let good = capture("book-nodelay.pcap");
    let f = good.to_str().expect("utf-8");
    let alone = recvscope(&["replay", f]);
    let out = recvscope(&["replay", "-r", f]);
    assert!(out.status.success());
    assert_eq!(out.stdout, alone.stdout);
    let json = recvscope(&["replay", "--json", "-r", f]);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(doc["file"], f);
    let none = recvscope(&["replay"]);
    assert_eq!(none.status.code(), Some(2), "a file is still required");
}
