//! Dropping root after the capture handle is open, as `tcpdump -Z` does:
//! under sudo the rest of the run (connecting, parsing, writing files)
//! happens as the invoking user, so every file it writes is theirs.

use std::ffi::CString;

/// Who the process runs as after [`drop_to_invoking_user`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RunAs {
    /// Not root: nothing to drop.
    Unprivileged,
    /// Root without sudo: it stays root (it is the invoking user).
    Root,
    /// Dropped from root to the user sudo names.
    Dropped { uid: u32, gid: u32 },
}

/// Why the drop failed; the run must not continue as root.
#[derive(Debug, thiserror::Error)]
#[error("cannot drop root privileges to uid {uid} gid {gid}: {step} failed: {source}")]
pub(crate) struct DropError {
    uid: u32,
    gid: u32,
    step: &'static str,
    source: std::io::Error,
}

/// Under sudo (`SUDO_UID`/`SUDO_GID`, and `SUDO_USER` for the
/// supplementary groups), becomes the invoking user: groups first, then
/// gid, then uid, then checks root cannot be regained.
pub(crate) fn drop_to_invoking_user() -> Result<RunAs, DropError> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(RunAs::Unprivileged);
    }
    let id = |name| std::env::var(name).ok().and_then(|v| v.parse::<u32>().ok());
    let (Some(uid), Some(gid)) = (id("SUDO_UID"), id("SUDO_GID")) else {
        return Ok(RunAs::Root);
    };
    if uid == 0 {
        return Ok(RunAs::Root);
    }
    let fail = |step, source| DropError {
        uid,
        gid,
        step,
        source,
    };
    let user = std::env::var("SUDO_USER")
        .ok()
        .and_then(|u| CString::new(u).ok());
    // SAFETY: plain system calls on integers and a NUL-terminated string
    // that outlives the call.
    unsafe {
        let rc = match &user {
            Some(name) => libc::initgroups(name.as_ptr(), gid),
            None => libc::setgroups(1, &gid),
        };
        if rc != 0 {
            return Err(fail(
                "setting supplementary groups",
                std::io::Error::last_os_error(),
            ));
        }
        if libc::setgid(gid) != 0 {
            return Err(fail("setgid", std::io::Error::last_os_error()));
        }
        if libc::setuid(uid) != 0 {
            return Err(fail("setuid", std::io::Error::last_os_error()));
        }
        if libc::setuid(0) == 0 || libc::geteuid() == 0 || libc::getuid() == 0 {
            return Err(fail(
                "checking root is gone",
                std::io::Error::other("root could be regained"),
            ));
        }
    }
    Ok(RunAs::Dropped { uid, gid })
}
