//! Whole exchanges and how requests pair with responses: the book's
//! request and JPEG, pipelining, interim 1xx, bodiless responses, orphan
//! responses, tunnels, timestamps and the bound on pending requests.

use super::*;
use crate::NoBodies;

/// The request sent by the book's `urljpeg.py`.
const BOOK_REQUEST: &[u8] = b"GET http://www.py4inf.com/cover.jpg HTTP/1.0\n\n";

/// A 242-byte response head (before the blank line) as in the book's output.
const BOOK_HEAD: &str = "HTTP/1.1 200 OK\r\n\
Date: Sun, 14 Mar 2010 23:52:41 GMT\r\n\
Server: Apache\r\n\
Last-Modified: Tue, 29 Dec 2009 01:31:22 GMT\r\n\
ETag: \"143c1b33-11aa9-4a62e8e4cd280\"\r\n\
Accept-Ranges: bytes\r\n\
Content-Length: 70057\r\n\
Connection: close\r\n\
Content-Type: image/jpeg\r\n\r\n";

fn jpeg_body() -> Vec<u8> {
    (0..70057u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

fn book_response() -> Vec<u8> {
    let mut r = BOOK_HEAD.as_bytes().to_vec();
    r.extend_from_slice(&jpeg_body());
    r
}

fn check_book(s: &HttpSummary, sink: &Collect, last_ts: i64) {
    assert_eq!(s.transactions.len(), 1);
    let q = req(s, 0);
    assert_eq!(q.method, "GET");
    assert_eq!(q.uri, "http://www.py4inf.com/cover.jpg");
    assert_eq!(q.version, "HTTP/1.0");
    assert_eq!(q.host.as_ref().map(|t| t.as_str()), Some("www.py4inf.com"));
    assert_eq!(q.header_length, 44);
    assert_eq!(q.header_terminator, 2);
    assert_eq!((q.body_bytes, q.wire_bytes), (0, 46));
    assert!(q.complete);
    assert!(!q.keep_alive);
    assert_eq!((q.ts_start_ns, q.ts_end_ns), (1_000, 1_000));
    let r = resp(s, 0);
    assert_eq!(
        (r.version.as_str(), r.status, r.reason.as_str()),
        ("HTTP/1.1", 200, "OK")
    );
    assert_eq!(r.header_length, 242);
    assert_eq!(r.header_terminator, 4);
    assert_eq!(r.content_length, Some(70057));
    assert_eq!(
        r.content_type.as_ref().map(|t| t.as_str()),
        Some("image/jpeg")
    );
    assert_eq!(r.body_bytes, 70057);
    assert_eq!(r.wire_bytes, 242 + 4 + 70057);
    assert!(r.complete && !r.chunked && !r.close_delimited && !r.keep_alive);
    assert_eq!(r.ts_first_byte_ns, 2_000);
    assert_eq!(r.ts_last_byte_ns, last_ts);
    assert!(r.interim.is_empty());
    assert_eq!(sink.body_of(0, S), jpeg_body().as_slice());
    assert_eq!(sink.ends, vec![(0, C, true), (0, S, true)]);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn book_request_and_jpeg_response_split_across_many_chunks() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(C, 1_000, BOOK_REQUEST, &mut sink);
    let response = book_response();
    // Head in 10-byte segments, then the body in 512-byte segments as `recv(512)` would.
    let (head, body) = response.split_at(246);
    let mut ts = 2_000;
    for chunk in head.chunks(10).chain(body.chunks(512)) {
        c.data(S, ts, chunk, &mut sink);
        ts += 1;
    }
    c.close(S, ts, &mut sink);
    let s = c.finish(&mut sink);
    check_book(&s, &sink, ts - 1);
}

#[test]
fn book_response_fed_byte_by_byte() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(C, 1_000, BOOK_REQUEST, &mut sink);
    let response = book_response();
    for (i, b) in response.iter().enumerate() {
        c.data(S, 2_000 + i as i64, std::slice::from_ref(b), &mut sink);
    }
    let s = c.finish(&mut sink);
    check_book(&s, &sink, 2_000 + response.len() as i64 - 1);
}

#[test]
fn pipelined_keep_alive_requests_pair_in_order() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(
        C,
        10,
        b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nHEAD /3 HTTP/1.1\r\nHost: a\r\n\r\n",
        &mut sink,
    );
    c.data(
        S,
        20,
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none\
HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n\
HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
        &mut sink,
    );
    c.data(C, 30, b"GET /4 HTTP/1.1\r\nHost: a\r\n\r\n", &mut sink);
    c.data(
        S,
        40,
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope",
        &mut sink,
    );
    let s = c.finish(&mut sink);
    assert_eq!(s.transactions.len(), 4);
    let uris: Vec<&str> = (0..4).map(|i| req(&s, i).uri.as_str()).collect();
    assert_eq!(uris, ["/1", "/2", "/3", "/4"]);
    let statuses: Vec<u16> = (0..4).map(|i| resp(&s, i).status).collect();
    assert_eq!(statuses, [200, 200, 200, 404]);
    assert_eq!(sink.body_of(0, S), b"one");
    assert_eq!(sink.body_of(1, S), b"two");
    assert_eq!(sink.body_of(3, S), b"nope");
    assert_eq!(resp(&s, 2).body_bytes, 0);
    assert_eq!(resp(&s, 2).content_length, Some(1000));
    assert!(s.transactions.iter().all(|t| {
        t.request
            .as_ref()
            .is_some_and(|r| r.keep_alive && r.complete)
    }));
    assert!(s.transactions.iter().all(|t| {
        t.response
            .as_ref()
            .is_some_and(|r| r.keep_alive && r.complete)
    }));
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn expect_100_continue_is_interim_then_final_response_pairs() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(
        C,
        1,
        b"POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
        &mut sink,
    );
    c.data(S, 2, b"HTTP/1.1 100 Continue\r\n\r\n", &mut sink);
    c.data(C, 3, b"hello", &mut sink);
    c.data(
        S,
        4,
        b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
        &mut sink,
    );
    let s = c.finish(&mut sink);
    assert_eq!(s.transactions.len(), 1);
    let q = req(&s, 0);
    assert!(q.expect_continue && q.complete);
    assert_eq!((q.body_bytes, q.ts_start_ns, q.ts_end_ns), (5, 1, 3));
    assert_eq!(sink.body_of(0, C), b"hello");
    let r = resp(&s, 0);
    assert_eq!((r.status, r.interim.clone()), (201, vec![100]));
    assert_eq!((r.ts_first_byte_ns, r.wire_bytes), (4, 43));
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn head_204_and_304_responses_have_no_body() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(C, 1, b"HEAD /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\nGET /d HTTP/1.1\r\n\r\n", &mut sink);
    c.data(
        S,
        2,
        b"HTTP/1.1 200 OK\r\nContent-Length: 512\r\nTransfer-Encoding: chunked\r\n\r\n\
HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n\
HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n\
HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        &mut sink,
    );
    let s = c.finish(&mut sink);
    assert_eq!(s.transactions.len(), 4);
    for i in 0..3 {
        let r = resp(&s, i);
        assert_eq!(
            (r.body_bytes, r.complete, r.close_delimited),
            (0, true, false),
            "txn {i}"
        );
    }
    assert!(resp(&s, 0).chunked);
    assert_eq!(resp(&s, 1).status, 204);
    assert_eq!(resp(&s, 2).content_length, Some(99));
    assert_eq!(sink.body_of(3, S), b"ok");
    assert!(resp(&s, 3).complete);
}

#[test]
fn response_without_a_seen_request_is_recorded_with_request_none() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(
        C,
        1,
        b"ody of a request whose head was not captured",
        &mut sink,
    );
    c.data(
        S,
        2,
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
        &mut sink,
    );
    let s = c.finish(&mut sink);
    assert_eq!(s.transactions.len(), 1);
    assert!(s.transactions[0].request.is_none());
    assert_eq!(sink.body_of(0, S), b"hi");
    assert!(resp(&s, 0).complete);
}

#[test]
fn connect_2xx_switches_the_connection_to_a_tunnel() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(
        C,
        1,
        b"CONNECT b.example:443 HTTP/1.1\r\nHost: b.example:443\r\n\r\n",
        &mut sink,
    );
    c.data(
        S,
        2,
        b"HTTP/1.1 200 Connection established\r\n\r\n",
        &mut sink,
    );
    c.data(
        C,
        3,
        b"\x16\x03\x01\x02\x00GET / HTTP/1.1\r\n\r\n",
        &mut sink,
    );
    c.data(S, 4, b"HTTP/1.1 200 OK\r\n\r\n", &mut sink);
    let s = c.finish(&mut sink);
    assert_eq!(s.transactions.len(), 1);
    let r = resp(&s, 0);
    assert!(r.complete && !r.close_delimited);
    assert_eq!(r.body_bytes, 0);
    assert_eq!(
        s.warnings,
        [
            HttpWarning::TunnelBytesNotParsed { side: C, bytes: 23 },
            HttpWarning::TunnelBytesNotParsed { side: S, bytes: 19 },
        ]
    );
}

#[test]
fn switching_protocols_101_is_final_and_starts_a_tunnel() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(
        C,
        1,
        b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        &mut sink,
    );
    c.data(
        S,
        2,
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
        &mut sink,
    );
    let s = c.finish(&mut sink);
    assert_eq!(resp(&s, 0).status, 101);
    assert!(resp(&s, 0).interim.is_empty());
    assert_eq!(
        s.warnings,
        [HttpWarning::TunnelBytesNotParsed { side: S, bytes: 7 }]
    );
}

#[test]
fn timestamps_mark_first_and_last_bytes() {
    let mut c = conv();
    let mut sink = NoBodies;
    c.data(C, 10, b"POST / HTTP/1.1\r\n", &mut sink);
    c.data(C, 20, b"Content-Length: 4\r\n\r\nab", &mut sink);
    c.data(C, 30, b"cd", &mut sink);
    c.data(
        S,
        40,
        b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n",
        &mut sink,
    );
    c.data(S, 50, b"12", &mut sink);
    c.data(S, 60, b"34", &mut sink);
    let s = c.finish(&mut sink);
    assert_eq!((req(&s, 0).ts_start_ns, req(&s, 0).ts_end_ns), (10, 30));
    assert_eq!(
        (resp(&s, 0).ts_first_byte_ns, resp(&s, 0).ts_last_byte_ns),
        (40, 60)
    );
}

#[test]
fn pending_queue_is_bounded_and_oldest_request_goes_unpaired() {
    let limits = Limits {
        max_pending_requests: 2,
        ..Limits::default()
    };
    let mut c = Conversation::new(limits);
    c.data(
        C,
        1,
        b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n",
        &mut NoBodies,
    );
    c.data(
        S,
        2,
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 201 OK\r\nContent-Length: 0\r\n\r\n",
        &mut NoBodies,
    );
    let s = c.finish(&mut NoBodies);
    assert!(s.transactions[0].response.is_none());
    assert_eq!(resp(&s, 1).status, 200);
    assert_eq!(resp(&s, 2).status, 201);
    assert_eq!(
        s.warnings,
        [HttpWarning::TooManyPendingRequests { max: 2, txn: 0 }]
    );
}
