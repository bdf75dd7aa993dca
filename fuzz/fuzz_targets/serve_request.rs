//! The lab server's request head finder and parser on arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use recvscope::serve::request::{find_head, parse};

fuzz_target!(|data: &[u8]| {
    match find_head(data) {
        Some(span) => {
            assert!(span.start <= span.end && span.end <= data.len());
            let _ = parse(&data[span.start..span.end]);
        }
        None => {
            let _ = parse(data);
        }
    }
});
