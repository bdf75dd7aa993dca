//! `recvscope serve`: the shell around [`Server`] for the command line.

use std::io::Write;
use std::sync::atomic::AtomicBool;

use anyhow::Context;

use super::config::ServeConfig;
use super::image::cover;
use super::{Server, ServerConfig};
use crate::capture::privilege;

/// Binds, gives up root (to the sudo user, or `nobody`) and any capabilities,
/// then creates the `--log` file as that user, says where it serves on stdout
/// (first line: `serving URL ...`), and serves until the process is
/// interrupted.
pub fn run(cfg: &ServeConfig) -> anyhow::Result<()> {
    let cfg = &cfg.server;
    let mut server = Server::bind(ServerConfig {
        log: None,
        ..cfg.clone()
    })?;
    privilege::drop_for_serving()?;
    if let Some(path) = &cfg.log {
        server.open_log(path)?;
    }

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
    if let (Some(asked), Some(set)) = (cfg.sndbuf, server.send_buffer()) {
        banner +=
            &format!("send buffer: asked {asked} bytes, Linux sets {set} on each connection\n");
    }
    if let Some(rate) = cfg.rate {
        banner += &format!("bodies paced to {rate} bytes/s\n");
    }
    if let Some(rtt) = cfg.round_trip {
        banner += &format!(
            "bodies sent as a path with a {} ms round trip delivers them: 10 segments of 1448 bytes, doubling each round trip up to 80\n",
            rtt.as_millis()
        );
    }
    if let Some(log) = &cfg.log {
        banner += &format!("send log: {} (JSON Lines)\n", log.display());
    }
    let mut out = std::io::stdout().lock();
    out.write_all(banner.as_bytes())
        .and_then(|()| out.flush())
        .context("cannot write to stdout")?;
    drop(out);
    if !cfg.bind.ip().is_loopback() {
        eprintln!(
            "recvscope: warning: listening on {}, beyond loopback",
            cfg.bind.ip()
        );
    }

    server.run(&AtomicBool::new(false))?;
    Ok(())
}
