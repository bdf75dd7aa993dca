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

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::analysis::ConnectionSummary;

pub use html::html_page;
pub use terminal::terminal_chart;
pub use time_sequence::{AppRecvs, time_sequence_svg};

/// Writes `text` to `path` under a temporary name beside it, then renames
/// it into place, so a reader never sees half a file.
pub fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file name", path.display()))?;
    let tmp = path.with_file_name(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(anyhow::Error::new(e).context(format!("cannot write {}", path.display())));
    }
    Ok(())
}

/// `--graph FILE.svg` and `--html FILE.html` for one connection: `conn`
/// with its packet list, its recvs if a recv log exists, and their
/// explanation (from [`crate::correlate::explain`]).
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
