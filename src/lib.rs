//! recvscope: TCP flow control on the wire next to what the application sees.

pub mod analysis;
pub(crate) mod atomic_file;
pub mod capture;
pub mod cli;
pub(crate) mod clock;
pub mod correlate;
pub mod extract;
pub mod fetch;
pub mod graph;
pub mod http;
pub mod interrupt;
pub mod lab;
pub mod recvlog;
pub mod replay;
pub mod report;
pub mod serve;
pub mod tcp;
pub mod tcplab;
pub mod units;
pub mod wire;

#[cfg(test)]
mod testkit;
