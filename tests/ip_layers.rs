//! IP layers as Wireshark reads them, on captures built here and written
//! to a file: IPv4 options (source routes, malformed options) and the
//! encapsulations recvscope peels. Each figure tshark gives is a constant
//! beside the assertion, and checked against tshark where it is installed.

use std::path::Path;

use recvscope_testkit::{Pkt, Trace, tshark_count, wrap};

/// A handshake, one HTTP/1.1 exchange and both FINs: six frames.
fn http_exchange() -> Trace {
    let req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
    let (rq, rs) = (req.len() as u32, resp.len() as u32);
    let mut t = Trace::new();
    t.push(Pkt::c2s(1000, b"").syn())
        .push(Pkt::s2c(9000, b"").syn().ack(1001))
        .push(Pkt::c2s(1001, b"").ack(9001))
        .push(Pkt::c2s(1001, req).ack(9001))
        .push(Pkt::s2c(9001, resp).ack(1001 + rq).fin())
        .push(Pkt::c2s(1001 + rq, b"").ack(9002 + rs).fin());
    t
}

/// recvscope's JSON report of `file`.
fn report(file: &Path) -> serde_json::Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_recvscope"))
        .arg("replay")
        .arg("--json")
        .arg(file)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run recvscope");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// recvscope's text report of `file`.
fn text(file: &Path) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_recvscope"))
        .arg("replay")
        .arg(file)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run recvscope");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Writes `bytes` as `name` in `dir`.
fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write capture");
    path
}

/// Asserts tshark counts `expected` frames matching `filter` in `file`,
/// where tshark is installed.
fn tshark_agrees(file: &Path, filter: &str, expected: usize) {
    if let Some(n) = tshark_count(file, filter) {
        assert_eq!(n, expected, "tshark's count of {filter}");
    }
}

#[test]
fn an_ipv4_option_too_short_for_its_kind_makes_the_frame_malformed_and_its_tcp_unread() {
    // Security (130) with length 2: Wireshark's dissector throws, the
    // frame's TCP is not dissected, and the connection goes on without it.
    let mut t = http_exchange();
    t.rewrite(3, |ip| wrap::ipv4_options(ip, &[130, 2]));
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(&dir, "security-len-2.pcap", &t.pcap());
    const TSHARK_TCP_FRAMES: usize = 5;
    const TSHARK_MALFORMED: usize = 1;
    const TSHARK_RETRANSMISSIONS: usize = 0;
    const TSHARK_LOST_SEGMENTS: usize = 1;
    tshark_agrees(&file, "tcp", TSHARK_TCP_FRAMES);
    tshark_agrees(&file, "_ws.malformed", TSHARK_MALFORMED);
    tshark_agrees(&file, "tcp.analysis.retransmission", TSHARK_RETRANSMISSIONS);
    tshark_agrees(&file, "tcp.analysis.lost_segment", TSHARK_LOST_SEGMENTS);
    let r = report(&file);
    assert_eq!(r["tcp_packets"], TSHARK_TCP_FRAMES as u64);
    assert_eq!(r["malformed_ip"], TSHARK_MALFORMED as u64);
    assert_eq!(r["flags"]["retransmission"], TSHARK_RETRANSMISSIONS as u64);
    assert_eq!(r["flags"]["lost_segment"], TSHARK_LOST_SEGMENTS as u64);
    assert_eq!(r["warnings"][0]["kind"], "malformed_ip");
    assert!(
        text(&file).contains("1 frame(s) have a malformed IPv4 header"),
        "the text report says so"
    );
}

#[test]
fn an_ipv4_option_length_below_two_or_past_the_header_only_stops_reading_options() {
    // Wireshark stops at such an option without harm: the TCP is read.
    for bogus in [&[130u8, 0][..], &[130, 1], &[130, 40], &[1, 1, 1, 130]] {
        let mut t = http_exchange();
        t.rewrite(3, |ip| wrap::ipv4_options(ip, bogus));
        let dir = tempfile::tempdir().expect("tempdir");
        let file = write(&dir, "bogus.pcap", &t.pcap());
        const TSHARK_TCP_FRAMES: usize = 6;
        tshark_agrees(&file, "tcp", TSHARK_TCP_FRAMES);
        tshark_agrees(&file, "_ws.malformed", 0);
        let r = report(&file);
        assert_eq!(r["tcp_packets"], TSHARK_TCP_FRAMES as u64, "{bogus:?}");
        assert_eq!(r["malformed_ip"], 0, "{bogus:?}");
        assert_eq!(r["connections"][0]["http"][0]["status"], 200, "{bogus:?}");
    }
}

/// A loose (131) or strict (137) source route option: `ptr` and the route.
fn source_route(kind: u8, ptr: u8, route: &[[u8; 4]]) -> Vec<u8> {
    let mut o = vec![kind, 3 + 4 * route.len() as u8, ptr];
    for hop in route {
        o.extend_from_slice(hop);
    }
    o
}

#[test]
fn a_source_route_with_hops_to_go_is_keyed_on_its_final_destination() {
    // The client's frames reach the server through routers 10.9.9.1 and
    // 10.9.9.2: each hop's header names the next router, the route names
    // the server last. Wireshark keys the conversation (and shows ip.dst)
    // on the route's final destination: one stream.
    let (r1, r2, server) = ([10, 9, 9, 1], [10, 9, 9, 2], [10, 0, 0, 2]);
    let mut t = http_exchange();
    t.rewrite(0, |ip| {
        wrap::ipv4_options(
            &wrap::ipv4_dst(ip, r1),
            &source_route(131, 4, &[r2, server]),
        )
    })
    .rewrite(2, |ip| {
        wrap::ipv4_options(
            &wrap::ipv4_dst(ip, r2),
            &source_route(131, 8, &[r1, server]),
        )
    })
    .rewrite(3, |ip| {
        wrap::ipv4_options(
            &wrap::ipv4_dst(ip, r1),
            &source_route(137, 4, &[r2, server]),
        )
    })
    .rewrite(5, |ip| {
        // The route used up (pointer past its end): the header's
        // destination is the server's own.
        wrap::ipv4_options(ip, &source_route(131, 12, &[r1, r2]))
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(&dir, "source-route.pcap", &t.pcap());
    const TSHARK_STREAMS: usize = 1;
    const TSHARK_RETRANSMISSIONS: usize = 0;
    tshark_agrees(&file, "tcp.stream == 0", 6);
    tshark_agrees(&file, "tcp.stream > 0", TSHARK_STREAMS - 1);
    tshark_agrees(&file, "ip.dst == 10.0.0.2 && tcp.srcport == 40000", 4);
    tshark_agrees(&file, "tcp.analysis.retransmission", TSHARK_RETRANSMISSIONS);
    let r = report(&file);
    let conns = r["connections"].as_array().expect("connections");
    assert_eq!(conns.len(), TSHARK_STREAMS);
    assert_eq!(conns[0]["server"], "10.0.0.2:80");
    assert_eq!(r["flags"]["retransmission"], TSHARK_RETRANSMISSIONS as u64);
    assert_eq!(conns[0]["http"][0]["status"], 200);
}

#[test]
fn a_source_route_whose_pointer_is_not_at_an_address_keeps_the_headers_destination() {
    // Pointer 12 past an 11-byte option (route used up), 5 (mid-address)
    // or 3 (before the first address): Wireshark keys on the header's
    // destination, here a router: a second stream.
    for ptr in [12u8, 5, 3] {
        let mut t = http_exchange();
        t.rewrite(3, |ip| {
            wrap::ipv4_options(
                &wrap::ipv4_dst(ip, [10, 9, 9, 1]),
                &source_route(131, ptr, &[[10, 9, 9, 2], [10, 0, 0, 2]]),
            )
        });
        let dir = tempfile::tempdir().expect("tempdir");
        let file = write(&dir, "pointer.pcap", &t.pcap());
        const TSHARK_STREAMS: usize = 2;
        tshark_agrees(&file, "tcp.stream == 1", 1);
        let r = report(&file);
        let conns = r["connections"].as_array().expect("connections");
        assert_eq!(conns.len(), TSHARK_STREAMS, "pointer {ptr}");
        assert!(
            conns.iter().any(|c| c["server"] == "10.9.9.1:80"),
            "pointer {ptr}: {conns:?}"
        );
    }
}
