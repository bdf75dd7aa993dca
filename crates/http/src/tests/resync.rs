//! Capture gaps and resynchronisation: gaps in bodies and heads, a
//! capture starting mid-stream, false starts and data that starts no message.

use super::*;
use crate::NoBodies;

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
    c.gap(S, 4, Gap::Lost(20), &mut sink);
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
    assert_eq!(
        s.warnings,
        [HttpWarning::BytesMissingInBody {
            side: S,
            txn: 0,
            first_gap: 20
        }]
    );
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
    c.gap(S, 3, Gap::Lost(3), &mut sink);
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
    c.gap(S, 3, Gap::Lost(5 + 40), &mut sink);
    c.data(
        S,
        4,
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n!",
        &mut sink,
    );
    let s = c.finish(&mut sink);
    let r = resp(&s, 0);
    assert_eq!((r.body_bytes, r.missing_bytes, r.complete), (10, 5, false));
    // The gap ran into the next message: /2's response head is in it, and
    // the next status line pairs with /3.
    assert!(s.transactions[1].response_head_missing);
    assert_eq!(s.transactions[1].response, None);
    assert_eq!(resp(&s, 2).body_bytes, 1);
    assert!(resp(&s, 2).complete);
    assert!(!s.transactions[2].response_head_missing);
    assert_eq!(
        s.warnings,
        [HttpWarning::BytesMissingPastBody {
            side: S,
            txn: 0,
            bytes: 45
        }]
    );
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
    c.gap(S, 3, Gap::Lost(10), &mut sink);
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
    assert_eq!(
        s.warnings,
        [
            HttpWarning::MessageIncomplete {
                side: S,
                txn: 0,
                why: Broken::MissingInHead { bytes: 10 }
            },
            skipped(S, rest.len() as u64, SkipReason::AfterGap),
        ]
    );
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
    assert_eq!(
        req(&s, 0).host.as_ref().map(|t| t.as_str()),
        Some("example.org")
    );
    assert_eq!(resp(&s, 0).body_bytes, 3);
    assert!(resp(&s, 0).complete);
    assert_eq!(
        s.warnings,
        [
            skipped(
                C,
                junk3.len() as u64,
                SkipReason::CaptureStartedInsideMessage
            ),
            skipped(
                S,
                (junk1.len() + junk2.len()) as u64,
                SkipReason::CaptureStartedInsideMessage
            ),
        ]
    );
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
    assert_eq!(
        s.warnings,
        [skipped(S, 1, SkipReason::CaptureStartedInsideMessage)]
    );
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
    assert_eq!(s.warnings, [skipped(C, 9, SkipReason::NotAMessageStart)]);
}

#[test]
fn a_body_the_snaplen_did_not_keep_still_completes_with_its_true_length_and_no_warning() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(C, 1, b"GET / HTTP/1.0\r\n\r\n", &mut sink);
    c.data(
        S,
        2,
        b"HTTP/1.0 200 OK\r\nContent-Length: 5000\r\n\r\nab",
        &mut sink,
    );
    c.gap(S, 3, Gap::NotCaptured(1498), &mut sink);
    c.data(S, 4, b"cd", &mut sink);
    c.gap(S, 5, Gap::NotCaptured(3498), &mut sink);
    let s = c.finish(&mut sink);
    let r = resp(&s, 0);
    assert!(r.complete);
    assert_eq!(
        (r.body_bytes, r.not_captured_bytes, r.missing_bytes),
        (5000, 4996, 0)
    );
    assert_eq!(r.ts_last_byte_ns, 5);
    assert_eq!(sink.body_of(0, S), b"abcd");
    // The sink is told its bytes are not the whole body.
    assert_eq!(sink.ends, vec![(0, C, true), (0, S, false)]);
    assert_eq!(s.warnings, []);
}

#[test]
fn a_not_captured_run_past_a_body_ends_it_whole_and_cuts_the_next_message_start() {
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
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
        &mut sink,
    );
    c.gap(S, 3, Gap::NotCaptured(10 + 40), &mut sink);
    let s = c.finish(&mut sink);
    let r = resp(&s, 0);
    assert!(r.complete);
    assert_eq!((r.body_bytes, r.not_captured_bytes), (10, 10));
    assert_eq!(
        s.warnings,
        [HttpWarning::BytesNotCapturedBetweenMessages { side: S, bytes: 40 }]
    );
}

#[test]
fn a_head_the_snaplen_cut_is_told_as_not_captured_not_missing() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(C, 1, b"GET / HTTP/1.0\r\n\r\n", &mut sink);
    c.data(S, 2, b"HTTP/1.0 200 OK\r\nDate: Mon", &mut sink);
    c.gap(S, 3, Gap::NotCaptured(200), &mut sink);
    let s = c.finish(&mut sink);
    assert!(!resp(&s, 0).complete);
    assert_eq!(
        s.warnings,
        [HttpWarning::MessageIncomplete {
            side: S,
            txn: 0,
            why: Broken::HeadNotCaptured { bytes: 200 }
        }]
    );
}

#[test]
fn chunk_framing_the_snaplen_cut_stops_the_body_there() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(C, 1, b"GET / HTTP/1.1\r\n\r\n", &mut sink);
    c.data(
        S,
        2,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        &mut sink,
    );
    c.gap(S, 3, Gap::NotCaptured(3 + 7), &mut sink);
    let s = c.finish(&mut sink);
    let r = resp(&s, 0);
    assert!(!r.complete);
    assert_eq!((r.body_bytes, r.not_captured_bytes), (5, 3));
    assert_eq!(
        s.warnings,
        [HttpWarning::MessageIncomplete {
            side: S,
            txn: 0,
            why: Broken::ChunkFramingNotCaptured { bytes: 7 }
        }]
    );
}

#[test]
fn a_response_head_lost_between_messages_marks_its_request_and_the_next_status_line_pairs_with_the_next()
 {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(C, 1, b"GET /1 HTTP/1.1\r\n\r\n", &mut sink);
    c.data(
        S,
        2,
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na",
        &mut sink,
    );
    c.data(C, 3, b"GET /2 HTTP/1.1\r\n\r\n", &mut sink);
    // /2's response head is lost, its body segment captured.
    c.gap(S, 4, Gap::Lost(38), &mut sink);
    c.data(S, 5, b"b", &mut sink);
    c.data(C, 6, b"GET /3 HTTP/1.1\r\n\r\n", &mut sink);
    c.data(
        S,
        7,
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nc",
        &mut sink,
    );
    let s = c.finish(&mut sink);
    let missing: Vec<bool> = s
        .transactions
        .iter()
        .map(|t| t.response_head_missing)
        .collect();
    assert_eq!(missing, [false, true, false]);
    assert_eq!(s.transactions[1].response, None);
    assert_eq!(resp(&s, 2).ts_first_byte_ns, 7);
    assert!(resp(&s, 2).complete);
    assert_eq!(sink.body_of(2, S), b"c");
    assert_eq!(
        s.warnings,
        [
            HttpWarning::BytesMissingBetweenMessages { side: S, bytes: 38 },
            skipped(S, 1, SkipReason::AfterGap),
        ]
    );
}

#[test]
fn a_gap_at_the_start_of_the_servers_stream_is_the_head_of_the_first_response() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.data(C, 1, b"GET /1 HTTP/1.1\r\n\r\n", &mut sink);
    c.gap(S, 2, Gap::Lost(238), &mut sink);
    c.data(S, 3, b"body", &mut sink);
    c.data(C, 4, b"GET /2 HTTP/1.1\r\n\r\n", &mut sink);
    c.data(S, 5, b"HTTP/1.1 204 No Content\r\n\r\n", &mut sink);
    let s = c.finish(&mut sink);
    assert!(s.transactions[0].response_head_missing);
    assert_eq!(resp(&s, 1).status, 204);
    assert!(!s.transactions[1].response_head_missing);
}

#[test]
fn a_gap_with_no_request_waiting_marks_nothing() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.gap(S, 1, Gap::Lost(100), &mut sink);
    c.data(C, 2, b"GET /1 HTTP/1.1\r\n\r\n", &mut sink);
    c.data(S, 3, b"HTTP/1.1 204 No Content\r\n\r\n", &mut sink);
    let s = c.finish(&mut sink);
    assert_eq!(s.transactions.len(), 1);
    assert!(!s.transactions[0].response_head_missing);
    assert_eq!(resp(&s, 0).status, 204);
    assert_eq!(s.warnings, []);
}

#[test]
fn a_stream_captured_from_its_first_byte_that_is_not_http_is_not_http() {
    let mut c = conv();
    let mut sink = Collect::default();
    let banner = b"SSH-2.0-OpenSSH_9.2\r\n";
    c.began(C);
    c.began(S);
    c.data(S, 1, banner, &mut sink);
    c.data(C, 2, banner, &mut sink);
    let s = c.finish(&mut sink);
    assert!(s.transactions.is_empty());
    let n = banner.len() as u64;
    assert_eq!(
        s.warnings,
        [
            skipped(C, n, SkipReason::NotHttp),
            skipped(S, n, SkipReason::NotHttp)
        ]
    );
}

#[test]
fn only_the_side_whose_start_was_captured_is_not_http() {
    let mut c = conv();
    let mut sink = Collect::default();
    c.began(C);
    c.data(S, 1, b"tail of a body", &mut sink);
    c.data(C, 2, b"\x16\x03\x01", &mut sink);
    let s = c.finish(&mut sink);
    assert_eq!(
        s.warnings,
        [
            skipped(C, 3, SkipReason::NotHttp),
            skipped(S, 14, SkipReason::CaptureStartedInsideMessage)
        ]
    );
}
