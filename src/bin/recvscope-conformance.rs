//! Conformance check: recvscope's analysis-flag counts against tshark's.
//!
//! For every capture in a directory, runs tshark once (`-T fields` with all
//! fourteen `tcp.analysis.*` fields and `tcp.options.sack.dsack_le`) and
//! recvscope's analysis, and prints one row per capture and count: each
//! flag, and `dsack`, the segments carrying a D-SACK ("D-SACK Sequence").
//! A capture either side cannot read is a failure of its own (a `readable`
//! row, 1 or 0 for each side), never a row of agreeing zeros; its flags are
//! not compared. Exits non-zero when a count differs, or a side cannot read a
//! capture, and it is not listed, with its reason, in the exceptions file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};
use recvscope::analysis::NoBodies;
use recvscope::capture::records::Reading;
use recvscope::replay::analyse_file;
use recvscope::tcp::Flag;

struct Exception {
    ours: u64,
    tshark: u64,
    reason: String,
}

fn usage() -> &'static str {
    "usage: recvscope-conformance DIR [--exceptions FILE] [--tshark PATH]"
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("recvscope-conformance: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<bool> {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let mut exceptions_file = None;
    let mut tshark = PathBuf::from("tshark");
    while let Some(a) = args.next() {
        match a.as_str() {
            "--exceptions" => exceptions_file = Some(PathBuf::from(args.next().context(usage())?)),
            "--tshark" => tshark = PathBuf::from(args.next().context(usage())?),
            "-h" | "--help" => {
                println!("{}", usage());
                return Ok(true);
            }
            _ if dir.is_none() => dir = Some(PathBuf::from(a)),
            _ => bail!("{}", usage()),
        }
    }
    let dir = dir.context(usage())?;
    let exceptions = match &exceptions_file {
        Some(f) => read_exceptions(f)?,
        None => HashMap::new(),
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "pcap" || e == "pcapng" || e == "cap")
        })
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("no .pcap/.pcapng files in {}", dir.display());
    }

    println!(
        "{:<58} {:<24} {:>9} {:>7}  status",
        "capture", "flag", "recvscope", "tshark"
    );
    let (mut compared, mut mismatches, mut excused, mut stale) = (0u64, 0u64, 0u64, 0u64);
    let mut seen_exceptions = 0usize;
    for file in &files {
        let name = file
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let theirs = tshark_counts(&tshark, file)?;
        let ours: Option<HashMap<&str, u64>> =
            match analyse_file(file, None, Reading::Ahead, &mut NoBodies) {
                Ok((report, _)) => {
                    let dsacks = report
                        .connections
                        .iter()
                        .map(|c| &c.tcp.flow_control.pace)
                        .map(|p| p.client.retransmissions.dsacks + p.server.retransmissions.dsacks)
                        .sum();
                    Some(
                        Flag::WIRESHARK
                            .iter()
                            .map(|f| (f.name(), report.flags.get(*f)))
                            .chain([(DSACK, dsacks)])
                            .collect(),
                    )
                }
                Err(_) => None,
            };
        if let Some(code) = theirs.failed.filter(|_| theirs.frames > 0) {
            println!(
                "note: tshark exited {code} on {name} after {} frame(s): a damaged file, compared as far as both read it",
                theirs.frames
            );
        }
        let tshark_read = theirs.failed.is_none() || theirs.frames > 0;
        let both = match (ours, tshark_read) {
            (Some(o), true) => Some(o),
            (o, t) => {
                compared += 1;
                let (o, t) = (u64::from(o.is_some()), u64::from(t));
                let status = match exceptions.get(&(name.clone(), READABLE.to_string())) {
                    Some(ex) if ex.ours == o && ex.tshark == t => {
                        seen_exceptions += 1;
                        excused += 1;
                        format!("EXCEPTION: {}", ex.reason)
                    }
                    Some(ex) => {
                        seen_exceptions += 1;
                        stale += 1;
                        format!(
                            "STALE EXCEPTION (listed {} vs {}): {}",
                            ex.ours, ex.tshark, ex.reason
                        )
                    }
                    None => {
                        mismatches += 1;
                        "UNREADABLE: a side could not read the capture, so nothing was compared"
                            .to_string()
                    }
                };
                println!("{name:<58} {READABLE:<24} {o:>9} {t:>7}  {status}");
                None
            }
        };
        let Some(ours) = both else {
            continue;
        };
        let theirs = theirs.counts;
        for count in compared_counts() {
            compared += 1;
            let o = ours.get(count).copied().unwrap_or(0);
            let t = theirs.get(count).copied().unwrap_or(0);
            let status = match exceptions.get(&(name.clone(), count.to_string())) {
                Some(ex) => {
                    seen_exceptions += 1;
                    if ex.ours == o && ex.tshark == t {
                        excused += 1;
                        format!("EXCEPTION: {}", ex.reason)
                    } else {
                        stale += 1;
                        format!(
                            "STALE EXCEPTION (listed {} vs {}): {}",
                            ex.ours, ex.tshark, ex.reason
                        )
                    }
                }
                None if o == t => "ok".to_string(),
                None => {
                    mismatches += 1;
                    "MISMATCH".to_string()
                }
            };
            if o != 0 || t != 0 || status != "ok" {
                println!("{name:<58} {count:<24} {o:>9} {t:>7}  {status}");
            }
        }
    }
    println!(
        "\n{} captures, {compared} counts compared (rows with both counts 0 omitted), \
         {mismatches} unlisted mismatch(es), {excused} listed exception(s), {stale} stale exception(s)",
        files.len()
    );
    if seen_exceptions < exceptions.len() {
        println!(
            "note: {} exception(s) name captures or flags not in {}",
            exceptions.len() - seen_exceptions,
            dir.display()
        );
    }
    Ok(mismatches == 0 && stale == 0)
}

/// The count of segments carrying a D-SACK block, beside the flags.
const DSACK: &str = "dsack";

/// The row of a capture a side could not read: 1 if it read it, 0 if not.
const READABLE: &str = "readable";

/// What is compared for each capture: the flags by name, then [`DSACK`].
fn compared_counts() -> impl Iterator<Item = &'static str> {
    Flag::WIRESHARK.iter().map(|f| f.name()).chain([DSACK])
}

/// What tshark made of one capture.
struct TsharkRead {
    /// Frames carrying each flag, and a D-SACK.
    counts: HashMap<&'static str, u64>,
    /// Frames it printed.
    frames: u64,
    /// Its exit code when it failed (`-1`: killed by a signal).
    failed: Option<i32>,
}

/// Frames carrying each flag, and a D-SACK, as `tshark -T fields` reports
/// them, with how many frames it read and whether it failed.
fn tshark_counts(tshark: &Path, file: &Path) -> anyhow::Result<TsharkRead> {
    let mut cmd = Command::new(tshark);
    cmd.arg("-n").arg("-r").arg(file).args([
        "-T",
        "fields",
        "-E",
        "separator=/t",
        "-E",
        "occurrence=f",
        "-e",
        "frame.number",
    ]);
    for f in Flag::WIRESHARK {
        cmd.arg("-e").arg(format!("tcp.analysis.{}", f.name()));
    }
    cmd.arg("-e").arg("tcp.options.sack.dsack_le");
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {} (install tshark)", tshark.display()))?;
    let mut counts = HashMap::new();
    let mut frames = 0;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut fields = line.split('\t');
        if fields.next().is_some_and(|n| !n.is_empty()) {
            frames += 1;
        }
        for (count, field) in compared_counts().zip(fields) {
            if !field.is_empty() {
                *counts.entry(count).or_insert(0) += 1;
            }
        }
    }
    Ok(TsharkRead {
        counts,
        frames,
        failed: (!out.status.success()).then(|| out.status.code().unwrap_or(-1)),
    })
}

/// Reads `capture<TAB>flag<TAB>recvscope<TAB>tshark<TAB>reason` lines.
fn read_exceptions(path: &Path) -> anyhow::Result<HashMap<(String, String), Exception>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read exceptions file {}", path.display()))?;
    let mut map = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.splitn(5, '\t').collect();
        let [file, flag, ours, theirs, reason] = cols[..] else {
            bail!(
                "{}:{}: expected 5 tab-separated columns",
                path.display(),
                n + 1
            );
        };
        if flag != READABLE && !compared_counts().any(|c| c == flag) {
            bail!("{}:{}: unknown count {flag}", path.display(), n + 1);
        }
        let parse = |s: &str| {
            s.parse::<u64>()
                .with_context(|| format!("{}:{}: bad count {s}", path.display(), n + 1))
        };
        map.insert(
            (file.to_string(), flag.to_string()),
            Exception {
                ours: parse(ours)?,
                tshark: parse(theirs)?,
                reason: reason.to_string(),
            },
        );
    }
    Ok(map)
}
