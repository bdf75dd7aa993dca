//! A capture file end to end, as `replay` reads a user's file: libpcap's
//! header check and recvscope's readers (classic pcap records, or pcapng
//! blocks when the bytes start as one), decoding, tracking, HTTP and every
//! rendering of the report.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use recvscope::capture::records::Reading;
use recvscope::replay::analyse_file;
use recvscope::analysis::NoBodies;
use recvscope_fuzz::{render, scratch_file};

static PATH: LazyLock<std::path::PathBuf> = LazyLock::new(|| scratch_file("capture.pcap"));

fuzz_target!(|data: &[u8]| {
    std::fs::write(&*PATH, data).expect("scratch file");
    if let Ok((report, _)) = analyse_file(&PATH, Some(0), Reading::Ahead, &mut NoBodies) {
        render(&PATH, &report);
    }
});
