//! Command-line arguments, as close to the flags as possible.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// TCP flow control on the wire next to what the application sees.
#[derive(Debug, Parser)]
#[command(name = "recvscope", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Explain every TCP connection (and its HTTP) in saved captures.
    Replay(ReplayArgs),
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Capture files: pcap, nanosecond pcap or pcapng.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print one JSON document instead of the text report.
    #[arg(long)]
    pub json: bool,
    /// List connection N (as numbered in the report) packet by packet.
    #[arg(long, value_name = "N")]
    pub conn: Option<u64>,
    /// Write every HTTP body to DIR, under names recvscope makes.
    #[arg(long, value_name = "DIR")]
    pub extract: Option<PathBuf>,
}
