//! `recvscope replay`'s config: the command-line arguments checked and
//! turned into what [`super::run`] does, so the command never sees clap.

use std::path::PathBuf;

use crate::capture::records::Reading;
use crate::cli::ReplayArgs;
use crate::graph::Pictures;

/// What `recvscope replay` does.
#[derive(Clone, Debug)]
pub struct ReplayConfig {
    /// Capture files, at least one.
    pub(crate) files: Vec<PathBuf>,
    pub(crate) json: bool,
    /// `--conn N`: the connection listed packet by packet.
    pub(crate) conn: Option<u64>,
    /// `--extract DIR`.
    pub(crate) extract: Option<PathBuf>,
    /// Drawn of one connection; only with one file.
    pub(crate) pictures: Pictures,
    pub(crate) tcp_lab: bool,
    /// Files analysed side by side.
    pub(crate) jobs: usize,
    pub(crate) reading: Reading,
}

/// Arguments that cannot make a replay.
#[derive(Debug, thiserror::Error)]
pub enum ReplayConfigError {
    #[error("--graph and --html draw one connection: give one capture file")]
    PicturesOfSeveralFiles,
}

impl ReplayConfig {
    /// Checks `args` and makes the config; `--jobs` defaults to one per core.
    pub fn from_args(args: &ReplayArgs) -> Result<ReplayConfig, ReplayConfigError> {
        let pictures = Pictures {
            svg: args.graph.clone(),
            html: args.html.clone(),
        };
        let files: Vec<PathBuf> = args.read.iter().chain(&args.files).cloned().collect();
        if pictures.wanted() && files.len() > 1 {
            return Err(ReplayConfigError::PicturesOfSeveralFiles);
        }
        let jobs = args.jobs.map_or_else(
            || std::thread::available_parallelism().map_or(1, usize::from),
            usize::from,
        );
        Ok(ReplayConfig {
            files,
            json: args.json,
            conn: args.conn,
            extract: args.extract.clone(),
            pictures,
            tcp_lab: args.tcp_lab,
            jobs,
            // A helper thread reading ahead pays off even with a worker per
            // core: a worker left alone on the last file then has both cores.
            reading: if jobs < 2 {
                Reading::Inline
            } else {
                Reading::Ahead
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Command;
    use crate::cli::tests::command;

    fn config(argv: &[&str]) -> Result<ReplayConfig, ReplayConfigError> {
        match command(&[&["replay"], argv].concat()) {
            Command::Replay(args) => ReplayConfig::from_args(&args),
            other => panic!("not replay: {other:?}"),
        }
    }

    #[test]
    fn one_job_reads_inline_and_more_read_ahead() {
        let c = config(&["a.pcap", "b.pcap", "-j", "1"]).expect("valid");
        assert_eq!((c.jobs, c.reading), (1, Reading::Inline));
        let c = config(&["a.pcap", "-j", "3", "--graph", "x.svg"]).expect("valid");
        assert_eq!((c.jobs, c.reading), (3, Reading::Ahead));
        assert!(c.pictures.wanted());
    }

    #[test]
    fn pictures_need_exactly_one_file() {
        let e = config(&["a.pcap", "b.pcap", "--html", "x.html"]).expect_err("two files");
        assert_eq!(
            e.to_string(),
            "--graph and --html draw one connection: give one capture file"
        );
    }
}
