//! The recv-by-recv table and the plain-language story after it.

use std::io::{self, Write};

use recvscope_analysis::ConnectionSummary;
use recvscope_analysis::correlate::RecvRow;

use crate::recv_table::{COLUMNS, cells};

/// Width of the terminal chart, in columns.
const CHART_WIDTH: usize = 100;

/// Writes the table (one row per recv), the connection's report and the explanation.
pub fn write(
    out: &mut dyn Write,
    rows: &[RecvRow],
    conn: Option<&ConnectionSummary>,
    explanation: &[String],
) -> io::Result<()> {
    writeln!(
        out,
        "\nEach recv() next to the wire. ms since the request; queued: in the socket before the call; wire: delivered in order by its return;\nframes: those that carried its bytes; window: last advertised by the client; kernel: TCP_INFO rcv_wnd before the call."
    )?;
    const WIDTHS: [usize; 10] = [5, 9, 8, 6, 9, 7, 9, 11, 8, 7];
    let line = |out: &mut dyn Write, cells: &[String]| -> io::Result<()> {
        for (cell, w) in cells.iter().zip(WIDTHS) {
            write!(out, "{cell:>w$} ")?;
        }
        writeln!(out, " {}", cells[10])
    };
    line(out, &COLUMNS.map(String::from))?;
    for r in rows {
        line(out, &cells(r))?;
    }
    let chart = crate::graph::terminal_chart(rows, CHART_WIDTH);
    if !chart.is_empty() && rows.iter().any(|r| r.advertised_window.is_some()) {
        writeln!(
            out,
            "\nWindow advertised (█) and bytes queued (▓) before each recv:"
        )?;
        write!(out, "{chart}")?;
    }
    if let Some(c) = conn {
        super::text::connection(out, c, c.tcp.start_ns)?;
    }
    writeln!(out, "\nWhat happened:")?;
    for line in explanation {
        writeln!(out, "  {line}")?;
    }
    Ok(())
}
