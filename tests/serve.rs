//! The lab server in-process on 127.0.0.1, spoken to with plain `TcpStream`s, and the
//! `serve` command as a child process.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use recvscope::analysis::lab_run::LimitedBy;
use recvscope::serve::image::cover;
use recvscope::serve::{
    ConnectionClose, Part, RunningServer, SendEvent, Server, ServerConfig, pattern_byte,
};

fn start(cfg: ServerConfig) -> RunningServer {
    Server::bind(cfg).expect("bind 127.0.0.1:0").spawn()
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s
}

/// Sends `raw` and reads until the server closes.
fn roundtrip(addr: SocketAddr, raw: &[u8]) -> Vec<u8> {
    let mut s = connect(addr);
    s.write_all(raw).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("server closes");
    out
}

struct Response {
    status_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn status(&self) -> u16 {
        self.status_line.split(' ').nth(1).unwrap().parse().unwrap()
    }
}

/// Reads one response: by Content-Length, chunked, or to the end of the stream.
fn read_response(r: &mut impl BufRead, head_only: bool) -> Response {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let status_line = line.trim_end().to_string();
    let mut headers = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line).unwrap();
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (n, v) = l.split_once(": ").expect("header line");
        headers.push((n.to_string(), v.to_string()));
    }
    let mut resp = Response {
        status_line,
        headers,
        body: Vec::new(),
    };
    if head_only {
        return resp;
    }
    if let Some(len) = resp.header("Content-Length") {
        let mut body = vec![0u8; len.parse().unwrap()];
        r.read_exact(&mut body).unwrap();
        resp.body = body;
    } else if resp.header("Transfer-Encoding") == Some("chunked") {
        loop {
            line.clear();
            r.read_line(&mut line).unwrap();
            let n = usize::from_str_radix(line.trim_end(), 16).unwrap();
            let mut chunk = vec![0u8; n + 2];
            r.read_exact(&mut chunk).unwrap();
            assert_eq!(&chunk[n..], b"\r\n");
            if n == 0 {
                break;
            }
            resp.body.extend_from_slice(&chunk[..n]);
        }
    } else {
        r.read_to_end(&mut resp.body).unwrap();
    }
    resp
}

fn parse_one(raw: &[u8]) -> Response {
    let mut r = BufReader::new(raw);
    let resp = read_response(&mut r, false);
    assert!(r.fill_buf().unwrap().is_empty(), "bytes after the response");
    resp
}

fn assert_pattern(body: &[u8], len: u64) {
    assert_eq!(body.len() as u64, len);
    if let Some(i) = (0..len).find(|&i| body[i as usize] != pattern_byte(i)) {
        panic!("body differs from the pattern at offset {i}");
    }
}

fn body_sends(events: &[SendEvent], conn: u64, request: u64) -> Vec<&SendEvent> {
    events
        .iter()
        .filter(|e| e.conn == conn && e.request == request && e.part == Part::Body)
        .collect()
}

/// Waits until the server has recorded `n` exchanges (they are recorded as responses end).
fn wait_exchanges(server: &RunningServer, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.exchanges().len() < n {
        assert!(Instant::now() < deadline, "only {:?}", server.exchanges());
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn the_books_exact_request_gets_the_image_and_a_close() {
    let server = start(ServerConfig::default());
    let port = server.local_addr().port();
    let raw = format!("GET http://127.0.0.1:{port}/cover3.jpg HTTP/1.0\r\n\r\n");
    let out = roundtrip(server.local_addr(), raw.as_bytes());
    let head_end = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a blank line");
    assert_eq!(head_end, 242, "the book's Header Length");
    assert_eq!(out.len(), 70_303, "the book's total: 242 + 4 + 70057");
    let resp = parse_one(&out);
    assert_eq!(
        resp.status_line, "HTTP/1.1 200 OK",
        "as Apache answered the book"
    );
    let names: Vec<&str> = resp.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Date",
            "Server",
            "Last-Modified",
            "ETag",
            "Accept-Ranges",
            "Content-Length",
            "Connection",
            "Content-Type"
        ]
    );
    assert_eq!(resp.header("Content-Type"), Some("image/jpeg"));
    assert_eq!(resp.header("Server"), Some("recvscope"));
    assert_eq!(
        resp.header("Last-Modified"),
        Some("Fri, 04 Dec 2015 19:05:04 GMT")
    );
    assert_eq!(resp.header("Connection"), Some("close"));
    assert_eq!(resp.header("Content-Length"), Some("70057"));
    assert_eq!(resp.body, cover());
    assert_eq!(&resp.body[..2], [0xFF, 0xD8]);
    server.stop().unwrap();
}

#[test]
fn bare_newline_endings_as_the_book_sends_them() {
    let server = start(ServerConfig::default());
    let out = roundtrip(
        server.local_addr(),
        b"GET http://data.pr4e.org/cover3.jpg HTTP/1.0\n\n",
    );
    let resp = parse_one(&out);
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.body, cover());
    let out = roundtrip(server.local_addr(), b"GET / HTTP/1.0\nUser-Agent: x\n\n");
    assert_eq!(parse_one(&out).body, cover());
}

#[test]
fn http_1_1_keep_alive_answers_pipelined_requests_in_order() {
    let server = start(ServerConfig::default());
    let mut s = connect(server.local_addr());
    s.write_all(
        b"GET /bytes/1000 HTTP/1.1\r\nHost: a\r\n\r\n\
          GET /cover3.jpg HTTP/1.1\r\nHost: a\r\n\r\n\
          GET /bytes/7 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut r = BufReader::new(s);
    let first = read_response(&mut r, false);
    assert_eq!(first.status_line, "HTTP/1.1 200 OK");
    assert_eq!(first.header("Connection"), None);
    assert_pattern(&first.body, 1000);
    let second = read_response(&mut r, false);
    assert_eq!(second.body, cover());
    let third = read_response(&mut r, false);
    assert_eq!(third.header("Connection"), Some("close"));
    assert_pattern(&third.body, 7);
    let mut rest = Vec::new();
    r.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "connection closed after Connection: close");

    wait_exchanges(&server, 3);
    let x = server.exchanges();
    assert!(x.iter().all(|e| e.conn == x[0].conn));
    assert_eq!(x.iter().map(|e| e.request).collect::<Vec<_>>(), [0, 1, 2]);
}

#[test]
fn http_1_0_keep_alive_when_asked() {
    let server = start(ServerConfig::default());
    let s = connect(server.local_addr());
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    for _ in 0..2 {
        w.write_all(b"GET /bytes/10 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            .unwrap();
        let resp = read_response(&mut r, false);
        assert_eq!(resp.status_line, "HTTP/1.1 200 OK");
        assert_eq!(resp.header("Connection"), Some("keep-alive"));
        assert_pattern(&resp.body, 10);
    }
    w.write_all(b"GET /bytes/3 HTTP/1.0\r\n\r\n").unwrap();
    let last = read_response(&mut r, false);
    assert_eq!(last.header("Connection"), Some("close"));
    let mut rest = Vec::new();
    r.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
}

#[test]
fn head_sends_the_headers_only() {
    let server = start(ServerConfig::default());
    let out = roundtrip(
        server.local_addr(),
        b"HEAD /bytes/12345 HTTP/1.1\r\nConnection: close\r\n\r\n",
    );
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains("\r\nContent-Length: 12345\r\n"));
    assert!(text.ends_with("\r\n\r\n"), "no body after the head");
    let out = roundtrip(server.local_addr(), b"HEAD /cover3.jpg HTTP/1.0\r\n\r\n");
    let resp = read_response(&mut BufReader::new(&out[..]), true);
    assert_eq!(
        resp.header("Content-Length"),
        Some(cover().len().to_string().as_str())
    );
    assert!(out.ends_with(b"\r\n\r\n"));
}

#[test]
fn synthetic_bodies_are_exact() {
    let server = start(ServerConfig::default());
    let addr = server.local_addr();
    for (path, len) in [("3M", 3 << 20), ("100000", 100_000), ("0", 0), ("1", 1)] {
        let out = roundtrip(
            addr,
            format!("GET /bytes/{path} HTTP/1.0\r\n\r\n").as_bytes(),
        );
        let resp = parse_one(&out);
        assert_eq!(
            resp.header("Content-Type"),
            Some("application/octet-stream")
        );
        assert_pattern(&resp.body, len);

        let raw = format!("GET /chunked/{path} HTTP/1.1\r\nConnection: close\r\n\r\n");
        let resp = parse_one(&roundtrip(addr, raw.as_bytes()));
        assert_eq!(resp.header("Transfer-Encoding"), Some("chunked"));
        assert_eq!(resp.header("Content-Length"), None);
        assert_pattern(&resp.body, len);

        let raw = format!("GET /chunked/{path} HTTP/1.0\r\n\r\n");
        let resp = parse_one(&roundtrip(addr, raw.as_bytes()));
        assert_eq!(resp.header("Transfer-Encoding"), None);
        assert_eq!(resp.header("Content-Length"), None);
        assert_eq!(resp.header("Connection"), Some("close"));
        assert_pattern(&resp.body, len);
    }
}

#[test]
fn errors_have_the_right_status_and_the_server_goes_on() {
    let server = start(ServerConfig::default());
    let addr = server.local_addr();
    let status = |raw: &[u8]| {
        let out = roundtrip(addr, raw);
        read_response(&mut BufReader::new(&out[..]), true).status()
    };
    assert_eq!(
        status(b"POST /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
        501
    );
    assert_eq!(status(b"BREW /pot HTTP/1.0\r\n\r\n"), 501);
    assert_eq!(status(b"hello\r\n\r\n"), 400);
    assert_eq!(status(b"GET / HTTP/1.1\r\nno colon\r\n\r\n"), 400);
    assert_eq!(status(b"GET / HTTP/2.0\r\n\r\n"), 505);
    assert_eq!(status(b"GET /nope HTTP/1.0\r\n\r\n"), 404);
    assert_eq!(status(b"GET /bytes/65G HTTP/1.0\r\n\r\n"), 400);
    let mut big = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..2000 {
        big.extend_from_slice(format!("X-Filler-{i}: {}\r\n", "y".repeat(30)).as_bytes());
    }
    big.extend_from_slice(b"\r\n");
    assert_eq!(status(&big), 431);

    let out = roundtrip(addr, b"GET /bytes/5 HTTP/1.0\r\n\r\n");
    assert_pattern(&parse_one(&out).body, 5);
}

/// A root with content, a secret beside it and a symlink from inside to outside.
struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let www = dir.path().join("www");
        std::fs::create_dir_all(www.join("docs")).unwrap();
        std::fs::write(www.join("index.html"), "<h1>lab</h1>\n").unwrap();
        std::fs::write(www.join("a.txt"), "hello from a\n").unwrap();
        std::fs::write(www.join("docs/index.html"), "docs\n").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "TOP-SECRET-CONTENT\n").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", www.join("passwd")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), www.join("link")).unwrap();
        Site { dir }
    }

    fn root(&self) -> std::path::PathBuf {
        self.dir.path().join("www")
    }
}

#[test]
fn files_under_root_are_served() {
    let site = Site::new();
    let server = start(ServerConfig {
        root: Some(site.root()),
        ..ServerConfig::default()
    });
    let addr = server.local_addr();
    let get = |path: &str| {
        parse_one(&roundtrip(
            addr,
            format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes(),
        ))
    };
    let a = get("/a.txt");
    assert_eq!(
        (a.status(), a.body.as_slice()),
        (200, &b"hello from a\n"[..])
    );
    assert_eq!(a.header("Content-Type"), Some("text/plain; charset=utf-8"));
    assert_eq!(get("/").body, b"<h1>lab</h1>\n");
    assert_eq!(get("/docs/").body, b"docs\n");
    assert_eq!(get("/docs").body, b"docs\n");
    assert_eq!(get("/%61.txt").body, b"hello from a\n");
    assert_eq!(get("http://127.0.0.1/a.txt").body, b"hello from a\n");
    assert_eq!(get("/missing.txt").status(), 404);
    assert_eq!(get("/cover3.jpg").status(), 404);
    assert_eq!(get("/bytes/10").status(), 404);
}

#[test]
fn path_traversal_is_refused_without_leaking_a_byte() {
    let site = Site::new();
    let server = start(ServerConfig {
        root: Some(site.root()),
        ..ServerConfig::default()
    });
    let addr = server.local_addr();
    for target in [
        "/../secret.txt",
        "/docs/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/%2E%2E/etc/passwd",
        "/..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/%2fetc%2fpasswd",
        "%2fetc%2fpasswd",
        "/..\\secret.txt",
        "/a.txt%00.jpg",
        "/passwd",
        "/link",
        "http://127.0.0.1/../secret.txt",
        "http://127.0.0.1/%2e%2e/secret.txt",
    ] {
        let out = roundtrip(addr, format!("GET {target} HTTP/1.0\r\n\r\n").as_bytes());
        let text = String::from_utf8_lossy(&out);
        let resp = parse_one(&out);
        assert!(
            resp.status() == 403 || resp.status() == 400,
            "{target}: {}",
            resp.status_line
        );
        assert!(!text.contains("TOP-SECRET"), "{target} leaked the secret");
        assert!(!text.contains("root:"), "{target} leaked /etc/passwd");
    }
}

#[test]
fn a_client_leaving_mid_body_ends_only_its_own_connection() {
    let server = start(ServerConfig::default());
    let addr = server.local_addr();
    let mut quitter = connect(addr);
    quitter
        .write_all(b"GET /bytes/100M HTTP/1.1\r\nHost: a\r\n\r\n")
        .unwrap();
    let mut got = vec![0u8; 1 << 20];
    quitter.read_exact(&mut got).unwrap();
    drop(quitter);

    let resp = parse_one(&roundtrip(addr, b"GET /bytes/2M HTTP/1.0\r\n\r\n"));
    assert_pattern(&resp.body, 2 << 20);

    wait_exchanges(&server, 2);
    let x = server.exchanges();
    let cut = x.iter().find(|e| e.request_line.contains("100M")).unwrap();
    assert!(!cut.complete);
    assert!(cut.body_bytes < 100 << 20);
    let events = server.send_events();
    let last = body_sends(&events, cut.conn, 0).pop().unwrap().clone();
    assert!(last.error.is_some(), "the failed write is logged: {last:?}");
    let whole = x.iter().find(|e| e.request_line.contains("2M")).unwrap();
    assert!(whole.complete);

    let resp = parse_one(&roundtrip(addr, b"GET /cover3.jpg HTTP/1.0\r\n\r\n"));
    assert_eq!(resp.body, cover());
}

#[test]
fn rate_paces_the_body() {
    let server = start(ServerConfig {
        rate: Some(1_000_000),
        ..ServerConfig::default()
    });
    let t0 = Instant::now();
    let resp = parse_one(&roundtrip(
        server.local_addr(),
        b"GET /bytes/200000 HTTP/1.0\r\n\r\n",
    ));
    let took = t0.elapsed();
    assert_pattern(&resp.body, 200_000);
    assert!(
        took >= Duration::from_millis(150),
        "200 KB at 1 MB/s took {took:?}"
    );
    wait_exchanges(&server, 1);
    let events = server.send_events();
    let body = body_sends(&events, 0, 0);
    assert!(
        body.iter().all(|e| e.asked <= 16 * 1024),
        "pieces of at most 16 KiB"
    );
    assert!(body.len() >= 12);
}

#[test]
fn rtt_sends_a_round_trips_worth_at_a_time_in_ethernet_sized_segments() {
    let server = start(ServerConfig {
        round_trip: Some(Duration::from_millis(20)),
        ..ServerConfig::default()
    });
    let probe = connect(server.local_addr());
    assert_eq!(
        socket2::SockRef::from(&probe).tcp_mss().unwrap(),
        1448,
        "the SYN-ACK announced Ethernet's 1460; timestamps take 12"
    );
    drop(probe);
    let t0 = Instant::now();
    // Connection 1: the probe was connection 0.
    let out = roundtrip(server.local_addr(), b"GET /bytes/100000 HTTP/1.0\r\n\r\n");
    let took = t0.elapsed();
    assert_pattern(&parse_one(&out).body, 100_000);
    assert!(
        took >= Duration::from_millis(40),
        "three rounds, two waits of 20 ms; took {took:?}"
    );
    wait_exchanges(&server, 1);
    let events = server.send_events();
    let head = events
        .iter()
        .find(|e| e.part == Part::Head)
        .expect("head")
        .written;
    let asked: Vec<u64> = body_sends(&events, 1, 0).iter().map(|e| e.asked).collect();
    assert_eq!(
        asked,
        [14_480 - head, 28_960, 100_000 - (14_480 - head) - 28_960],
        "10 segments with the head, then 20, then the rest"
    );
}

#[test]
fn a_small_send_buffer_makes_sends_block_on_a_slow_reader() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("sends.jsonl");
    let server = start(ServerConfig {
        sndbuf: Some(4096),
        log: Some(log.clone()),
        ..ServerConfig::default()
    });
    assert_eq!(
        server.send_buffer(),
        Some(8192),
        "Linux doubles the 4096 asked"
    );
    let mut s = connect(server.local_addr());
    s.write_all(b"GET /bytes/1M HTTP/1.0\r\n\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(400));
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    assert_pattern(&parse_one(&out).body, 1 << 20);

    wait_exchanges(&server, 1);
    let events = server.send_events();
    let longest = body_sends(&events, 0, 0)
        .iter()
        .map(|e| e.blocked_ns)
        .max()
        .unwrap();
    assert!(longest >= 100_000_000, "longest send blocked {longest} ns");

    let text = std::fs::read_to_string(&log).unwrap();
    let conn: serde_json::Value = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["event"] == "connection")
        .unwrap();
    assert_eq!(conn["sndbuf"], 8192, "Linux doubles the 4096 asked");
}

#[test]
fn send_log_totals_equal_content_length() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("sends.jsonl");
    let server = start(ServerConfig {
        log: Some(log.clone()),
        ..ServerConfig::default()
    });
    let addr = server.local_addr();
    let mut lengths = Vec::new();
    for raw in [
        &b"GET http://127.0.0.1/cover3.jpg HTTP/1.0\r\n\r\n"[..],
        b"GET /bytes/5M HTTP/1.0\r\n\r\n",
        b"GET /bytes/1 HTTP/1.0\r\n\r\n",
    ] {
        let resp = parse_one(&roundtrip(addr, raw));
        lengths.push(
            resp.header("Content-Length")
                .unwrap()
                .parse::<u64>()
                .unwrap(),
        );
    }
    wait_exchanges(&server, 3);
    let events = server.send_events();
    for x in server.exchanges() {
        let total: u64 = body_sends(&events, x.conn, x.request)
            .iter()
            .map(|e| e.written)
            .sum();
        assert_eq!(Some(total), x.content_length, "{}", x.request_line);
        assert_eq!(total, x.body_bytes);
        assert!(lengths.contains(&total));
    }
    server.stop().unwrap();

    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect();
    assert_eq!(lines[0]["event"], "server");
    assert_eq!(lines[0]["clock"], "CLOCK_REALTIME");
    let logged: u64 = lines
        .iter()
        .filter(|v| v["event"] == "send" && v["part"] == "body")
        .map(|v| v["written"].as_u64().unwrap())
        .sum();
    assert_eq!(logged, lengths.iter().sum::<u64>());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let ts = lines[1]["ts_ns"].as_u64().unwrap();
    assert!(
        ts <= now && now - ts < 3_600_000_000_000,
        "ts_ns is realtime"
    );
    assert_eq!(lines.iter().filter(|v| v["event"] == "response").count(), 3);
}

/// The one connection's close record, once the server has stopped.
fn only_close(server: RunningServer) -> ConnectionClose {
    let closes = server.finish().expect("stop");
    assert_eq!(closes.len(), 1, "{closes:?}");
    closes.into_iter().next().expect("one close")
}

#[test]
fn the_close_record_has_the_kernels_figures_of_a_reader_that_held_the_sender_back() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("sends.jsonl");
    let server = start(ServerConfig {
        log: Some(log.clone()),
        ..ServerConfig::default()
    });
    let mut s = connect(server.local_addr());
    s.write_all(b"GET /bytes/8M HTTP/1.0\r\n\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    drop(s);
    assert_pattern(&parse_one(&out).body, 8 << 20);
    let close = only_close(server);
    let t = close.tcp_info.expect("Linux 4.10 or later");
    assert!(
        t.rwnd_limited_us >= 400_000,
        "held back while the reader slept: {t:?}"
    );
    assert!(
        t.busy_us >= t.rwnd_limited_us + t.sndbuf_limited_us,
        "{t:?}"
    );
    let open_ns = close.ts_ns - close.opened_ns;
    assert!(open_ns >= 500_000_000, "{open_ns}");
    assert_eq!(t.limited_by(open_ns), Some(LimitedBy::Receiver), "{t:?}");

    let line: serde_json::Value = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["event"] == "close")
        .expect("a close line");
    assert_eq!(line["conn"], 0);
    assert_eq!(line["opened_ns"], close.opened_ns);
    assert_eq!(line["ts_ns"], close.ts_ns);
    assert_eq!(line["tcp_info"]["busy_us"], t.busy_us);
    assert_eq!(line["tcp_info"]["rwnd_limited_us"], t.rwnd_limited_us);
    assert_eq!(line["tcp_info"]["sndbuf_limited_us"], t.sndbuf_limited_us);
}

#[test]
fn a_paced_sender_is_never_held_back_by_a_reader_that_keeps_up() {
    let server = start(ServerConfig {
        rate: Some(64 * 1024),
        ..ServerConfig::default()
    });
    let out = roundtrip(server.local_addr(), b"GET /bytes/32k HTTP/1.0\r\n\r\n");
    assert_pattern(&parse_one(&out).body, 32 * 1024);
    let close = only_close(server);
    let t = close.tcp_info.expect("Linux 4.10 or later");
    assert_eq!(t.rwnd_limited_us, 0, "{t:?}");
    let open_ns = close.ts_ns - close.opened_ns;
    assert!(open_ns >= 400_000_000, "half a second of pacing: {open_ns}");
    assert_eq!(t.limited_by(open_ns), Some(LimitedBy::Sender), "{t:?}");
}

#[test]
fn a_response_that_closes_waits_for_a_slow_client_to_close_before_the_figures_are_read() {
    let server = start(ServerConfig::default());
    let mut s = connect(server.local_addr());
    s.write_all(b"GET /bytes/1 HTTP/1.0\r\n\r\n").unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    assert!(server.closes().is_empty(), "still open while the client is");
    drop(s);
    let close = only_close(server);
    assert!(
        close.ts_ns - close.opened_ns >= 2_500_000_000,
        "read after the client's FIN"
    );
}

#[test]
fn stop_closes_idle_keep_alive_connections() {
    let server = start(ServerConfig::default());
    let s = connect(server.local_addr());
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    w.write_all(b"GET /bytes/1 HTTP/1.1\r\n\r\n").unwrap();
    assert_pattern(&read_response(&mut r, false).body, 1);
    server.stop().unwrap();
    let mut rest = Vec::new();
    assert_eq!(r.read_to_end(&mut rest).unwrap_or(0), 0);
}

#[test]
fn bind_and_root_errors_say_what_to_do() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let err = Server::bind(ServerConfig {
        bind: taken.local_addr().unwrap(),
        ..ServerConfig::default()
    })
    .err()
    .unwrap();
    let port = taken.local_addr().unwrap().port();
    assert_eq!(
        err.to_string(),
        format!("port {port} is in use: pass --port 0 or another port")
    );

    let err = Server::bind(ServerConfig {
        root: Some("/no/such/dir".into()),
        ..ServerConfig::default()
    })
    .err()
    .unwrap();
    assert_eq!(err.to_string(), "--root /no/such/dir: no such directory");
    let file = tempfile::NamedTempFile::new().unwrap();
    let err = Server::bind(ServerConfig {
        root: Some(file.path().into()),
        ..ServerConfig::default()
    })
    .err()
    .unwrap();
    assert!(err.to_string().ends_with("is not a directory"), "{err}");
}

#[test]
fn cli_prints_the_url_first_and_serves_it() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_recvscope"))
        .args(["serve", "--port", "0", "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run recvscope serve");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let url = first
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .to_string();
    assert!(first.starts_with("serving http://127.0.0.1:"), "{first}");
    assert!(first.contains(&format!("built-in image, {} bytes", cover().len())));
    let rest = url.strip_prefix("http://").unwrap();
    let (hostport, path) = rest.split_at(rest.find('/').unwrap());
    let addr: SocketAddr = hostport.parse().unwrap();
    let raw = format!("GET {url} HTTP/1.0\r\n\r\n");
    let resp = parse_one(&roundtrip(addr, raw.as_bytes()));
    assert_eq!(path, "/cover3.jpg");
    assert_eq!(resp.body, cover());
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn cli_reports_a_port_in_use_in_one_line() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_recvscope"))
        .args(["serve", "--port", &port])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("recvscope: port {port} is in use: pass --port 0 or another port\n")
    );
    let out = Command::new(env!("CARGO_BIN_EXE_recvscope"))
        .args(["serve", "--port", "0", "--sndbuf", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "clap refuses a zero size");
}

#[test]
fn the_send_log_is_never_written_over_a_file_or_through_a_link() {
    let dir = tempfile::tempdir().expect("tempdir");
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "keep me\n").expect("write");
    let link = dir.path().join("send.jsonl");
    std::os::unix::fs::symlink(&victim, &link).expect("symlink");
    for path in [&link, &victim] {
        let out = Command::new(env!("CARGO_BIN_EXE_recvscope"))
            .args(["serve", "--port", "0", "--log"])
            .arg(path)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!(
                "recvscope: the send log {} exists: remove it or choose another --log FILE\n",
                path.display()
            )
        );
    }
    assert_eq!(std::fs::read_to_string(&victim).expect("read"), "keep me\n");
}
