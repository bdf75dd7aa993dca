//! `recvscope serve`: the shell around [`Server`] for the command line.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;

use anyhow::Context;

use super::image::cover;
use super::{Server, ServerConfig};
use crate::cli::ServeArgs;

/// Binds, says where it serves on stdout (first line: `serving URL ...`), and serves
/// until the process is interrupted.
pub fn run(args: &ServeArgs) -> anyhow::Result<()> {
    let sndbuf = args
        .sndbuf
        .map(|n| usize::try_from(n).context("--sndbuf is too large"))
        .transpose()?;
    let cfg = ServerConfig {
        bind: SocketAddr::new(args.bind, args.port),
        root: args.root.clone(),
        rate: args.rate,
        sndbuf,
        log: args.log.clone(),
        summaries: !args.quiet,
        keep_records: false,
        ..ServerConfig::default()
    };
    let server = Server::bind(cfg)?;

    let mut banner = match server.root() {
        None => format!(
            "serving {} (built-in image, {} bytes) — Ctrl-C to stop\n\
             also {} and /chunked/N (N bytes; N like 5120, 64k, 1M, 1G)\n",
            server.url("/cover3.jpg"),
            cover().len(),
            server.url("/bytes/N"),
        ),
        Some(root) => format!(
            "serving {} (files under {}) — Ctrl-C to stop\n",
            server.url("/"),
            root.display()
        ),
    };
    if let (Some(asked), Some(set)) = (sndbuf, server.send_buffer()) {
        banner +=
            &format!("send buffer: asked {asked} bytes, Linux sets {set} on each connection\n");
    }
    if let Some(rate) = args.rate {
        banner += &format!("bodies paced to {rate} bytes/s\n");
    }
    if let Some(log) = &args.log {
        banner += &format!("send log: {} (JSON Lines)\n", log.display());
    }
    let mut out = std::io::stdout().lock();
    out.write_all(banner.as_bytes())
        .and_then(|()| out.flush())
        .context("cannot write to stdout")?;
    drop(out);
    if !args.bind.is_loopback() {
        eprintln!(
            "recvscope: warning: listening on {}, beyond loopback",
            args.bind
        );
    }

    server.run(&AtomicBool::new(false))?;
    Ok(())
}
