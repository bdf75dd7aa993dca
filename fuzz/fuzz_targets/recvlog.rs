//! The recv log reader on arbitrary file contents, and what replay does
//! with what it reads: the check against the capture's span, and the
//! correlation with the frames of a real connection (the lab recording of
//! the book's delayed run, whose recv log is among the seeds), its lesson,
//! explanation and table. The correlation runs whether or not the span
//! check passes: it must hold on any log it is given.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use recvscope::analysis::{CaptureSpan, ConnectionSummary, NoBodies, Report};
use recvscope::capture::records::Reading;
use recvscope::replay::analyse_file;
use recvscope::{correlate, lesson, recvlog, report};
use recvscope_fuzz::scratch_file;

static PATH: LazyLock<PathBuf> = LazyLock::new(|| scratch_file("recv.jsonl"));

/// The sample capture, analysed once, its connection listed packet by packet.
static CAPTURE: LazyLock<Report> = LazyLock::new(|| {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../captures/lab-book-delay.pcap");
    let (report, _) =
        analyse_file(&file, Some(0), Reading::Inline, &mut NoBodies).expect("sample capture");
    report
});

fuzz_target!(|data: &[u8]| {
    std::fs::write(&*PATH, data).expect("scratch file");
    let Ok(log) = recvlog::read(&PATH) else {
        return;
    };
    let capture = &*CAPTURE;
    if let (Some(first_ns), Some(last_ns)) = (capture.first_ts_ns, capture.last_ts_ns) {
        let _ = log.check_span(&PATH, CaptureSpan { first_ns, last_ns });
    }
    let conn: Option<&ConnectionSummary> = capture.connections.first();
    let request_ts = log.run.request_ts_ns;
    for rows in [None, conn.and_then(|c| c.packet_list.as_deref())] {
        let recvs = correlate::correlate(request_ts, &log.recvs, rows);
        let lesson = lesson::lesson(&recvs, rows.and(conn), request_ts);
        let explanation = report::explain::explain(&lesson);
        report::recvs::write(&mut std::io::sink(), &recvs, rows.and(conn), &explanation)
            .expect("sink");
    }
});
