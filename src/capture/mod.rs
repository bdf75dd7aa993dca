//! The libpcap shell: reading capture files (and, later, live capture).

pub mod file;
