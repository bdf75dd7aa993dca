//! recvscope: TCP flow control on the wire next to what the application sees.

#![warn(unreachable_pub)]

pub use recvscope_analysis::{self as analysis, correlate, lesson, tcplab};
pub use recvscope_http as http;
pub use recvscope_render as report;
pub use recvscope_tcp as tcp;
pub use recvscope_wire as wire;

mod atomic_file;
pub mod capture;
pub mod cli;
mod clock;
mod extract;
pub mod fetch;
mod file_kind;
mod graph;
pub mod interrupt;
pub mod lab;
pub mod recvlog;
pub mod replay;
pub mod serve;
mod units;
