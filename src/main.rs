//! The recvscope binary: parse arguments, run a command, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;
use recvscope::capture::file::OpenError;
use recvscope::cli::{Cli, Command};
use recvscope::fetch::FetchConfig;
use recvscope::lab::LabConfig;
use recvscope::replay::{self, Outcome, ReplayConfig};
use recvscope::serve::{self, ServeConfig};

/// A faster allocator: replay allocates per connection and per HTTP message.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Arguments become the command's config, checked, then the command runs.
    let result = match &cli.command {
        Command::Fetch(args) => FetchConfig::from_args(args)
            .map_err(anyhow::Error::from)
            .and_then(|c| recvscope::fetch::command::run(&c))
            .map(|()| Outcome::Ok),
        Command::Lab(args) => LabConfig::from_args(args)
            .map_err(anyhow::Error::from)
            .and_then(|c| recvscope::lab::run(&c))
            .map(|()| Outcome::Ok),
        Command::Replay(args) => ReplayConfig::from_args(args)
            .map_err(anyhow::Error::from)
            .and_then(|c| replay::run(&c)),
        Command::Serve(args) => ServeConfig::from_args(args)
            .map_err(anyhow::Error::from)
            .and_then(|c| serve::command::run(&c))
            .map(|()| Outcome::Ok),
    };
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Damaged) => ExitCode::from(replay::EXIT_DAMAGED),
        Ok(Outcome::BadInput) => ExitCode::from(replay::EXIT_BAD_INPUT),
        Ok(Outcome::Unreadable) => ExitCode::FAILURE,
        Err(e) => {
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            if e.downcast_ref::<recvscope::fetch::Interrupted>().is_some() {
                eprintln!("recvscope: {}", e.root_cause());
                return ExitCode::from(recvscope::interrupt::EXIT_INTERRUPTED);
            }
            let bad_input = e.downcast_ref::<OpenError>().is_some_and(|o| {
                matches!(
                    o,
                    OpenError::NotACapture { .. }
                        | OpenError::UnknownLinkType { .. }
                        | OpenError::Empty { .. }
                        | OpenError::NotAFile { .. }
                )
            });
            let msg: Vec<String> = e.chain().map(ToString::to_string).collect();
            eprintln!("recvscope: {}", msg.join(": "));
            ExitCode::from(if bad_input { replay::EXIT_BAD_INPUT } else { 1 })
        }
    }
}
