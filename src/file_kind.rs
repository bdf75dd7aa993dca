//! What a name that is not a regular file is, in the words every error
//! about it uses.

use std::fs::FileType;
use std::os::unix::fs::FileTypeExt;

/// `None` for a regular file; otherwise what it is ("a pipe", "a
/// character device", ...).
pub(crate) fn not_a_file(t: FileType) -> Option<&'static str> {
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_char_device() {
        Some("a character device")
    } else if t.is_block_device() {
        Some("a block device")
    } else if t.is_fifo() {
        Some("a pipe")
    } else if t.is_socket() {
        Some("a socket")
    } else {
        Some("not a regular file")
    }
}
