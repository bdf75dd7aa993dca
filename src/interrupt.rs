//! Ctrl-C and SIGTERM as a flag: long runs check it between steps and
//! stop cleanly, flushing what they captured, instead of dying mid-write.

use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static INSTALL: Once = Once::new();

/// Exit status of a run stopped by Ctrl-C (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Routes SIGINT, SIGTERM and SIGHUP to the flag (once per process).
pub(crate) fn install() {
    INSTALL.call_once(|| {
        // Failing to install leaves the default action (terminate), which
        // loses only the flush; nothing to report.
        let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
    });
}

/// Whether the user asked to stop.
pub(crate) fn requested() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}
