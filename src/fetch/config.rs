//! `recvscope fetch`'s config: the command-line arguments checked and
//! turned into what [`super::command::run`] does, so no flag is read twice
//! and the command never sees clap.

use std::path::PathBuf;
use std::time::Duration;

use crate::capture::live::LiveConfig;
use crate::cli::{FetchArgs, HttpArg};
use crate::graph::Pictures;

use super::request::HttpVersion;
use super::url::{Url, UrlError};

/// What `recvscope fetch` runs.
#[derive(Clone, Debug)]
pub struct FetchConfig {
    /// `None`: the built-in image from a lab server started on loopback.
    pub(crate) url: Option<Url>,
    pub(crate) http: HttpVersion,
    pub(crate) recv_size: u32,
    pub(crate) delay: Option<Duration>,
    pub(crate) rcvbuf: Option<u64>,
    pub(crate) timeout: Duration,
    pub(crate) body: BodyTo,
    /// Overwrite the body and the saved run.
    pub(crate) force: bool,
    pub(crate) save: Save,
    /// Directory for saved runs.
    pub(crate) captures: PathBuf,
    /// `None`: no capture (`--no-capture`).
    pub(crate) capture: Option<LiveConfig>,
    pub(crate) pictures: Pictures,
    pub(crate) json: bool,
}

/// Where the body goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BodyTo {
    /// The URL's file name, in the current directory.
    UrlName,
    /// `-o FILE`.
    File(PathBuf),
    /// `--discard-body`.
    Nowhere,
}

/// Whether and under which name the run is saved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Save {
    /// `--no-save`.
    No,
    /// `--save NAME`.
    Named(String),
    /// A name from the URL and the time.
    Default,
}

/// Arguments that cannot make a fetch.
#[derive(Debug, thiserror::Error)]
pub enum FetchConfigError {
    #[error(transparent)]
    Url(#[from] UrlError),
}

impl FetchConfig {
    /// Checks `args` and makes the config.
    pub fn from_args(args: &FetchArgs) -> Result<FetchConfig, FetchConfigError> {
        let url = args.url.as_deref().map(Url::parse).transpose()?;
        Ok(FetchConfig {
            url,
            http: match args.http {
                HttpArg::V10 => HttpVersion::V10,
                HttpArg::V11 => HttpVersion::V11,
            },
            recv_size: args.recv_size,
            delay: args.delay,
            rcvbuf: args.rcvbuf,
            timeout: args.timeout,
            body: match (&args.output, args.discard_body) {
                (_, true) => BodyTo::Nowhere,
                (Some(file), false) => BodyTo::File(file.clone()),
                (None, false) => BodyTo::UrlName,
            },
            force: args.force,
            save: match (&args.save, args.no_save) {
                (_, true) => Save::No,
                (Some(name), false) => Save::Named(name.clone()),
                (None, false) => Save::Default,
            },
            captures: args.captures.clone(),
            capture: (!args.no_capture).then(|| LiveConfig {
                interface: args.interface.clone(),
                snaplen: args.snaplen,
                buffer: args.capture_buffer,
            }),
            pictures: Pictures {
                svg: args.graph.clone(),
                html: args.html.clone(),
            },
            json: args.json,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Command;
    use crate::cli::tests::command;

    fn config(argv: &[&str]) -> Result<FetchConfig, FetchConfigError> {
        match command(&[&["fetch"], argv].concat()) {
            Command::Fetch(args) => FetchConfig::from_args(&args),
            other => panic!("not fetch: {other:?}"),
        }
    }

    #[test]
    fn flags_become_one_config() {
        let c = config(&[
            "http://h/x.jpg",
            "--http",
            "1.1",
            "--no-capture",
            "--no-save",
        ])
        .expect("valid");
        assert_eq!(
            c.url.map(|u| u.to_string()).as_deref(),
            Some("http://h/x.jpg")
        );
        assert_eq!(c.http, HttpVersion::V11);
        assert!(c.capture.is_none());
        assert_eq!(c.save, Save::No);
        assert_eq!(c.body, BodyTo::UrlName);
        let c = config(&["--save", "run", "--snaplen", "0", "--discard-body"]).expect("valid");
        assert!(c.url.is_none());
        assert_eq!(c.save, Save::Named("run".into()));
        assert_eq!(c.capture.map(|l| l.snaplen), Some(0));
        assert_eq!(c.body, BodyTo::Nowhere);
        let c = config(&[]).expect("valid");
        assert_eq!(c.save, Save::Default);
        assert_eq!(c.body, BodyTo::UrlName);
        let c = config(&["-o", "x.jpg"]).expect("valid");
        assert_eq!(c.body, BodyTo::File("x.jpg".into()));
    }

    #[test]
    fn a_bad_url_reads_as_the_url_error() {
        let e = config(&["ftp://h/x"]).expect_err("not http");
        assert_eq!(
            e.to_string(),
            UrlError::Scheme("ftp://h/x".into()).to_string()
        );
        assert!(std::error::Error::source(&e).is_none());
    }
}
