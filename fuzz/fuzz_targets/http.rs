//! The HTTP/1.x conversation parser fed client and server chunks, gaps and
//! closes chosen by the input, under small or default limits.
//!
//! Input: `[header_lo, header_hi, pending]` (limits; a zero header limit
//! means the defaults), then records of `[tag, len_lo, len_hi, bytes...]`.
//! Bit 2 of the tag picks the side, its low bits the operation: 0 the bytes
//! are data (seeds are real captures' payloads), 1 data built from HTTP
//! tokens ([`Piece`]), 2 a gap of the bytes' little-endian length (bit 3: bytes
//! seen on the wire but not captured, else lost), 3 a close.
//!
//! Checks that the body bytes delivered never exceed the bytes fed, that
//! every recorded message ends exactly once and that no body arrives after
//! its end.
#![no_main]

use std::collections::{HashMap, HashSet};

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use recvscope::http::{BodySink, Conversation, Gap, Limits, Side};
use recvscope_fuzz::{Piece, build_payload};

#[derive(Default)]
struct Counting {
    body: HashMap<Side, u64>,
    ended: HashSet<(usize, Side)>,
}

impl BodySink for Counting {
    fn body(&mut self, txn: usize, side: Side, bytes: &[u8]) {
        assert!(
            !self.ended.contains(&(txn, side)),
            "body after end: txn {txn} {side}"
        );
        *self.body.entry(side).or_default() += bytes.len() as u64;
    }
    fn end(&mut self, txn: usize, side: Side, _complete: bool) {
        assert!(
            self.ended.insert((txn, side)),
            "ended twice: txn {txn} {side}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let [lo, hi, pending, rest @ ..] = data else {
        return;
    };
    let limits = match u16::from_le_bytes([*lo, *hi]) {
        0 => Limits::default(),
        header => Limits {
            max_header_bytes: header.into(),
            max_pending_requests: usize::from(*pending).max(1),
        },
    };
    let mut conv = Conversation::new(limits);
    let mut sink = Counting::default();
    let mut fed: HashMap<Side, u64> = HashMap::new();
    let mut rest = rest;
    let mut ts_ns = 0i64;
    while let [tag, lo, hi, tail @ ..] = rest {
        let len = usize::from(u16::from_le_bytes([*lo, *hi])).min(tail.len());
        let (bytes, tail) = tail.split_at(len);
        rest = tail;
        ts_ns += 1000;
        let side = if tag & 4 == 0 {
            Side::Client
        } else {
            Side::Server
        };
        let built;
        let chunk = match tag & 3 {
            0 => bytes,
            1 => {
                let Ok(pieces) = Vec::<Piece>::arbitrary(&mut Unstructured::new(bytes)) else {
                    continue;
                };
                built = build_payload(&pieces, 1 << 20);
                &built
            }
            2 => {
                let mut le = [0u8; 8];
                le[..bytes.len().min(8)].copy_from_slice(&bytes[..bytes.len().min(8)]);
                let len = u64::from_le_bytes(le);
                let gap = if tag & 8 == 0 {
                    Gap::Lost(len)
                } else {
                    Gap::NotCaptured(len)
                };
                conv.gap(side, ts_ns, gap, &mut sink);
                continue;
            }
            _ => {
                conv.close(side, ts_ns, &mut sink);
                continue;
            }
        };
        *fed.entry(side).or_default() += chunk.len() as u64;
        conv.data(side, ts_ns, chunk, &mut sink);
    }
    let summary = conv.finish(&mut sink);
    for s in [Side::Client, Side::Server] {
        let (body, fed) = (sink.body.get(&s), fed.get(&s));
        assert!(
            body.copied().unwrap_or(0) <= fed.copied().unwrap_or(0),
            "{s}: more body than data"
        );
    }
    let recorded: u64 = summary
        .transactions
        .iter()
        .map(|t| u64::from(t.request.is_some()) + u64::from(t.response.is_some()))
        .sum();
    assert_eq!(
        sink.ended.len() as u64,
        recorded,
        "one end per recorded message"
    );
});
