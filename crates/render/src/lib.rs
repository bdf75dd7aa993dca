//! **Pipeline: typed facts (recvscope-analysis) → `recvscope-render` → text, JSON,
//! pictures.** The last stage, and the only one that writes words.
//!
//! Every word a person reads, made from the analysis's values: the text
//! report, the fetch's lines, the recv table and its sentences, the TCP
//! lab's answers, the guided labs (their text and their report), the JSON
//! document, and the graphs (SVG, HTML, terminal).

#![warn(unreachable_pub)]

pub mod explain;
mod facts;
pub mod fetch;
pub mod findings;
pub mod graph;
mod http_words;
pub mod lab;
mod recv_table;
pub mod recvs;
mod shown;
pub mod tcp_lab;
mod terms;
pub mod text;
mod tunnel_words;
mod units;

pub use shown::{Shown, shown, shown_lines};
pub use text::SavedBody;

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use recvscope_analysis::ConnectionSummary;
use recvscope_analysis::correlate::RecvRow;
use recvscope_analysis::lesson::Lesson;

/// A capture's recv log, correlated with its connection.
#[derive(Serialize)]
pub struct Recvs {
    pub recv_log: String,
    /// When the request was sent: the origin of every recv's `t_ns`.
    #[serde(skip)]
    pub request_ts_ns: i64,
    /// The connection the log belongs to.
    pub recv_connection: Option<u64>,
    pub recvs: Vec<RecvRow>,
    /// The facts the explanation is made from.
    pub lesson: Lesson,
    pub explanation: Vec<String>,
}

/// Writes the `replay --json` document of one capture as it goes: the
/// connections stream out as they end, the totals follow them.
pub struct JsonStream {
    connections: u64,
}

impl JsonStream {
    /// Opens the document.
    pub fn start(out: &mut dyn Write, file: &Path) -> io::Result<JsonStream> {
        write!(
            out,
            "{{\n  \"file\": {},\n  \"connections\": [",
            serde_json::to_string(&file.display().to_string())?
        )?;
        Ok(JsonStream { connections: 0 })
    }

    /// One connection of the `connections` array.
    pub fn connection(&mut self, out: &mut dyn Write, c: &ConnectionSummary) -> io::Result<()> {
        out.write_all(if self.connections == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer_pretty(&mut *out, c)?;
        self.connections += 1;
        Ok(())
    }

    /// Closes the array, then every field of `tail` (an object) but
    /// `connections`, then the document.
    pub fn finish(self, out: &mut dyn Write, tail: &impl Serialize) -> io::Result<()> {
        out.write_all(b"\n  ]")?;
        if let serde_json::Value::Object(fields) = serde_json::to_value(tail)? {
            for (k, v) in fields.iter().filter(|(k, _)| *k != "connections") {
                write!(
                    out,
                    ",\n  {}: {}",
                    serde_json::to_string(k)?,
                    serde_json::to_string(v)?
                )?;
            }
        }
        out.write_all(b"\n}\n")
    }
}

#[cfg(test)]
mod tests {
    use recvscope_analysis::{Analyzer, Limits, NoBodies, Report};
    use recvscope_testkit::Trace;
    use recvscope_wire::LinkType;

    /// The pipeline's report on a built trace, every connection listed.
    pub(crate) fn report(t: &Trace) -> Report {
        let mut a = Analyzer::new(LinkType::Raw, Limits::default(), Some(0));
        for (meta, bytes) in &t.frames {
            a.frame(*meta, bytes, &mut NoBodies);
        }
        a.finish(&mut NoBodies)
    }
}
