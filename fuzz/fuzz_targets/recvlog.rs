//! The recv log reader on arbitrary file contents, and the correlation of
//! what it reads with no capture behind it.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use recvscope::{correlate, lesson, recvlog};
use recvscope_fuzz::scratch_file;

static PATH: LazyLock<std::path::PathBuf> = LazyLock::new(|| scratch_file("recv.jsonl"));

fuzz_target!(|data: &[u8]| {
    std::fs::write(&*PATH, data).expect("scratch file");
    if let Ok(log) = recvlog::read(&PATH) {
        let rows = correlate::correlate(log.run.request_ts_ns, &log.recvs, None);
        let lesson = lesson::lesson(&rows, None, log.run.request_ts_ns);
        let _ = recvscope::report::explain::explain(&lesson);
    }
});
