//! Body framing: chunked coding, close-delimited and truncated bodies,
//! Content-Length edge cases and conflicts, and closes mid-message.

use super::*;

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
    assert_eq!(
        s.warnings,
        [HttpWarning::CloseDelimitedBodyCut {
            side: S,
            txn: 0,
            by: Cut::InputEnded
        }]
    );
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
    assert_eq!(
        s.warnings,
        [HttpWarning::BodyCut {
            side: S,
            txn: 0,
            by: Cut::InputEnded
        }]
    );
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
    c.gap(S, 4, Gap::Lost(u64::MAX), &mut sink);
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
    c.gap(S, 3, Gap::Lost((1u64 << 63) - 3), &mut sink);
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
    assert_eq!(
        s.warnings,
        [
            HttpWarning::MessageIncomplete {
                side: S,
                txn: 0,
                why: Broken::ContentLengthOverflow {
                    value: "18446744073709551616".into()
                }
            },
            skipped(S, 3, SkipReason::AfterUnparseableMessage)
        ]
    );
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
    assert_eq!(
        s.warnings,
        [
            HttpWarning::MessageIncomplete {
                side: S,
                txn: 1,
                why: Broken::InvalidContentLength {
                    value: "12abc".into()
                }
            },
            skipped(S, 2, SkipReason::AfterUnparseableMessage),
            HttpWarning::MessageIncomplete {
                side: S,
                txn: 2,
                why: Broken::ConflictingContentLengths {
                    first: 5,
                    second: 6
                }
            },
            skipped(S, 2, SkipReason::AfterUnparseableMessage),
        ]
    );
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
    assert_eq!(
        s.warnings,
        [HttpWarning::ResponseTransferEncodingWithContentLength { status: 200 }]
    );
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
    assert_eq!(
        s.warnings,
        [
            HttpWarning::MessageIncomplete {
                side: S,
                txn: 0,
                why: Broken::ChunkSizeOverflow
            },
            skipped(S, 6, SkipReason::AfterUnparseableMessage)
        ]
    );
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
    assert_eq!(
        s.warnings,
        [HttpWarning::BodyCut {
            side: S,
            txn: 0,
            by: Cut::InputEnded
        }],
        "cut short, no overflow"
    );
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
