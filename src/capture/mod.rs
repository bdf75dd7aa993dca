//! The libpcap shell: reading capture files, capturing live, dropping
//! privileges once the capture handle is open.

pub mod blocks;
pub mod close_watch;
pub mod file;
pub mod live;
pub mod privilege;
pub mod records;
pub(crate) mod timestamp;
