//! Pictures students can read: the time-sequence graph (SVG), a
//! self-contained HTML page around it, and a text chart for the terminal.
//! Values in, text out.

mod html;
mod scale;
mod svg;
mod terminal;
mod time_sequence;

pub use html::html_page;
pub(crate) use html::{STYLE, how_to_read};
pub(crate) use svg::escape;
pub use terminal::terminal_chart;
pub use time_sequence::{AppRecvs, time_sequence_svg};
