//! Message heads: line endings, the head size limit and linear scanning,
//! keep-alive, field names and values, and request-targets.

use super::*;
use crate::NoBodies;

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
    assert_eq!(req(&s, 0).host.as_ref().map(|t| t.as_str()), Some("x"));
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
    assert_eq!(
        s.warnings,
        [
            HttpWarning::MessageIncomplete {
                side: S,
                txn: 0,
                why: Broken::HeadTooLarge { max: 1024 }
            },
            skipped(
                S,
                (big.len() - 1024) as u64,
                SkipReason::AfterUnparseableMessage
            ),
        ]
    );
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
    crate::direction::head_phase::examined::take();
    for b in &head {
        c.data(C, 1, std::slice::from_ref(b), &mut sink);
    }
    assert_eq!(
        crate::direction::head_phase::examined::take(),
        head.len() as u64,
        "each byte examined once, not once per chunk that follows it"
    );
    let s = c.finish(&mut sink);
    let q = req(&s, 0);
    assert!(q.complete);
    assert_eq!(q.header_length as usize, head.len() - 4);
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
    assert_eq!(
        req(&s, 0).host.as_ref().map(|t| t.as_str()),
        Some("h.example")
    );
    let r = resp(&s, 0);
    assert_eq!(
        r.content_type.as_ref().map(|t| t.as_str()),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(
        r.content_encoding.as_ref().map(|t| t.as_str()),
        Some("gzip")
    );
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
        (
            req(&s, 0).uri.as_str(),
            req(&s, 0).host.as_ref().map(|t| t.as_str())
        ),
        ("*", Some("a"))
    );
    assert_eq!(req(&s, 1).uri, "b.example:443");
    assert_eq!(
        req(&s, 1).host.as_ref().map(|t| t.as_str()),
        Some("b.example:443")
    );
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
fn a_payload_tells_its_senders_role_only_by_a_whole_start_line() {
    use crate::sender_role;
    assert_eq!(sender_role(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"), Some(C));
    assert_eq!(sender_role(b"HTTP/1.0 404 Not Found\r\n"), Some(S));
    // A start line cut short, body bytes, or text naming HTTP tell nothing.
    assert_eq!(sender_role(b"GET /a HTTP/1."), None);
    assert_eq!(sender_role(b"HELLO WORLD"), None);
    assert_eq!(sender_role(b"HTTP/1.1 is a protocol"), None);
}
