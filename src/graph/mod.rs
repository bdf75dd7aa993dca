//! The graph files: `--graph FILE.svg` and `--html FILE.html`, drawn by
//! [`recvscope_render::graph`] and written whole or not at all.

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::analysis::ConnectionSummary;

pub(crate) use recvscope_render::graph::{AppRecvs, html_page, time_sequence_svg};

/// Where `--graph FILE.svg` and `--html FILE.html` go; neither: no picture.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Pictures {
    pub svg: Option<PathBuf>,
    pub html: Option<PathBuf>,
}

impl Pictures {
    /// True when a graph or a page was asked for.
    pub(crate) fn wanted(&self) -> bool {
        self.svg.is_some() || self.html.is_some()
    }
}

/// Writes `text` to `path` whole, through [`crate::atomic_file`].
fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    if path.file_name().is_none() {
        anyhow::bail!("{} is not a file name", path.display());
    }
    crate::atomic_file::write(path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// `--graph FILE.svg` and `--html FILE.html` for one connection: `conn`
/// with its packet list, its recvs if a recv log exists, and their
/// explanation (from [`recvscope_render::explain::explain`]).
pub(crate) fn write_files(
    conn: &ConnectionSummary,
    app: Option<AppRecvs<'_>>,
    explanation: &[String],
    svg_path: Option<&Path>,
    html_path: Option<&Path>,
) -> anyhow::Result<()> {
    if svg_path.is_none() && html_path.is_none() {
        return Ok(());
    }
    let svg = time_sequence_svg(conn, app);
    if let Some(path) = svg_path {
        write_atomically(path, &svg)?;
    }
    if let Some(path) = html_path {
        let title = format!(
            "Connection #{}: {} → {}",
            conn.tcp.id, conn.tcp.client, conn.tcp.server
        );
        let page = html_page(&title, &svg, conn, app.map(|a| a.rows), explanation);
        write_atomically(path, &page)?;
    }
    Ok(())
}
