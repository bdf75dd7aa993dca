//! The libpcap shell: reading capture files, capturing live, dropping
//! privileges once the capture handle is open.

pub(crate) mod blocks;
pub(crate) mod close_watch;
pub mod file;
pub(crate) mod live;
mod pcapng;
pub(crate) mod privilege;
pub mod records;
pub(crate) mod timestamp;
