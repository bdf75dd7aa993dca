//! Random token soup: the parser never panics and its records and
//! streamed bodies always agree.

use super::*;
use crate::conversation::MAX_WARNINGS;
use recvscope_testkit::Rng;

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
                t.request.as_ref().map(|r| {
                    (
                        r.body_bytes,
                        r.missing_bytes + r.not_captured_bytes,
                        r.missing_bytes,
                        r.complete,
                    )
                }),
            ),
            (
                S,
                t.response.as_ref().map(|r| {
                    (
                        r.body_bytes,
                        r.missing_bytes + r.not_captured_bytes,
                        r.missing_bytes,
                        r.complete,
                    )
                }),
            ),
        ] {
            let ends = sink.ends.iter().filter(|e| e.0 == i && e.1 == side).count();
            match rec {
                Some((body, absent, missing, complete)) => {
                    assert_eq!(ends, 1, "txn {i} {side}: one end per message");
                    if body < u64::MAX {
                        // (counts saturate at u64::MAX after huge gaps)
                        assert_eq!(sink.body_of(i, side).len() as u64, body - absent);
                    }
                    assert!(!complete || missing == 0);
                    let whole = complete && absent == missing;
                    assert!(sink.ends.contains(&(i, side, whole)));
                }
                None => assert_eq!(ends, 0),
            }
        }
        if let Some(r) = &t.response
            && r.complete
            && !r.chunked
            && r.wire_bytes < u64::MAX
        {
            assert_eq!(
                r.wire_bytes,
                r.header_length + u64::from(r.header_terminator) + r.body_bytes
            );
        }
    }
    assert!(
        !s.warnings
            .iter()
            .any(|w| matches!(w, HttpWarning::ParserStalled { .. }))
    );
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
                        1 => rng.next_u64(),
                        _ => u64::MAX,
                    };
                    let gap = if rng.below(2) == 0 {
                        Gap::Lost(len)
                    } else {
                        Gap::NotCaptured(len)
                    };
                    c.gap(side, ts, gap, &mut sink);
                    log.push(format!("{gap:?} {side}"));
                }
                1 => {
                    c.close(side, ts, &mut sink);
                    log.push(format!("close {side}"));
                }
                _ => {
                    let mut bytes = Vec::new();
                    for _ in 0..1 + rng.below(12) {
                        if rng.below(4) == 0 {
                            bytes.push(rng.next_u64() as u8);
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
