//! Pictures students can read: the time-sequence graph (SVG), a
//! self-contained HTML page around it, and a text chart for the terminal.

pub mod scale;
pub mod svg;
