//! Command-line arguments, as close to the flags as possible.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::units::parse_size;

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
    /// Serve the book's image, synthetic bodies or a directory over HTTP/1.x, logging every send.
    Serve(ServeArgs),
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

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Port to listen on; 0 lets the system pick one (the URL is printed).
    #[arg(long, value_name = "N", default_value_t = 8080)]
    pub port: u16,
    /// Serve the files under DIR instead of the built-in image and synthetic bodies.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Pace every body to this many bytes per second (suffixes k, M, G: 1024-based).
    #[arg(long, value_name = "BYTES_PER_S", value_parser = positive_size)]
    pub rate: Option<u64>,
    /// Ask for this SO_SNDBUF on each connection (Linux sets double).
    #[arg(long, value_name = "BYTES", value_parser = positive_size)]
    pub sndbuf: Option<u64>,
    /// Write every send and response to FILE as JSON Lines.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// No summary line per request on stderr.
    #[arg(long)]
    pub quiet: bool,
}

fn positive_size(text: &str) -> Result<u64, String> {
    match parse_size(text)? {
        0 => Err("must be more than 0".to_string()),
        n => Ok(n),
    }
}
