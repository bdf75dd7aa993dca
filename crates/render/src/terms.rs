//! The flow-control terms, each defined once and spelled here once: the
//! lab table's rows, the graph legend, the TCP lab's answers and the fetch
//! line name their figures with these words (the README's "Terms" section
//! says the same). The JSON fields are the same words in snake case.

/// A segment Wireshark flags `tcp.analysis.zero_window`: its receiver
/// advertised a window of zero. Counted per segment, as Wireshark does.
pub(crate) const ZERO_WINDOW_SEGMENTS: &str = "zero-window segments";

/// The sender stopped by a closed window, from the receiver's first
/// zero-window segment until its window reopened; counted once however
/// many zero-window segments it took.
pub(crate) const ZERO_WINDOW_STALLS: &str = "zero-window stalls";

/// How long the zero-window stalls lasted in all.
pub(crate) const ZERO_WINDOW_STALL_TIME: &str = "zero-window stall time";

/// A segment Wireshark flags `tcp.analysis.window_full`: it ends exactly at
/// the right edge of the receiver's window.
pub(crate) const WINDOW_FULL_SEGMENTS: &str = "window-full segments";

/// A segment Wireshark flags `tcp.analysis.window_update`: the window grew
/// and nothing else changed.
pub(crate) const WINDOW_UPDATES: &str = "window updates";

/// The sender's zero-window probes, recvscope's flag `persist_probe`: a
/// segment Wireshark flags `tcp.analysis.keep_alive` (Linux probes with an
/// empty segment one byte behind) sent while the receiver's window is zero.
pub(crate) const PERSIST_PROBES: &str = "persist probes";

/// The SO_RCVBUF value the program asked for.
pub(crate) const RCVBUF_ASKED: &str = "receive buffer asked";

/// What `getsockopt(SO_RCVBUF)` returns: Linux doubles what was asked.
pub(crate) const RCVBUF_GIVEN: &str = "receive buffer given by Linux";
