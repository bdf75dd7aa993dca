//! `recvscope lab`'s config: the command-line arguments checked (the lab
//! must exist) and turned into what [`super::run`] does.

use std::path::PathBuf;

use crate::cli::LabArgs;

use crate::report::lab::experiments::{self, Experiment};

/// What `recvscope lab` does.
#[derive(Clone, Debug)]
pub enum LabConfig {
    /// `--list`: describe the experiments.
    List,
    /// Run one experiment.
    Run(LabRun),
}

/// One experiment to run, and where its results go.
#[derive(Clone, Debug)]
pub struct LabRun {
    pub(crate) experiment: &'static Experiment,
    /// Directory for the saved captures and recv logs.
    pub(crate) captures: PathBuf,
    /// False with `--no-capture`: socket-side figures only.
    pub(crate) capture: bool,
    /// `--graph`: each run's graph is this name with the run's slug added.
    pub(crate) graph: Option<PathBuf>,
    /// `--html`: the experiment's page.
    pub(crate) page: Option<PathBuf>,
    /// `--force`: the page may replace a file.
    pub(crate) force: bool,
    pub(crate) json: bool,
}

/// Arguments that cannot make a lab.
#[derive(Debug, thiserror::Error)]
pub enum LabConfigError {
    #[error("there is no lab called {0:?}; `recvscope lab --list` lists them")]
    NoSuchLab(String),
}

impl LabConfig {
    /// Checks `args` and makes the config; `--list` wins over a name.
    pub fn from_args(args: &LabArgs) -> Result<LabConfig, LabConfigError> {
        if args.list {
            return Ok(LabConfig::List);
        }
        let name = args.name.as_deref().unwrap_or("book");
        let experiment =
            experiments::find(name).ok_or_else(|| LabConfigError::NoSuchLab(name.to_string()))?;
        Ok(LabConfig::Run(LabRun {
            experiment,
            captures: args.captures.clone(),
            capture: !args.no_capture,
            graph: args.graph.clone(),
            page: args.html.clone(),
            force: args.force,
            json: args.json,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Command;
    use crate::cli::tests::command;

    fn config(argv: &[&str]) -> Result<LabConfig, LabConfigError> {
        match command(&[&["lab"], argv].concat()) {
            Command::Lab(args) => LabConfig::from_args(&args),
            other => panic!("not lab: {other:?}"),
        }
    }

    #[test]
    fn the_lab_is_found_by_name_and_book_is_the_default() {
        let Ok(LabConfig::Run(run)) = config(&[]) else {
            panic!("book runs");
        };
        assert_eq!(run.experiment.name, "book");
        assert!(run.capture);
        let Ok(LabConfig::Run(run)) = config(&["slow-reader", "--no-capture"]) else {
            panic!("slow-reader runs");
        };
        assert_eq!(run.experiment.name, "slow-reader");
        assert!(!run.capture);
        assert_eq!((run.page, run.force), (None, false));
        let Ok(LabConfig::Run(run)) = config(&["--html", "book.html", "--no-capture", "--force"])
        else {
            panic!("a page without a capture");
        };
        assert_eq!(
            (run.page, run.force, run.capture),
            (Some(PathBuf::from("book.html")), true, false)
        );
        assert!(matches!(config(&["nope", "--list"]), Ok(LabConfig::List)));
        let e = config(&["nope"]).expect_err("no such lab");
        assert_eq!(
            e.to_string(),
            "there is no lab called \"nope\"; `recvscope lab --list` lists them"
        );
    }
}
