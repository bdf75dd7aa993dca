//! Link-layer dispatch and TCP/IP decoding of one frame: the first byte picks
//! the link type, the second how much longer the frame was on the wire.
#![no_main]

use libfuzzer_sys::fuzz_target;
use recvscope::wire::{Decoded, FrameMeta, decode};
use recvscope_fuzz::LINKS;

fuzz_target!(|data: &[u8]| {
    let [link, extra, frame @ ..] = data else {
        return;
    };
    let link = LINKS[usize::from(*link) % LINKS.len()];
    let meta = FrameMeta {
        number: 1,
        ts_ns: 0,
        orig_len: frame.len() as u32 + u32::from(*extra) * 16,
    };
    if let Decoded::Tcp(seg) = decode(link, frame, meta) {
        assert!(seg.payload.len() as u64 <= u64::from(seg.payload_len));
        let _ = (seg.payload_truncated(), seg.flags.letters());
    }
});
