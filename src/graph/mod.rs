//! Pictures students can read: the time-sequence graph (SVG), a
//! self-contained HTML page around it, and a text chart for the terminal.
//! Everything but [`write_files`] is pure: values in, text out.

pub mod html;
pub mod scale;
pub mod svg;
pub mod terminal;
pub mod time_sequence;

#[cfg(test)]
mod tests;

use std::path::Path;

use anyhow::Context;

use crate::analysis::ConnectionSummary;

pub use html::html_page;
pub use terminal::terminal_chart;
pub use time_sequence::{AppRecvs, time_sequence_svg};

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
/// explanation (from [`crate::report::explain::explain`]).
pub fn write_files(
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
