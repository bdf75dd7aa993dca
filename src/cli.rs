//! Command-line arguments, as close to the flags as possible: clap's
//! definitions and the flags' defaults, nothing else. Each command turns
//! its arguments into its own config (`FetchConfig::from_args` and the
//! like), which is where flags are checked against each other.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::units::parse_size;

/// `fetch --snaplen` default: a frame's headers (Ethernet or SLL2, IP, TCP
/// with options: 54 to ~140 bytes) and an HTTP head of up to ~8 KB after
/// them (8192 less the headers) stay whole, so the head is read from the wire; the rest of a body
/// frame is not captured (the application has it). Measured on a 1 GiB
/// loopback download saved with the 32 MiB ring: 0 frames dropped in five
/// runs, a ~150 MB capture (whole frames: ~1 GB, and some runs dropped 40%
/// of the frames; 256 bytes: ~30 MB, but a 242-byte head was cut).
pub(crate) const DEFAULT_SNAPLEN: u32 = 8192;
/// `fetch --capture-buffer` default: the kernel ring buffer, bytes.
pub(crate) const DEFAULT_BUFFER: u32 = 32 << 20;

/// TCP flow control on the wire next to what the application sees.
#[derive(Debug, Parser)]
#[command(name = "recvscope", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Download a URL like the book's program, capturing the wire under every recv().
    Fetch(FetchArgs),
    /// Guided experiments on loopback: the book's, slow reader, buffer sizes, slow sender.
    Lab(LabArgs),
    /// Explain every TCP connection (and its HTTP) in saved captures.
    Replay(ReplayArgs),
    /// Serve the book's image, synthetic bodies or a directory over HTTP/1.x, logging every send.
    Serve(ServeArgs),
}

/// `recvscope lab`: guided experiments.
#[derive(Debug, Args)]
pub struct LabArgs {
    /// The experiment to run (default: book); --list describes them.
    #[arg(value_name = "NAME")]
    pub(crate) name: Option<String>,
    /// Describe the experiments and exit.
    #[arg(long)]
    pub(crate) list: bool,
    /// Directory for the saved captures and recv logs (`captures/` holds the
    /// repository's samples, never overwritten by a run).
    #[arg(long, default_value = "runs", value_name = "DIR")]
    pub(crate) captures: PathBuf,
    /// Run without capturing (no privileges needed): socket-side figures only.
    #[arg(long)]
    pub(crate) no_capture: bool,
    /// Draw each run's time-sequence graph: FILE-RUN.svg (e.g. book-delay.svg).
    #[arg(long, value_name = "FILE.svg", conflicts_with = "no_capture")]
    pub(crate) graph: Option<PathBuf>,
    /// Write one self-contained HTML page of the experiment, its runs side by side.
    #[arg(long, value_name = "FILE.html")]
    pub(crate) html: Option<PathBuf>,
    /// Replace the --html page if the file exists.
    #[arg(long, requires = "html")]
    pub(crate) force: bool,
    /// Print one JSON document instead of the text report.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `recvscope fetch`: the book's downloader with a capture thread beside it.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The http:// URL to download (default: the built-in image from a lab
    /// server recvscope starts on loopback).
    #[arg(value_name = "URL")]
    pub(crate) url: Option<String>,
    /// HTTP version of the request: 1.0 is the book's absolute-form request.
    #[arg(
        long = "http",
        value_enum,
        default_value = "1.0",
        value_name = "VERSION"
    )]
    pub(crate) http: HttpArg,
    /// Bytes asked of each recv().
    #[arg(long, default_value_t = 5120, value_parser = clap::value_parser!(u32).range(1..=(64 << 20)), value_name = "BYTES")]
    pub(crate) recv_size: u32,
    /// Sleep between recv() calls: a number with its unit, e.g. 250ms, 0.25s or 1m.
    #[arg(long, value_parser = duration, value_name = "DURATION")]
    pub(crate) delay: Option<Duration>,
    /// SO_RCVBUF to set before connecting (Linux doubles it); suffixes k, M.
    #[arg(long, value_name = "BYTES", value_parser = positive_size)]
    pub(crate) rcvbuf: Option<u64>,
    /// Give up connecting, or waiting for data, after this long (more than 0, e.g. 30s or 500ms).
    #[arg(long, value_parser = positive_duration, default_value = "30s", value_name = "DURATION")]
    pub(crate) timeout: Duration,
    /// Where to save the body (default: the URL's file name).
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Read the body as the book's loop does but save it nowhere (as a lab does).
    #[arg(long, conflicts_with = "output")]
    pub(crate) discard_body: bool,
    /// Replace the body file and the saved run (NAME.pcap, NAME.recv.jsonl) if they exist.
    #[arg(long)]
    pub(crate) force: bool,
    /// Save the capture and recv log as DIR/NAME.pcap and DIR/NAME.recv.jsonl.
    #[arg(long, value_name = "NAME", conflicts_with = "no_save")]
    pub(crate) save: Option<String>,
    /// Do not save the capture and recv log.
    #[arg(long)]
    pub(crate) no_save: bool,
    /// Directory for saved runs (`captures/` holds the repository's samples).
    #[arg(long, default_value = "runs", value_name = "DIR")]
    pub(crate) captures: PathBuf,
    /// Download without capturing (no privileges needed): socket-side columns only.
    #[arg(long)]
    pub(crate) no_capture: bool,
    /// Capture on this interface instead of the one the connection uses.
    #[arg(long, value_name = "NAME")]
    pub(crate) interface: Option<String>,
    /// Bytes kept per captured frame, at least 144 (the headers); 0 keeps whole frames.
    #[arg(long, default_value_t = DEFAULT_SNAPLEN, value_parser = snaplen, value_name = "BYTES")]
    pub(crate) snaplen: u32,
    /// Kernel capture buffer.
    #[arg(long, default_value_t = DEFAULT_BUFFER, value_name = "BYTES")]
    pub(crate) capture_buffer: u32,
    /// Draw the time-sequence graph of the run (SVG), with every recv on it.
    #[arg(long, value_name = "FILE.svg", conflicts_with = "no_capture")]
    pub(crate) graph: Option<PathBuf>,
    /// Write a self-contained HTML page: the graph, the report and the recv table.
    #[arg(long, value_name = "FILE.html", conflicts_with = "no_capture")]
    pub(crate) html: Option<PathBuf>,
    /// Print one JSON document instead of the text report.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `fetch --http`: the version of the request line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum HttpArg {
    /// The book's request: absolute-form target, no header fields.
    #[value(name = "1.0")]
    V10,
    /// Origin-form target with `Host` and `Connection: close`.
    #[value(name = "1.1")]
    V11,
}

/// Parses `250ms`, `0.25s`, `2s` or `1m`. A bare number is refused: `5`
/// could mean 5 s or 5 ms, and the two differ a thousandfold.
pub(crate) fn duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (num, unit) = match t.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => t.split_at(i),
        None => {
            return Err(format!(
                "{text:?} needs a unit: {t}s or {t}ms (ns, us, ms, s or m)"
            ));
        }
    };
    let value: f64 = num
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 250ms or 2s"))?;
    let scale = match unit {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" | "min" => 60.0,
        _ => return Err(format!("{text:?}: unknown unit {unit:?} (use ms, s or m)")),
    };
    Duration::try_from_secs_f64(value * scale).map_err(|e| format!("{text:?}: {e}"))
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Capture files: pcap, nanosecond pcap or pcapng; a pipe, or - for standard input.
    #[arg(required_unless_present = "read", value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,
    /// A capture file to read, as tcpdump's -r (may be repeated; read before the FILEs).
    #[arg(short = 'r', long = "read", value_name = "FILE")]
    pub(crate) read: Vec<PathBuf>,
    /// Print one JSON document instead of the text report.
    #[arg(long)]
    pub(crate) json: bool,
    /// List connection N (as numbered in the report) packet by packet.
    #[arg(long, value_name = "N")]
    pub(crate) conn: Option<u64>,
    /// Write every HTTP body to DIR, under names recvscope makes.
    #[arg(long, value_name = "DIR")]
    pub(crate) extract: Option<PathBuf>,
    /// Draw a time-sequence graph (SVG) of one connection: the recv log's,
    /// else --conn N, else the one with the most server bytes.
    #[arg(long, value_name = "FILE.svg")]
    pub(crate) graph: Option<PathBuf>,
    /// Write a self-contained HTML page: that graph, the connection's report and its recvs.
    #[arg(long, value_name = "FILE.html")]
    pub(crate) html: Option<PathBuf>,
    /// Answer the Kurose & Ross TCP lab for the connection with the most
    /// payload (or --conn N) instead of the report; --json adds `tcp_lab`.
    #[arg(long)]
    pub(crate) tcp_lab: bool,
    /// Files analysed side by side [default: one per core]; above 1, each
    /// also has a helper thread reading the file ahead of its analysis.
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) jobs: Option<u16>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    pub(crate) bind: IpAddr,
    /// Port to listen on; 0 lets the system pick one (the URL is printed).
    #[arg(long, value_name = "N", default_value_t = 8080)]
    pub(crate) port: u16,
    /// Serve the files under DIR instead of the built-in image and synthetic bodies.
    #[arg(long, value_name = "DIR")]
    pub(crate) root: Option<PathBuf>,
    /// Pace every body to this many bytes per second (suffixes k, M, G: 1024-based).
    #[arg(long, value_name = "BYTES_PER_S", value_parser = positive_size)]
    pub(crate) rate: Option<u64>,
    /// Send every body as an internet path with this round-trip time delivers it: 10
    /// segments of 1448 bytes in the first round trip, doubling (slow start) up to 80.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub(crate) rtt: Option<Duration>,
    /// Ask for this SO_SNDBUF on each connection (Linux sets double).
    #[arg(long, value_name = "BYTES", value_parser = positive_size)]
    pub(crate) sndbuf: Option<u64>,
    /// Write every send and response to FILE as JSON Lines.
    #[arg(long, value_name = "FILE")]
    pub(crate) log: Option<PathBuf>,
    /// No summary line per request on stderr.
    #[arg(long)]
    pub(crate) quiet: bool,
}

/// A [`duration`] longer than zero, for limits such as `--timeout`.
fn positive_duration(text: &str) -> Result<Duration, String> {
    match duration(text)? {
        Duration::ZERO => Err(format!("{text:?}: must be more than 0, e.g. 30s")),
        d => Ok(d),
    }
}

/// The least `fetch --snaplen` other than 0: a frame's link, IPv4 or IPv6
/// and TCP headers with the longest options (up to 20 + 60 + 60 bytes)
/// stay whole, so every captured frame is decoded as TCP.
pub(crate) const MIN_SNAPLEN: u32 = 144;

/// `fetch --snaplen`: 0 (whole frames) or enough to keep every header.
fn snaplen(text: &str) -> Result<u32, String> {
    let n: u32 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of bytes"))?;
    if n != 0 && n < MIN_SNAPLEN {
        return Err(format!(
            "{n} bytes cut a frame inside its headers, so no packet could be read as TCP: give at least {MIN_SNAPLEN}, or 0 for whole frames"
        ));
    }
    Ok(n)
}

fn positive_size(text: &str) -> Result<u64, String> {
    match parse_size(text)? {
        0 => Err("must be more than 0".to_string()),
        n => Ok(n),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The command `recvscope ARGV…` parses to, for the config tests.
    pub(crate) fn command(argv: &[&str]) -> Command {
        use clap::Parser;
        Cli::try_parse_from(std::iter::once("recvscope").chain(argv.iter().copied()))
            .expect("parses")
            .command
    }

    #[test]
    fn durations_read_like_the_book_writes_them() {
        assert_eq!(duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(duration("0.25s"), Ok(Duration::from_millis(250)));
        assert_eq!(duration("2m"), Ok(Duration::from_secs(120)));
        assert!(duration("fast").is_err());
        assert!(duration("3h").is_err());
        assert!(duration("-1s").is_err());
    }

    #[test]
    fn a_bare_number_is_refused_with_the_units_it_could_mean() {
        assert_eq!(
            duration("5"),
            Err("\"5\" needs a unit: 5s or 5ms (ns, us, ms, s or m)".to_string())
        );
    }

    /// The message clap prints for `recvscope ARGV…`, which must not parse.
    fn refusal(argv: &[&str]) -> String {
        use clap::Parser;
        Cli::try_parse_from(std::iter::once("recvscope").chain(argv.iter().copied()))
            .expect_err("refused")
            .to_string()
    }

    #[test]
    fn a_zero_timeout_is_refused_when_parsed() {
        assert_eq!(
            refusal(&["fetch", "--timeout", "0s"]).lines().next(),
            Some(
                "error: invalid value '0s' for '--timeout <DURATION>': \"0s\": must be more than 0, e.g. 30s"
            )
        );
    }

    #[test]
    fn a_snaplen_that_cuts_the_headers_is_refused() {
        assert_eq!(
            refusal(&["fetch", "--snaplen", "10"]).lines().next(),
            Some(
                "error: invalid value '10' for '--snaplen <BYTES>': 10 bytes cut a frame inside its headers, so no packet could be read as TCP: give at least 144, or 0 for whole frames"
            )
        );
        assert_eq!(snaplen("0"), Ok(0));
        assert_eq!(snaplen("144"), Ok(144));
    }
}
