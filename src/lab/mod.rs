//! `recvscope lab`: guided experiments on loopback. Each starts its own
//! lab servers, arms every capture first (so one privilege drop serves
//! all runs), runs the fetches, saves captures and recv logs in a new
//! directory of its own (`runs/lab-NAME-YYYYMMDD-HHMMSS/RUN.pcap`), and
//! ends with a side-by-side comparison, what to look for, and the commands
//! that repeat it by hand.

mod config;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;

use crate::analysis::lab_run::{self, RunSummary};
use crate::capture::live::LiveConfig;
use crate::capture::privilege;
use crate::clock::{now_ns, utc_stamp};
use crate::fetch::command::FetchJson;
use crate::fetch::request::HttpVersion;
use crate::fetch::url::Url;
use crate::fetch::{self, BodyOut, FetchSpec, Fetched, SavePaths};
use crate::graph::Pictures;
use crate::report::lab::experiments::{self, Experiment, RunFigures, RunSpec};
use crate::report::lab::{self as words, RunReport, SavedRun};
use crate::serve::{RunningServer, Server, ServerConfig};

pub use config::LabConfig;
use config::LabRun;

/// Kernel capture buffer per run: the bodies are small, and every run's
/// capture is open from the start.
const LAB_CAPTURE_BUFFER: u32 = 8 << 20;

/// The `lab --json` document.
#[derive(Serialize)]
struct LabJson<'a> {
    lab: &'a str,
    summary: &'a str,
    runs: Vec<RunJson<'a>>,
    look_for: Vec<LookForJson>,
}

/// A "what to look for" sentence as printed, and whether the runs bore out
/// its claims (`None`: no capture to check them against).
#[derive(Serialize)]
struct LookForJson {
    text: String,
    held: Option<bool>,
}

#[derive(Serialize)]
struct RunJson<'a> {
    label: &'a str,
    commands: [String; 2],
    summary: &'a RunSummary,
    fetch: FetchJson<'a>,
}

/// A run that has finished.
struct Done {
    spec: &'static RunSpec,
    commands: [String; 2],
    fetched: Fetched,
    summary: RunSummary,
    /// Graph and page files written for it.
    pictures: Vec<PathBuf>,
}

/// Runs `recvscope lab`.
pub fn run(cfg: &LabConfig) -> anyhow::Result<()> {
    match cfg {
        LabConfig::List => Ok(words::list(&mut io::stdout().lock())?),
        LabConfig::Run(lab) => run_lab(lab),
    }
}

/// Runs one experiment: arms every run, drops privileges, runs them in
/// turn, then compares.
fn run_lab(lab: &LabRun) -> anyhow::Result<()> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let exp = lab.experiment;
    let mut armed = Vec::new();
    for spec in exp.runs {
        let server = Server::bind(ServerConfig {
            rate: spec.server_rate,
            round_trip: spec.server_rtt_ms.map(Duration::from_millis),
            ..ServerConfig::default()
        })?
        .spawn();
        let fetch = fetch::prepare(fetch_spec(spec, &server, lab.capture)?)?;
        armed.push((spec, server, fetch));
    }
    privilege::drop_to_invoking_user()?;
    let dir = fetch::new_run_dir(
        &lab.captures,
        &format!("lab-{}-{}", exp.name, utc_stamp(now_ns())),
    )?;
    if !lab.json {
        words::heading(&mut out, exp)?;
    }
    let total = armed.len();
    let mut done = Vec::new();
    for (i, (spec, server, prepared)) in armed.into_iter().enumerate() {
        let commands = experiments::commands(spec, 8080);
        if !lab.json {
            words::run_started(&mut out, i + 1, total, spec.label)?;
            out.flush()?;
        }
        let save = SavePaths::new(&dir, spec.slug, false)?;
        let client = prepared.client();
        let fetched = prepared
            .run(BodyOut::Discard, Some(save), None)
            .with_context(|| words::run_failed(exp.name, spec.label))?;
        let close = server.finish()?.into_iter().find(|c| c.peer == client);
        if !fetched.facts.complete {
            anyhow::bail!(words::body_ended_early(
                exp.name,
                spec.label,
                fetched.facts.body_bytes
            ));
        }
        let run_pictures = Pictures {
            svg: per_run(lab.pictures.svg.as_deref(), spec.slug),
            html: per_run(lab.pictures.html.as_deref(), spec.slug),
        };
        fetched.write_graphs(&run_pictures)?;
        let pictures: Vec<PathBuf> = run_pictures
            .svg
            .into_iter()
            .chain(run_pictures.html)
            .collect();
        let summary = lab_run::summarize(
            spec.label,
            fetched.run.rcvbuf,
            &fetched.rows,
            fetched.connection(),
        )
        .with_kernel(
            close.as_ref().and_then(|c| c.tcp_info),
            close.map_or(0, |c| c.ts_ns - c.opened_ns),
        );
        if !lab.json {
            words::run_finished(&mut out, &summary)?;
        }
        done.push(Done {
            spec,
            commands,
            fetched,
            summary,
            pictures,
        });
    }
    if lab.json {
        let reports = run_reports(&done);
        let figures: Vec<RunFigures<'_>> = reports
            .iter()
            .map(|r| RunFigures {
                summary: r.summary,
                lesson: r.lesson,
            })
            .collect();
        let look_for = exp
            .look_for
            .iter()
            .map(|look| LookForJson {
                text: words::look_for(look, &reports, &figures),
                held: look.misses(&figures).map(|m| m.is_empty()),
            })
            .collect();
        let doc = LabJson {
            lab: exp.name,
            summary: exp.summary,
            runs: done
                .iter()
                .map(|d| RunJson {
                    label: d.spec.label,
                    commands: d.commands.clone(),
                    summary: &d.summary,
                    fetch: FetchJson::new(&d.fetched),
                })
                .collect(),
            look_for,
        };
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        report(&mut out, exp, &done)?;
    }
    out.flush()?;
    Ok(())
}

/// `book.svg` → `book-delay.svg`: one file per run.
fn per_run(path: Option<&Path>, slug: &str) -> Option<PathBuf> {
    let path = path?;
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{slug}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{slug}"),
    };
    Some(path.with_file_name(name))
}

fn fetch_spec(spec: &RunSpec, server: &RunningServer, capture: bool) -> anyhow::Result<FetchSpec> {
    Ok(FetchSpec {
        url: Url::parse(&server.url("/cover3.jpg"))?,
        http: HttpVersion::V10,
        recv_size: spec.recv_size,
        delay: (spec.delay_ms > 0).then(|| Duration::from_millis(spec.delay_ms)),
        rcvbuf: spec.rcvbuf,
        timeout: Duration::from_secs(30),
        capture: capture.then_some(LiveConfig {
            interface: None,
            snaplen: 0,
            buffer: LAB_CAPTURE_BUFFER,
        }),
    })
}

/// The lab's report, in render's words.
fn report(out: &mut dyn Write, exp: &Experiment, done: &[Done]) -> io::Result<()> {
    words::report(out, exp, &run_reports(done))
}

/// The finished runs as render's report takes them.
fn run_reports(done: &[Done]) -> Vec<RunReport<'_>> {
    done.iter()
        .map(|d| RunReport {
            label: d.spec.label,
            rows: &d.fetched.rows,
            summary: &d.summary,
            lesson: &d.fetched.lesson,
            header: &d.fetched.facts.header,
            header_length: d.fetched.facts.header_length,
            body_bytes: d.fetched.facts.body_bytes,
            explanation: &d.fetched.explanation,
            commands: &d.commands,
            saved: d.fetched.save.as_ref().map(|s| SavedRun {
                pcap: d.fetched.capture.is_some().then_some(s.pcap.as_path()),
                log: &s.log,
            }),
            pictures: &d.pictures,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_run_gets_its_own_picture_file() {
        assert_eq!(
            per_run(Some(Path::new("out/book.svg")), "delay"),
            Some(PathBuf::from("out/book-delay.svg"))
        );
        assert_eq!(
            per_run(Some(Path::new("page")), "4k"),
            Some(PathBuf::from("page-4k"))
        );
        assert_eq!(per_run(None, "x"), None);
    }

    #[test]
    fn limited_by_is_the_connection_summarys_verdict() {
        use crate::analysis::{NoBodies, Rcvbuf};
        use crate::capture::records::Reading;
        for (name, receiver) in [("lab-book-delay.pcap", true), ("book-nodelay.pcap", false)] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("captures")
                .join(name);
            let (report, _) =
                crate::replay::analyse_file(&path, None, Reading::Inline, &mut NoBodies)
                    .expect(name);
            let conn = report.connections.first().expect("a connection");
            let s = lab_run::summarize("x", Rcvbuf::default(), &[], Some(conn));
            let wire = s.wire.expect("wire figures");
            assert_eq!(
                wire.receiver_limited, conn.tcp.flow_control.receiver_limited,
                "{name}"
            );
            assert_eq!(wire.receiver_limited, receiver, "{name}");
        }
    }
}
