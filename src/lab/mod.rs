//! `recvscope lab`: guided experiments on loopback. Each starts its own
//! lab servers, arms every capture first (so one privilege drop serves
//! all runs), runs the fetches, saves captures and recv logs in a new
//! directory of its own (`runs/lab-NAME-YYYYMMDD-HHMMSS/RUN.pcap`), and
//! ends with a side-by-side comparison, what to look for, and the commands
//! that repeat it by hand; `--html` puts all of it, with each run's graph and
//! the lab guide's answers, on one page.

mod config;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;

use crate::analysis::lab_guide::{self, Head, RunGuide};
use crate::analysis::lab_run::{self, RunSummary};
use crate::atomic_file;
use crate::capture::live::LiveConfig;
use crate::capture::privilege;
use crate::clock::{now_ns, utc_stamp};
use crate::fetch::command::FetchJson;
use crate::fetch::request::HttpVersion;
use crate::fetch::url::Url;
use crate::fetch::{self, BodyOut, FetchSpec, Fetched, SavePaths};
use crate::graph::Pictures;
use crate::report::lab::experiments::{self, Experiment, RunSpec};
use crate::report::lab::page::{self, PageRun};
use crate::report::lab::{self as words, RunReport, SavedRun};
use crate::serve::{Server, ServerConfig};

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
    guide: RunGuide,
    /// Graph files written for it.
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
        })?;
        let fetch = fetch::prepare(fetch_spec(spec, &server, lab.capture)?)?;
        armed.push((spec, server, fetch));
    }
    privilege::drop_to_invoking_user()?;
    // Started after the drop, so no server thread holds capabilities.
    let armed: Vec<_> = armed
        .into_iter()
        .map(|(spec, server, fetch)| (spec, server.spawn(), fetch))
        .collect();
    if let Some(path) = &lab.page
        && !lab.force
        && std::fs::symlink_metadata(path).is_ok()
    {
        anyhow::bail!(page::page_exists(path));
    }
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
            svg: per_run(lab.graph.as_deref(), spec.slug),
            html: None,
        };
        fetched.write_graphs(&run_pictures)?;
        let pictures: Vec<PathBuf> = run_pictures.svg.into_iter().collect();
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
        let guide = lab_guide::run_guide(
            &fetched.rows,
            fetched.connection(),
            fetched.run.request_ts_ns,
            Head {
                header_length: fetched.facts.header_length,
                blank_line: fetched.facts.header_terminator,
                body_bytes: fetched.facts.body_bytes,
            },
        );
        done.push(Done {
            spec,
            commands,
            fetched,
            summary,
            guide,
            pictures,
        });
    }
    if lab.json {
        let owned = run_reports(&done);
        let reports: Vec<&RunReport<'_>> = owned.iter().collect();
        let figures = words::run_figures(&reports);
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
        words::report(&mut out, exp, &run_reports(&done))?;
    }
    if let Some(path) = &lab.page {
        write_page(path, &experiment_page(exp, &done), lab.force)?;
        if !lab.json {
            page::page_written(&mut out, path)?;
        }
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

fn fetch_spec(spec: &RunSpec, server: &Server, capture: bool) -> anyhow::Result<FetchSpec> {
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

/// The finished runs as the lab's report tells them.
fn run_reports(done: &[Done]) -> Vec<RunReport<'_>> {
    done.iter()
        .map(|d| RunReport {
            label: d.spec.label,
            rows: &d.fetched.rows,
            summary: &d.summary,
            lesson: &d.fetched.lesson,
            header: &d.fetched.facts.header,
            arithmetic: &d.guide.arithmetic,
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

/// The experiment's page, in render's words.
fn experiment_page(exp: &Experiment, done: &[Done]) -> String {
    let reports = run_reports(done);
    let runs: Vec<PageRun<'_>> = done
        .iter()
        .zip(&reports)
        .map(|(d, report)| PageRun {
            report,
            connection: d.fetched.connection(),
            request_ts_ns: d.fetched.run.request_ts_ns,
            guide: &d.guide,
        })
        .collect();
    let summaries: Vec<RunSummary> = done.iter().map(|d| d.summary.clone()).collect();
    page::page(exp, &runs, lab_guide::unlimited_from(&summaries))
}

/// Writes the page whole, as a new file; with `force` it may replace one.
fn write_page(path: &Path, html: &str, force: bool) -> anyhow::Result<()> {
    let written = if force {
        atomic_file::write(path, html.as_bytes())
    } else {
        atomic_file::write_new(path, html.as_bytes())
    };
    match written {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            anyhow::bail!(page::page_exists(path))
        }
        other => other.with_context(|| format!("cannot write {}", path.display())),
    }
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
    fn the_page_is_a_new_file_unless_forced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("book.html");
        write_page(&path, "<p>1</p>", false).expect("a new file");
        let e = write_page(&path, "<p>2</p>", false).expect_err("exists");
        assert_eq!(
            e.to_string(),
            format!(
                "{} already exists; pass --force to replace it, or --html another FILE",
                path.display()
            )
        );
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "<p>1</p>");
        write_page(&path, "<p>3</p>", true).expect("forced");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "<p>3</p>");
        assert_eq!(
            crate::atomic_file::tests::names(dir.path()),
            ["book.html"],
            "no temporary file left"
        );
    }

    #[test]
    fn limited_by_is_the_connection_summarys_verdict_on_the_servers_sending() {
        use crate::analysis::{NoBodies, Rcvbuf};
        use crate::capture::records::Reading;
        use crate::tcp::LimitedBy;
        for (name, verdict) in [
            ("lab-book-delay.pcap", LimitedBy::Receiver),
            ("book-nodelay.pcap", LimitedBy::Sender),
        ] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("captures")
                .join(name);
            let (report, _) =
                crate::replay::analyse_file(&path, None, Reading::Inline, &mut NoBodies)
                    .expect(name);
            let conn = report.connections.first().expect("a connection");
            let s = lab_run::summarize("x", Rcvbuf::default(), &[], Some(conn));
            let wire = s.wire.expect("wire figures");
            assert_eq!(wire.pace, conn.tcp.flow_control.pace.server, "{name}");
            assert_eq!(wire.limited_by(), verdict, "{name}");
        }
    }
}
