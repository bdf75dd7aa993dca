//! `recvscope replay`: the shell around the analysis of saved captures.

use std::io::Write;

use anyhow::Context;

use crate::analyze::{Analyzer, Report};
use crate::capture::file::{CaptureFile, OpenError, ReadEnd};
use crate::cli::ReplayArgs;
use crate::extract::Extractor;
use crate::report;
use crate::tcp::{BodySink, Limits, NoBodies};

/// Exit status when the capture was damaged but what was read got reported.
pub const EXIT_DAMAGED: u8 = 3;
/// Exit status for input that is not a usable capture.
pub const EXIT_BAD_INPUT: u8 = 2;

/// The outcome the binary maps to an exit code.
pub enum Outcome {
    Ok,
    Damaged,
}

/// Analyses one capture file.
pub fn analyse_file(
    file: &std::path::Path,
    list: Option<u64>,
    sink: &mut dyn BodySink,
) -> Result<(Report, ReadEnd), OpenError> {
    let mut cap = CaptureFile::open(file)?;
    let mut analyzer = Analyzer::new(cap.link(), Limits::default(), list);
    let end = cap.for_each(|meta, bytes| analyzer.frame(meta, bytes, sink));
    let mut report = analyzer.finish(sink);
    if let ReadEnd::Damaged(why) = &end {
        report.warnings.push(why.clone());
    }
    Ok((report, end))
}

pub fn run(args: &ReplayArgs) -> anyhow::Result<Outcome> {
    let mut outcome = Outcome::Ok;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for file in &args.files {
        let (report, end, saved) = match &args.extract {
            Some(dir) => {
                let mut ex = Extractor::new(dir)?;
                let (report, end) = analyse_file(file, args.conn, &mut ex)?;
                let saved = ex.finish()?;
                (report, end, Some(saved))
            }
            None => {
                let (report, end) = analyse_file(file, args.conn, &mut NoBodies)?;
                (report, end, None)
            }
        };
        if let ReadEnd::Damaged(why) = &end {
            eprintln!("recvscope: warning: {why}");
            outcome = Outcome::Damaged;
        }
        if args.json {
            serde_json::to_writer_pretty(&mut out, &report::json(file, &report, saved.as_deref()))
                .context("writing JSON")?;
            writeln!(out)?;
        } else {
            report::text::write(&mut out, file, &report, args.conn, saved.as_deref())?;
        }
    }
    out.flush()?;
    Ok(outcome)
}
