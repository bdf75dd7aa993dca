//! The recvscope binary: parse arguments, run a command, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;
use recvscope::capture::file::OpenError;
use recvscope::cli::{Cli, Command};
use recvscope::replay::{self, Outcome};
use recvscope::serve;

/// A faster allocator: replay allocates per connection and per HTTP message.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Fetch(args) => recvscope::fetch::command::run(args).map(|()| Outcome::Ok),
        Command::Lab(args) => recvscope::lab::run(args).map(|()| Outcome::Ok),
        Command::Replay(args) => replay::run(args),
        Command::Serve(args) => serve::command::run(args).map(|()| Outcome::Ok),
    };
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Damaged) => ExitCode::from(replay::EXIT_DAMAGED),
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
                )
            });
            let msg: Vec<String> = e.chain().map(ToString::to_string).collect();
            eprintln!("recvscope: {}", msg.join(": "));
            ExitCode::from(if bad_input { replay::EXIT_BAD_INPUT } else { 1 })
        }
    }
}
