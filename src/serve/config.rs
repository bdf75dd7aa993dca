//! `recvscope serve`'s config: the command-line arguments checked and
//! turned into the server's, so the command never sees clap.

use std::net::SocketAddr;
use std::num::TryFromIntError;

use crate::cli::ServeArgs;

use super::ServerConfig;

/// What `recvscope serve` runs.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// Quiet or not, no records kept: a long-running server.
    pub(crate) server: ServerConfig,
}

/// Arguments that cannot make a server.
#[derive(Debug, thiserror::Error)]
pub enum ServeConfigError {
    #[error("--sndbuf is too large")]
    SndbufTooLarge(#[source] TryFromIntError),
}

impl ServeConfig {
    /// Checks `args` and makes the config.
    pub fn from_args(args: &ServeArgs) -> Result<ServeConfig, ServeConfigError> {
        let sndbuf = args
            .sndbuf
            .map(usize::try_from)
            .transpose()
            .map_err(ServeConfigError::SndbufTooLarge)?;
        Ok(ServeConfig {
            server: ServerConfig {
                bind: SocketAddr::new(args.bind, args.port),
                root: args.root.clone(),
                rate: args.rate,
                round_trip: args.rtt,
                sndbuf,
                log: args.log.clone(),
                summaries: !args.quiet,
                keep_records: false,
                ..ServerConfig::default()
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Command;
    use crate::cli::tests::command;

    #[test]
    fn flags_become_the_servers_config() {
        let Command::Serve(args) = command(&["serve", "--port", "0", "--sndbuf", "4k", "--quiet"])
        else {
            panic!("not serve");
        };
        let c = ServeConfig::from_args(&args).expect("valid").server;
        assert_eq!(c.bind, SocketAddr::from(([127, 0, 0, 1], 0)));
        assert_eq!(c.sndbuf, Some(4096));
        assert!(!c.summaries && !c.keep_records);
    }
}
