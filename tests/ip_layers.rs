//! IP layers as Wireshark reads them, on captures built here and written
//! to a file: IPv4 options (source routes, malformed options) and the
//! encapsulations recvscope peels. Each figure tshark gives is a constant
//! beside the assertion, and checked against tshark where it is installed.

use std::path::Path;

use recvscope_testkit::{Pkt, Trace, pcap, tshark_count, wrap};

/// A handshake, one HTTP/1.1 exchange and both FINs: six frames.
fn http_exchange() -> Trace {
    exchange_in(Trace::new())
}

/// [`http_exchange`] appended to `t`.
fn exchange_in(mut t: Trace) -> Trace {
    let req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    let resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
    let (rq, rs) = (req.len() as u32, resp.len() as u32);
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

/// An encapsulation: how each raw IP packet is wrapped into an Ethernet
/// frame, the tunnel recvscope names in JSON and in words.
struct Encapsulation {
    name: &'static str,
    ipv6: bool,
    wrap: fn(&[u8]) -> Vec<u8>,
    json: &'static [&'static str],
    words: &'static str,
}

fn ip_ether_type(ip: &[u8]) -> u16 {
    if ip[0] >> 4 == 6 { 0x86dd } else { 0x0800 }
}

const ENCAPSULATIONS: &[Encapsulation] = &[
    Encapsulation {
        name: "pppoe",
        ipv6: false,
        wrap: |ip| wrap::ethernet(&wrap::pppoe(ip, 0x0021), 0x8864),
        json: &["pppoe"],
        words: "PPPoE",
    },
    Encapsulation {
        name: "pppoe-ipv6-in-qinq",
        ipv6: true,
        wrap: |ip| {
            wrap::tagged(
                &wrap::pppoe(ip, 0x0057),
                0x8864,
                &[(0x88a8, 10), (0x8100, 20)],
            )
        },
        json: &["pppoe"],
        words: "PPPoE",
    },
    Encapsulation {
        name: "mpls",
        ipv6: false,
        wrap: |ip| wrap::ethernet(&wrap::mpls(ip, 2), 0x8847),
        json: &["mpls"],
        words: "MPLS",
    },
    Encapsulation {
        name: "gre",
        ipv6: false,
        wrap: |ip| wrap::ethernet(&wrap::outer_ipv4(&wrap::gre(ip, 0x0800), 47), 0x0800),
        json: &["gre"],
        words: "GRE",
    },
    Encapsulation {
        name: "gre-ethernet",
        ipv6: false,
        wrap: |ip| {
            let inner = wrap::ethernet(ip, 0x0800);
            wrap::ethernet(&wrap::outer_ipv4(&wrap::gre(&inner, 0x6558), 47), 0x0800)
        },
        json: &["gre"],
        words: "GRE",
    },
    Encapsulation {
        name: "4in4",
        ipv6: false,
        wrap: |ip| wrap::ethernet(&wrap::outer_ipv4(ip, 4), 0x0800),
        json: &["4in4"],
        words: "IPv4 in IPv4",
    },
    Encapsulation {
        name: "6in4",
        ipv6: true,
        wrap: |ip| wrap::ethernet(&wrap::outer_ipv4(ip, 41), 0x0800),
        json: &["6in4"],
        words: "IPv6 in IPv4",
    },
    Encapsulation {
        name: "4in6",
        ipv6: false,
        wrap: |ip| wrap::ethernet(&wrap::outer_ipv6(ip, 4), 0x86dd),
        json: &["4in6"],
        words: "IPv4 in IPv6",
    },
    Encapsulation {
        name: "vxlan",
        ipv6: false,
        wrap: |ip| {
            let inner = wrap::ethernet(ip, ip_ether_type(ip));
            let udp = wrap::udp(&wrap::vxlan(&inner), 4789);
            wrap::ethernet(&wrap::outer_ipv4(&udp, 17), 0x0800)
        },
        json: &["vxlan"],
        words: "VXLAN",
    },
    Encapsulation {
        name: "geneve",
        ipv6: false,
        wrap: |ip| {
            let inner = wrap::ethernet(ip, ip_ether_type(ip));
            let udp = wrap::udp(&wrap::geneve(&inner, 0x6558), 6081);
            wrap::ethernet(&wrap::outer_ipv6(&udp, 17), 0x86dd)
        },
        json: &["geneve"],
        words: "GENEVE",
    },
    Encapsulation {
        name: "gtp-u",
        ipv6: false,
        wrap: |ip| {
            let udp = wrap::udp(&wrap::gtp_u(ip), 2152);
            wrap::ethernet(&wrap::outer_ipv4(&udp, 17), 0x0800)
        },
        json: &["gtp_u"],
        words: "GTP-U",
    },
    Encapsulation {
        name: "802.2-snap",
        ipv6: false,
        wrap: |ip| wrap::snap(ip, 0x0800),
        json: &[],
        words: "",
    },
    Encapsulation {
        name: "vxlan-over-mpls-over-gre",
        ipv6: false,
        wrap: |ip| {
            let inner = wrap::ethernet(ip, 0x0800);
            let udp = wrap::outer_ipv4(&wrap::udp(&wrap::vxlan(&inner), 4789), 17);
            let gre = wrap::gre(&wrap::mpls(&udp, 1), 0x8847);
            wrap::ethernet(&wrap::outer_ipv4(&gre, 47), 0x0800)
        },
        json: &["gre", "mpls", "vxlan"],
        words: "GRE, then MPLS, then VXLAN",
    },
];

/// The exchange of [`http_exchange`], each packet wrapped by `e`, as an
/// Ethernet capture.
fn encapsulated(e: &Encapsulation) -> Trace {
    let mut t = Trace::new();
    if e.ipv6 {
        t.ipv6();
    }
    let mut t = exchange_in(t);
    t.rewrite_all(e.wrap);
    t
}

#[test]
fn tcp_inside_each_decoded_encapsulation_is_one_connection_with_its_http_and_its_tunnel_named() {
    const TSHARK_STREAM_0_FRAMES: usize = 6;
    const TSHARK_RESPONSES: usize = 1;
    let dir = tempfile::tempdir().expect("tempdir");
    for e in ENCAPSULATIONS {
        let file = write(
            &dir,
            &format!("{}.pcap", e.name),
            &pcap(1, &encapsulated(e).frames),
        );
        tshark_agrees(&file, "tcp.stream == 0", TSHARK_STREAM_0_FRAMES);
        tshark_agrees(&file, "tcp.stream > 0", 0);
        tshark_agrees(&file, "http.response", TSHARK_RESPONSES);
        let r = report(&file);
        let conns = r["connections"].as_array().expect("connections");
        assert_eq!(conns.len(), 1, "{}: {conns:?}", e.name);
        let c = &conns[0];
        assert_eq!(
            c["http"].as_array().map(Vec::len),
            Some(TSHARK_RESPONSES),
            "{}",
            e.name
        );
        assert_eq!(c["http"][0]["status"], 200, "{}", e.name);
        assert_eq!(
            r["tcp_packets"], TSHARK_STREAM_0_FRAMES as u64,
            "{}",
            e.name
        );
        assert_eq!(r["flags"]["retransmission"], 0, "{}", e.name);
        let server = if e.ipv6 {
            "[fd00::2]:80"
        } else {
            "10.0.0.2:80"
        };
        assert_eq!(c["server"], server, "{}", e.name);
        if e.json.is_empty() {
            assert_eq!(c["tunnel"], serde_json::Value::Null, "{}", e.name);
            assert!(!text(&file).contains("tunnel:"), "{}", e.name);
        } else {
            assert_eq!(c["tunnel"], serde_json::json!(e.json), "{}", e.name);
            let words = format!("tunnel: {}\n", e.words);
            assert!(text(&file).contains(&words), "{}: no {words:?}", e.name);
        }
    }
}

#[test]
fn an_encapsulation_not_decoded_is_counted_in_one_line() {
    // L2TP (UDP port 1701) carrying PPP: recognised, not decoded.
    let mut t = http_exchange();
    t.rewrite_all(|ip| {
        let mut l2tp = vec![0x00, 0x02, 0, 1, 0, 1, 0xff, 0x03, 0x00, 0x21];
        l2tp.extend_from_slice(ip);
        wrap::ethernet(&wrap::outer_ipv4(&wrap::udp(&l2tp, 1701), 17), 0x0800)
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(&dir, "l2tp.pcap", &pcap(1, &t.frames));
    const TSHARK_TCP_FRAMES: usize = 6;
    tshark_agrees(&file, "l2tp", TSHARK_TCP_FRAMES);
    let r = report(&file);
    assert_eq!(r["connections"].as_array().map(Vec::len), Some(0));
    assert_eq!(r["warnings"][0]["kind"], "undecoded_encapsulation");
    assert_eq!(r["warnings"][0]["frames"], 6);
    assert_eq!(r["warnings"][0]["first"], "l2tp");
    let said: Vec<String> = text(&file)
        .lines()
        .filter(|l| l.contains("encapsulation"))
        .map(|l| l.trim().to_string())
        .collect();
    assert_eq!(
        said,
        [
            "warning: 6 frame(s) are in an encapsulation recvscope does not decode (the first: L2TP): their TCP, if any, is not analysed"
        ]
    );
}

#[test]
fn one_connection_seen_in_a_tunnel_and_directly_is_two_connections_and_said_once() {
    // A capture at two points: each packet directly, then again in GRE.
    let direct = http_exchange();
    let mut t = Trace::new();
    for (meta, ip) in &direct.frames {
        let gre = wrap::ethernet(&wrap::outer_ipv4(&wrap::gre(ip, 0x0800), 47), 0x0800);
        t.frames.push((*meta, wrap::ethernet(ip, 0x0800)));
        t.frames.push((*meta, gre));
    }
    for (n, (meta, bytes)) in t.frames.iter_mut().enumerate() {
        meta.number = n as u64 + 1;
        meta.orig_len = bytes.len() as u32;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(&dir, "twice.pcap", &pcap(1, &t.frames));
    // tshark merges the two into one stream and calls every second copy a
    // retransmission; recvscope keeps them apart and says so.
    const TSHARK_STREAMS_FRAMES: usize = 12;
    const TSHARK_RETRANSMISSIONS: usize = 5;
    tshark_agrees(&file, "tcp.stream == 0", TSHARK_STREAMS_FRAMES);
    tshark_agrees(&file, "tcp.analysis.retransmission", TSHARK_RETRANSMISSIONS);
    let r = report(&file);
    let conns = r["connections"].as_array().expect("connections");
    assert_eq!(conns.len(), 2);
    for c in conns {
        assert_eq!(c["http"][0]["status"], 200);
        assert_eq!(c["flags"]["retransmission"], 0);
        assert_eq!(c["flags"]["lost_segment"], 0);
    }
    let warning = serde_json::json!({"kind": "seen_in_tunnel_and_directly", "connections": 1, "first": [0, 1]});
    assert_eq!(r["warnings"], serde_json::json!([warning]));
    assert!(text(&file).contains(
        "warning: 1 connection(s) have the addresses of another seen in a different tunnel or directly (the first: #0 and #1)"
    ));
}

#[test]
fn tcp_in_fddi_frames_is_one_connection_with_its_http() {
    let mut t = http_exchange();
    t.rewrite_all(|ip| wrap::fddi(ip, 0x0800));
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(&dir, "fddi.pcap", &pcap(10, &t.frames));
    const TSHARK_STREAM_0_FRAMES: usize = 6;
    const TSHARK_RESPONSES: usize = 1;
    tshark_agrees(&file, "tcp.stream == 0", TSHARK_STREAM_0_FRAMES);
    tshark_agrees(&file, "http.response", TSHARK_RESPONSES);
    let r = report(&file);
    assert_eq!(r["link_type"], "FDDI");
    assert_eq!(r["tcp_packets"], TSHARK_STREAM_0_FRAMES as u64);
    let conns = r["connections"].as_array().expect("connections");
    assert_eq!(conns.len(), 1);
    assert_eq!(
        conns[0]["http"].as_array().map(Vec::len),
        Some(TSHARK_RESPONSES)
    );
    assert_eq!(conns[0]["tunnel"], serde_json::Value::Null);
}
