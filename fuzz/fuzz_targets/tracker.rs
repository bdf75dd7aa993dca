//! The TCP tracker, analysis, reassembly and HTTP behind it, fed a sequence
//! of frames on the raw IP link type, then every rendering of the report.
//!
//! Input: records of `[tag, len_lo, len_hi, bytes...]`. An even tag makes the
//! bytes a raw IP packet (seeds are real captures' packets); an odd tag
//! builds a plausible segment from them ([`Seg`]), whose sequence numbers
//! follow on from earlier built segments of its connection.
#![no_main]

use std::path::Path;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use recvscope::analysis::Analyzer;
use recvscope::analysis::{Limits, NoBodies};
use recvscope::wire::{FrameMeta, LinkType};
use recvscope_fuzz::{Flows, Seg, render};

fuzz_target!(|data: &[u8]| {
    let mut analyzer = Analyzer::new(LinkType::Raw, Limits::default(), Some(0));
    let mut flows = Flows::default();
    let mut ts_ns = 1_700_000_000_000_000_000i64;
    let mut number = 0;
    let mut rest = data;
    while let [tag, lo, hi, tail @ ..] = rest {
        let len = usize::from(u16::from_le_bytes([*lo, *hi])).min(tail.len());
        let (bytes, tail) = tail.split_at(len);
        rest = tail;
        let (frame, orig_len, dt_us) = if tag & 1 == 0 {
            (
                bytes.to_vec(),
                bytes.len() as u32,
                u64::from(tag >> 1) * 100,
            )
        } else {
            let Ok(seg) = Seg::arbitrary(&mut Unstructured::new(bytes)) else {
                continue;
            };
            let (frame, wire_len) = flows.build(&seg);
            (frame, wire_len, u64::from(seg.dt_us))
        };
        number += 1;
        ts_ns += dt_us as i64 * 1000;
        let meta = FrameMeta {
            number,
            ts_ns,
            orig_len,
        };
        analyzer.frame(meta, &frame, &mut NoBodies);
    }
    render(Path::new("fuzz.pcap"), &analyzer.finish(&mut NoBodies));
});
