//! Behaviour of the HTTP/1.x conversation parser, one behaviour per test.

use super::conversation::MAX_WARNINGS;
use super::*;
use crate::testkit::Rng;
use std::collections::HashMap;

const C: Side = Side::Client;
const S: Side = Side::Server;

/// Collects what the parser streams out.
#[derive(Default, Debug, PartialEq)]
struct Collect {
    bodies: HashMap<(usize, Side), Vec<u8>>,
    ends: Vec<(usize, Side, bool)>,
}

impl BodySink for Collect {
    fn body(&mut self, txn: usize, side: Side, bytes: &[u8]) {
        self.bodies
            .entry((txn, side))
            .or_default()
            .extend_from_slice(bytes);
    }
    fn end(&mut self, txn: usize, side: Side, complete: bool) {
        self.ends.push((txn, side, complete));
    }
}

impl Collect {
    fn body_of(&self, txn: usize, side: Side) -> &[u8] {
        self.bodies.get(&(txn, side)).map_or(&[], Vec::as_slice)
    }
}

fn conv() -> Conversation {
    Conversation::new(Limits::default())
}

fn req(s: &HttpSummary, i: usize) -> &Request {
    s.transactions[i].request.as_ref().expect("request")
}

fn resp(s: &HttpSummary, i: usize) -> &Response {
    s.transactions[i].response.as_ref().expect("response")
}

fn has_warning(s: &HttpSummary, needle: &str) -> bool {
    s.warnings.iter().any(|w| w.contains(needle))
}

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
    assert_eq!(q.host.as_deref(), Some("www.py4inf.com"));
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
    assert_eq!(r.content_type.as_deref(), Some("image/jpeg"));
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
fn bare_lf_line_endings_give_terminator_2_and_mixtures_3() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(C, 1, b"GET / HTTP/1.1\nHost: x\n\n", &mut sink);
    c.data(S, 2, b"HTTP/1.0 200 OK\nContent-Length: 2\n\nhi", &mut sink);
    c.data(C, 3, b"GET /b HTTP/1.1\r\nHost: x\n\r\n", &mut sink);
    c.data(
        S,
        4,
        b"HTTP/1.1 200 OK\r\nA: b\r\n\nContent-Length: 9\r\n\r\n",
        &mut sink,
    );
    c.close(S, 5, &mut sink);
    let s = c.finish(&mut sink);
    assert_eq!(
        (req(&s, 0).header_length, req(&s, 0).header_terminator),
        (22, 2)
    );
    assert_eq!(req(&s, 0).host.as_deref(), Some("x"));
    let r = resp(&s, 0);
    assert_eq!(
        (r.header_length, r.header_terminator, r.body_bytes),
        (33, 2, 2)
    );
    assert_eq!(r.wire_bytes, 33 + 2 + 2);
    assert!(r.complete);
    assert_eq!(sink.body_of(0, S), b"hi");
    assert_eq!(
        (req(&s, 1).header_length, req(&s, 1).header_terminator),
        (24, 3)
    );
    // `\r\n\n` ends the head: the next line is body, not a field.
    let r = resp(&s, 1);
    assert_eq!((r.header_length, r.header_terminator), (21, 3));
    assert_eq!(r.content_length, None);
    assert!(r.close_delimited);
    assert_eq!(r.body_bytes, 21);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
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

/// A keep-alive exchange: a chunked response with extensions and trailers,
/// then a 204.
const CHUNKED_EXCHANGE_REQ: &[u8] =
    b"GET /c HTTP/1.1\r\nHost: h\r\n\r\nGET /d HTTP/1.1\r\nHost: h\r\n\r\n";
const CHUNKED_RESP: &[u8] = b"HTTP/1.1 200 OK\r\n\
Content-Type: text/plain\r\n\
Transfer-Encoding: gzip, chunked\r\n\r\n\
1a;name=value\r\nabcdefghijklmnopqrstuvwxyz\r\n\
10 ; ext=\"q\"\r\n0123456789ABCDEF\r\n\
1\r\n\n\r\n\
0;last\r\nExpires: never\r\nX-Trailer: 1\r\n\r\n\
HTTP/1.1 204 No Content\r\n\r\n";

fn run_chunked(splits: &[usize]) -> (HttpSummary, Collect) {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(C, 1, CHUNKED_EXCHANGE_REQ, &mut sink);
    let mut from = 0;
    for &to in splits.iter().chain(std::iter::once(&CHUNKED_RESP.len())) {
        c.data(S, 2, &CHUNKED_RESP[from..to], &mut sink);
        from = to;
    }
    let s = c.finish(&mut sink);
    (s, sink)
}

#[test]
fn chunked_with_extensions_and_trailers_is_decoded() {
    let (s, sink) = run_chunked(&[]);
    assert_eq!(s.transactions.len(), 2);
    let r = resp(&s, 0);
    assert!(r.chunked && r.complete && !r.close_delimited);
    assert_eq!(r.body_bytes, 26 + 16 + 1);
    let head_len = CHUNKED_RESP.len() - b"HTTP/1.1 204 No Content\r\n\r\n".len();
    assert_eq!(r.wire_bytes, head_len as u64);
    assert_eq!(
        sink.body_of(0, S),
        b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEF\n"
    );
    assert_eq!(resp(&s, 1).status, 204);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn chunked_split_at_every_byte_boundary_matches_reference() {
    let reference = run_chunked(&[]);
    for k in 0..=CHUNKED_RESP.len() {
        assert_eq!(run_chunked(&[k]), reference, "split at {k}");
    }
    for k1 in (0..CHUNKED_RESP.len()).step_by(3) {
        for k2 in k1..CHUNKED_RESP.len() {
            assert_eq!(run_chunked(&[k1, k2]), reference, "split at {k1},{k2}");
        }
    }
    let every: Vec<usize> = (1..CHUNKED_RESP.len()).collect();
    assert_eq!(run_chunked(&every), reference, "byte by byte");
}

#[test]
fn chunked_request_body_is_decoded() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(C, 1, b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n", &mut sink);
    let s = c.finish(&mut sink);
    let q = req(&s, 0);
    assert!(q.chunked && q.complete);
    assert_eq!(q.body_bytes, 9);
    assert_eq!(sink.body_of(0, C), b"Wikipedia");
    assert!(s.transactions[0].response.is_none());
}

const CLOSE_DELIMITED: &[u8] = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello ";

#[test]
fn close_delimited_http10_body_ends_at_server_close() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(C, 1, b"GET / HTTP/1.0\r\n\r\n", &mut sink);
    c.data(S, 2, CLOSE_DELIMITED, &mut sink);
    c.data(S, 3, b"world", &mut sink);
    c.close(S, 4, &mut sink);
    let s = c.finish(&mut sink);
    let r = resp(&s, 0);
    assert!(r.close_delimited && r.complete && !r.keep_alive);
    assert_eq!((r.body_bytes, r.content_length), (11, None));
    assert_eq!(r.ts_last_byte_ns, 3);
    assert_eq!(sink.body_of(0, S), b"hello world");
    assert!(sink.ends.contains(&(0, S, true)));
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn close_delimited_body_ended_by_finish_is_kept_but_not_complete() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(C, 1, b"GET / HTTP/1.0\r\n\r\n", &mut sink);
    c.data(S, 2, CLOSE_DELIMITED, &mut sink);
    c.data(S, 3, b"world", &mut sink);
    let s = c.finish(&mut sink);
    let r = resp(&s, 0);
    assert!(r.close_delimited && !r.complete);
    assert_eq!(r.body_bytes, 11);
    assert_eq!(sink.body_of(0, S), b"hello world");
    assert!(sink.ends.contains(&(0, S, false)));
    assert!(has_warning(&s, "may be truncated"));
}

#[test]
fn truncated_body_at_finish_is_incomplete() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(C, 1, b"GET / HTTP/1.1\r\n\r\n", &mut sink);
    c.data(
        S,
        2,
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
        &mut sink,
    );
    c.data(S, 3, &[b'x'; 40], &mut sink);
    let s = c.finish(&mut sink);
    let r = resp(&s, 0);
    assert!(!r.complete);
    assert_eq!(
        (r.body_bytes, r.missing_bytes, r.content_length),
        (40, 0, Some(100))
    );
    assert_eq!(sink.ends, vec![(0, C, true), (0, S, false)]);
    assert!(has_warning(&s, "before the end of the body"));
}

#[test]
fn gap_inside_body_is_accounted_and_parsing_continues() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(
        C,
        1,
        b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n",
        &mut sink,
    );
    c.data(
        S,
        2,
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
        &mut sink,
    );
    c.data(S, 3, &[b'a'; 30], &mut sink);
    c.gap(S, 4, 20, &mut sink);
    c.data(S, 5, &[b'b'; 50], &mut sink);
    c.data(
        S,
        6,
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        &mut sink,
    );
    let s = c.finish(&mut sink);
    let r = resp(&s, 0);
    assert!(!r.complete);
    assert_eq!((r.body_bytes, r.missing_bytes), (100, 20));
    assert_eq!(r.ts_last_byte_ns, 5);
    assert_eq!(sink.body_of(0, S).len(), 80);
    assert!(resp(&s, 1).complete);
    assert_eq!(sink.body_of(1, S), b"ok");
    assert_eq!(
        sink.ends,
        vec![(0, C, true), (1, C, true), (0, S, false), (1, S, true)]
    );
    assert!(has_warning(
        &s,
        "bytes missing inside the body (first gap: 20 bytes"
    ));
}

#[test]
fn gap_inside_chunk_data_is_accounted_and_parsing_continues() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(
        C,
        1,
        b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n",
        &mut sink,
    );
    c.data(
        S,
        2,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        &mut sink,
    );
    c.gap(S, 3, 3, &mut sink);
    c.data(
        S,
        4,
        b"\r\n2\r\nyz\r\n0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
        &mut sink,
    );
    let s = c.finish(&mut sink);
    let r = resp(&s, 0);
    assert!(!r.complete);
    assert_eq!((r.body_bytes, r.missing_bytes), (7, 3));
    assert_eq!(sink.body_of(0, S), b"abyz");
    assert_eq!(resp(&s, 1).status, 204);
    assert!(resp(&s, 1).complete);
}

#[test]
fn gap_past_end_of_body_resyncs_on_next_segment() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(
        C,
        1,
        b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n",
        &mut sink,
    );
    c.data(
        S,
        2,
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345",
        &mut sink,
    );
    // The last 5 body bytes and the whole second response are lost.
    c.gap(S, 3, 5 + 40, &mut sink);
    c.data(
        S,
        4,
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n!",
        &mut sink,
    );
    let s = c.finish(&mut sink);
    let r = resp(&s, 0);
    assert_eq!((r.body_bytes, r.missing_bytes, r.complete), (10, 5, false));
    // Pairing cannot know a response was lost: the next one pairs with /2.
    assert_eq!(resp(&s, 1).body_bytes, 1);
    assert!(resp(&s, 1).complete);
    assert!(has_warning(&s, "past the body's known extent"));
}

#[test]
fn gap_inside_headers_marks_incomplete_and_resyncs_on_next_message() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(
        C,
        1,
        b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n",
        &mut sink,
    );
    c.data(S, 2, b"HTTP/1.1 200 OK\r\nContent-Le", &mut sink);
    c.gap(S, 3, 10, &mut sink);
    let rest = b"ngth: 5\r\n\r\nhello";
    c.data(S, 4, rest, &mut sink);
    c.data(
        S,
        5,
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        &mut sink,
    );
    let s = c.finish(&mut sink);
    assert_eq!(s.transactions.len(), 2);
    let r = resp(&s, 0);
    assert_eq!((r.status, r.complete, r.header_terminator), (200, false, 0));
    assert_eq!(r.header_length, 27);
    assert_eq!((r.ts_first_byte_ns, r.ts_last_byte_ns), (2, 2));
    let r = resp(&s, 1);
    assert_eq!((r.status, r.complete), (404, true));
    assert!(has_warning(&s, "10 bytes missing inside the message head"));
    assert!(has_warning(
        &s,
        &format!("server: skipped {} bytes", rest.len())
    ));
    assert_eq!(
        sink.ends,
        vec![(0, C, true), (1, C, true), (0, S, false), (1, S, true)]
    );
}

#[test]
fn mid_stream_start_skips_to_the_first_segment_that_starts_a_message() {
    let mut c = conv();
    let mut sink = Collect::default();
    let junk1: &[u8] = b"...the middle of some earlier body";
    let junk2: &[u8] = b"HTTP/1.1 is mentioned mid-body but not as a status line";
    let junk3: &[u8] = b"tail of an earlier POST body";
    c.data(S, 1, junk1, &mut sink);
    c.data(S, 2, junk2, &mut sink);
    c.data(C, 3, junk3, &mut sink);
    c.data(
        C,
        4,
        b"GET /next HTTP/1.1\r\nHost: example.org\r\n\r\n",
        &mut sink,
    );
    c.data(
        S,
        5,
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
        &mut sink,
    );
    let s = c.finish(&mut sink);
    assert_eq!(s.transactions.len(), 1);
    assert_eq!(req(&s, 0).host.as_deref(), Some("example.org"));
    assert_eq!(resp(&s, 0).body_bytes, 3);
    assert!(resp(&s, 0).complete);
    assert_eq!(
        s.warnings,
        [
            format!(
                "client: skipped {} bytes (capture started inside a message)",
                junk3.len()
            ),
            format!(
                "server: skipped {} bytes (capture started inside a message)",
                junk1.len() + junk2.len()
            ),
        ]
    );
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
fn false_start_at_segment_end_does_not_hide_the_next_message() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(S, 1, b"H", &mut sink);
    c.data(
        S,
        2,
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        &mut sink,
    );
    c.data(C, 3, b"GET / HTTP/1.1\r\n\r\n", &mut sink);
    let s = c.finish(&mut sink);
    assert_eq!(s.transactions.len(), 2);
    assert_eq!(resp(&s, 0).status, 200);
    assert_eq!(req(&s, 1).uri, "/");
    assert!(has_warning(&s, "server: skipped 1 bytes"));
}

#[test]
fn empty_lines_between_messages_are_tolerated() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(
        C,
        1,
        b"POST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi\r\nGET /b HTTP/1.1\r\n\r\n",
        &mut sink,
    );
    let s = c.finish(&mut sink);
    assert_eq!(s.transactions.len(), 2);
    assert_eq!(req(&s, 1).uri, "/b");
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn header_beyond_limit_is_abandoned_with_bounded_memory() {
    let limits = Limits {
        max_header_bytes: 1024,
        ..Limits::default()
    };
    let mut c = Conversation::new(limits);
    let mut sink = Collect::default();
    c.data(
        C,
        1,
        b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n",
        &mut sink,
    );
    let mut big = b"HTTP/1.1 200 OK\r\nX-Big: ".to_vec();
    big.extend(std::iter::repeat_n(b'a', 100_000));
    big.extend_from_slice(b"\r\nContent-Length: 1\r\n\r\nz");
    for chunk in big.chunks(1000) {
        c.data(S, 2, chunk, &mut sink);
        assert!(c.head_buf(S).len() <= 1024);
        assert!(c.head_buf(S).capacity() <= 2 * 1024);
    }
    c.data(S, 3, b"HTTP/1.1 204 No Content\r\n\r\n", &mut sink);
    let s = c.finish(&mut sink);
    let r = resp(&s, 0);
    assert_eq!((r.status, r.complete, r.header_length), (200, false, 1024));
    assert_eq!(resp(&s, 1).status, 204);
    assert!(has_warning(&s, "message head exceeds 1024 bytes"));
    assert!(has_warning(
        &s,
        &format!("server: skipped {} bytes", big.len() - 1024)
    ));
}

#[test]
fn large_head_fed_byte_by_byte_is_scanned_in_linear_time() {
    let mut c = conv();
    let mut sink = NoBodies;
    let mut head = b"GET / HTTP/1.1\r\n".to_vec();
    while head.len() < 60_000 {
        head.extend_from_slice(b"X-Filler: 0123456789abcdef\r\n");
    }
    head.extend_from_slice(b"\r\n");
    for b in &head {
        c.data(C, 1, std::slice::from_ref(b), &mut sink);
    }
    let s = c.finish(&mut sink);
    let q = req(&s, 0);
    assert!(q.complete);
    assert_eq!(q.header_length as usize, head.len() - 4);
}

#[test]
fn content_length_u64_max_does_not_overflow() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(C, 1, b"GET / HTTP/1.1\r\n\r\n", &mut sink);
    c.data(
        S,
        2,
        b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n",
        &mut sink,
    );
    c.data(S, 3, &[0u8; 1000], &mut sink);
    c.gap(S, 4, u64::MAX, &mut sink);
    let s = c.finish(&mut sink);
    let r = resp(&s, 0);
    assert_eq!(r.content_length, Some(u64::MAX));
    assert_eq!((r.body_bytes, r.missing_bytes), (u64::MAX, u64::MAX - 1000));
    assert!(!r.complete);
    assert_eq!(sink.body_of(0, S).len(), 1000);
}

#[test]
fn content_length_2_pow_63_is_followed_exactly_across_a_gap() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(
        C,
        1,
        b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n",
        &mut sink,
    );
    c.data(
        S,
        2,
        b"HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\nabc",
        &mut sink,
    );
    c.gap(S, 3, (1u64 << 63) - 3, &mut sink);
    c.data(
        S,
        4,
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        &mut sink,
    );
    let s = c.finish(&mut sink);
    let r = resp(&s, 0);
    assert_eq!(r.content_length, Some(1 << 63));
    assert_eq!(
        (r.body_bytes, r.missing_bytes, r.complete),
        (1 << 63, (1 << 63) - 3, false)
    );
    assert!(resp(&s, 1).complete);
}

#[test]
fn content_length_beyond_u64_is_invalid() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(C, 1, b"GET / HTTP/1.1\r\n\r\n", &mut sink);
    c.data(
        S,
        2,
        b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\nxyz",
        &mut sink,
    );
    let s = c.finish(&mut sink);
    let r = resp(&s, 0);
    assert_eq!(
        (r.content_length, r.complete, r.body_bytes),
        (None, false, 0)
    );
    assert!(has_warning(&s, "overflows u64"));
}

#[test]
fn invalid_and_conflicting_content_length_warn_identical_repeats_are_fine() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(
        C,
        1,
        b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n",
        &mut sink,
    );
    c.data(
        S,
        2,
        b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\ncontent-length:5\r\n\r\nhello",
        &mut sink,
    );
    c.data(
        S,
        3,
        b"HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\nxx",
        &mut sink,
    );
    c.data(
        S,
        4,
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nxx",
        &mut sink,
    );
    let s = c.finish(&mut sink);
    assert_eq!(resp(&s, 0).content_length, Some(5));
    assert!(resp(&s, 0).complete);
    assert_eq!(sink.body_of(0, S), b"hello");
    assert!(!resp(&s, 1).complete);
    assert!(!resp(&s, 2).complete);
    assert!(has_warning(
        &s,
        "transaction 1: invalid Content-Length \"12abc\""
    ));
    assert!(has_warning(
        &s,
        "transaction 2: conflicting Content-Length values 5 and 6"
    ));
}

#[test]
fn transfer_encoding_chunked_overrides_content_length() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(C, 1, b"GET / HTTP/1.1\r\n\r\n", &mut sink);
    c.data(S, 2, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: Chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n", &mut sink);
    let s = c.finish(&mut sink);
    let r = resp(&s, 0);
    assert!(r.chunked && r.complete);
    assert_eq!((r.body_bytes, r.content_length), (2, Some(100)));
    assert!(has_warning(&s, "both Transfer-Encoding and Content-Length"));
}

#[test]
fn chunk_size_overflowing_u64_breaks_the_message() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(C, 1, b"GET / HTTP/1.1\r\n\r\n", &mut sink);
    c.data(
        S,
        2,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nabc",
        &mut sink,
    );
    let s = c.finish(&mut sink);
    let r = resp(&s, 0);
    assert!(!r.complete);
    assert_eq!(r.body_bytes, 0);
    assert!(has_warning(&s, "transaction 0: chunk size overflows u64"));
    assert_eq!(sink.ends, vec![(0, C, true), (0, S, false)]);
}

#[test]
fn chunk_size_of_exactly_u64_max_is_accepted() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(C, 1, b"GET / HTTP/1.1\r\n\r\n", &mut sink);
    c.data(
        S,
        2,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n00ffffffffffffffff\r\nabc",
        &mut sink,
    );
    let s = c.finish(&mut sink);
    assert_eq!(resp(&s, 0).body_bytes, 3);
    assert!(!has_warning(&s, "overflows"));
}

#[test]
fn keep_alive_follows_version_defaults_and_connection_tokens() {
    let cases: [(&[u8], bool); 5] = [
        (b"GET / HTTP/1.0\r\n\r\n", false),
        (b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true),
        (b"GET / HTTP/1.1\r\n\r\n", true),
        (
            b"GET / HTTP/1.1\r\nConnection: keep-alive, CLOSE\r\n\r\n",
            false,
        ),
        (b"GET / HTTP/1.1\r\nConnection: Upgrade\r\n\r\n", true),
    ];
    for (input, expected) in cases {
        let mut c = conv();
        c.data(C, 1, input, &mut NoBodies);
        let s = c.finish(&mut NoBodies);
        assert_eq!(
            req(&s, 0).keep_alive,
            expected,
            "{}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn header_names_are_case_insensitive_and_values_trimmed() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(
        C,
        1,
        b"GET /x HTTP/1.1\r\nhOsT: \t h.example \t\r\n\r\n",
        &mut sink,
    );
    c.data(S, 2, b"HTTP/1.1 200 OK\r\nCONTENT-TYPE:text/html; charset=utf-8  \r\ncontent-encoding:  gzip\r\ncontent-LENGTH:\t1 \r\n\r\nz", &mut sink);
    let s = c.finish(&mut sink);
    assert_eq!(req(&s, 0).host.as_deref(), Some("h.example"));
    let r = resp(&s, 0);
    assert_eq!(r.content_type.as_deref(), Some("text/html; charset=utf-8"));
    assert_eq!(r.content_encoding.as_deref(), Some("gzip"));
    assert_eq!(
        (r.content_length, r.body_bytes, r.complete),
        (Some(1), 1, true)
    );
}

#[test]
fn request_targets_of_every_form_are_kept_as_sent() {
    let mut c = conv();
    c.data(
        C,
        1,
        b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\nCONNECT b.example:443 HTTP/1.1\r\n\r\n",
        &mut NoBodies,
    );
    let s = c.finish(&mut NoBodies);
    assert_eq!(
        (req(&s, 0).uri.as_str(), req(&s, 0).host.as_deref()),
        ("*", Some("a"))
    );
    assert_eq!(req(&s, 1).uri, "b.example:443");
    assert_eq!(req(&s, 1).host.as_deref(), Some("b.example:443"));
}

#[test]
fn unescaped_spaces_in_a_request_target_are_tolerated() {
    let mut c = conv();
    c.data(
        C,
        1,
        b"GET /a b.html HTTP/1.1\r\nHost: h\r\n\r\n",
        &mut NoBodies,
    );
    let s = c.finish(&mut NoBodies);
    assert_eq!(
        (req(&s, 0).uri.as_str(), req(&s, 0).version.as_str()),
        ("/a b.html", "HTTP/1.1")
    );
    assert!(req(&s, 0).complete);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn a_segment_that_is_not_a_start_line_is_not_taken_for_a_message() {
    let mut c = conv();
    c.data(C, 1, b"GET /x HTTP/1.1\r\n\r\n", &mut NoBodies);
    // After a complete message, bytes that are no message start are skipped
    // up to the next segment that starts one.
    c.data(C, 2, b"GARBAGE\r\n", &mut NoBodies);
    c.data(
        C,
        3,
        b"PUT /y HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
        &mut NoBodies,
    );
    let s = c.finish(&mut NoBodies);
    assert_eq!(s.transactions.len(), 2);
    assert_eq!(req(&s, 1).method, "PUT");
    assert_eq!(
        s.warnings,
        ["client: skipped 9 bytes (data that is not an HTTP message start)"]
    );
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
    assert!(has_warning(&s, "client: 23 bytes after a protocol switch"));
    assert!(has_warning(&s, "server: 19 bytes after a protocol switch"));
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
    assert!(has_warning(&s, "server: 7 bytes after a protocol switch"));
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
    assert!(has_warning(&s, "transaction 0 will not be paired"));
}

#[test]
fn close_inside_a_head_or_length_body_leaves_it_incomplete() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(
        C,
        1,
        b"POST /p HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc",
        &mut sink,
    );
    c.close(C, 2, &mut sink);
    c.data(S, 3, b"HTTP/1.1 400 Bad Request\r\nConnec", &mut sink);
    c.close(S, 4, &mut sink);
    let s = c.finish(&mut sink);
    assert_eq!((req(&s, 0).complete, req(&s, 0).body_bytes), (false, 3));
    let r = resp(&s, 0);
    assert_eq!(
        (r.status, r.reason.as_str(), r.complete, r.header_length),
        (400, "Bad Request", false, 32)
    );
    assert_eq!(sink.ends, vec![(0, C, false), (0, S, false)]);
}

const TOKENS: &[&[u8]] = &[
    b"GET / HTTP/1.1\r\n",
    b"HEAD /h HTTP/1.0\r\n",
    b"CONNECT a:1 HTTP/1.1\r\n",
    b"POST /p HTTP/1.1\r\n",
    b"HTTP/1.1 200 OK\r\n",
    b"HTTP/1.0 100 Continue\r\n",
    b"HTTP/1.1 101 Switching\r\n",
    b"HTTP/1.1 204 x\r\n",
    b"HTTP/1.1 2",
    b"Content-Length: ",
    b"Transfer-Encoding: chunked\r\n",
    b"Connection: close\r\n",
    b"Expect: 100-continue\r\n",
    b"\r\n",
    b"\n",
    b"\r",
    b" ",
    b";",
    b":",
    b"0\r\n",
    b"ff;x\r\n",
    b"3",
    b"12",
    b"18446744073709551615",
    b"ffffffffffffffffff",
    b"abc",
    b"\x00\xff\xfe\xc3\x28",
];

/// Checks the invariants that hold whatever the input.
fn check_invariants(s: &HttpSummary, sink: &Collect) {
    for (i, t) in s.transactions.iter().enumerate() {
        assert_eq!(t.index, i);
        for (side, rec) in [
            (
                C,
                t.request
                    .as_ref()
                    .map(|r| (r.body_bytes, r.missing_bytes, r.complete)),
            ),
            (
                S,
                t.response
                    .as_ref()
                    .map(|r| (r.body_bytes, r.missing_bytes, r.complete)),
            ),
        ] {
            let ends = sink.ends.iter().filter(|e| e.0 == i && e.1 == side).count();
            match rec {
                Some((body, missing, complete)) => {
                    assert_eq!(ends, 1, "txn {i} {side}: one end per message");
                    if body < u64::MAX {
                        // (counts saturate at u64::MAX after huge gaps)
                        assert_eq!(sink.body_of(i, side).len() as u64, body - missing);
                    }
                    assert!(!complete || missing == 0);
                    assert!(sink.ends.contains(&(i, side, complete)));
                }
                None => assert_eq!(ends, 0),
            }
        }
        if let Some(r) = &t.response
            && r.complete
            && !r.chunked
        {
            assert_eq!(
                r.wire_bytes,
                r.header_length + u64::from(r.header_terminator) + r.body_bytes
            );
        }
    }
    assert!(!has_warning(s, "stalled"));
    assert!(s.warnings.len() <= MAX_WARNINGS + 1);
}

#[test]
fn garbage_never_panics_and_invariants_hold() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for case in 0..3000 {
        let limits = Limits {
            max_header_bytes: if case % 2 == 0 {
                8 + rng.below(300)
            } else {
                64 * 1024
            },
            max_pending_requests: rng.below(4),
        };
        let mut c = Conversation::new(limits);
        let mut sink = Collect::default();
        let events = 1 + rng.below(40);
        let mut log: Vec<String> = Vec::new();
        for e in 0..events {
            let side = if rng.below(2) == 0 { C } else { S };
            let ts = (case * 100 + e) as i64;
            match rng.below(20) {
                0 => {
                    let len = match rng.below(3) {
                        0 => rng.below(10) as u64,
                        1 => rng.next(),
                        _ => u64::MAX,
                    };
                    c.gap(side, ts, len, &mut sink);
                    log.push(format!("gap {side} {len}"));
                }
                1 => {
                    c.close(side, ts, &mut sink);
                    log.push(format!("close {side}"));
                }
                _ => {
                    let mut bytes = Vec::new();
                    for _ in 0..1 + rng.below(12) {
                        if rng.below(4) == 0 {
                            bytes.push(rng.next() as u8);
                        } else {
                            bytes.extend_from_slice(TOKENS[rng.below(TOKENS.len())]);
                        }
                    }
                    let mut from = 0;
                    while from < bytes.len() {
                        let to = (from + 1 + rng.below(16)).min(bytes.len());
                        c.data(side, ts, &bytes[from..to], &mut sink);
                        log.push(format!(
                            "{side} {:?}",
                            String::from_utf8_lossy(&bytes[from..to])
                        ));
                        from = to;
                    }
                }
            }
        }
        let s = c.finish(&mut sink);
        let r =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check_invariants(&s, &sink)));
        if r.is_err() {
            eprintln!("case {case}: {:#?}\n{:?}\n{:?}", s, sink, log);
            panic!();
        }
    }
}
