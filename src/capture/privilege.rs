//! Dropping root after the capture handle is open, as `tcpdump -Z` does:
//! under sudo the rest of the run (connecting, parsing, writing files)
//! happens as the invoking user, so every file it writes is theirs. With
//! file capabilities instead (`setcap cap_net_raw,cap_net_admin=eip`), the
//! capabilities are cleared once the handle is open, and `replay` and
//! `serve` clear them at startup: capabilities are per thread on Linux, so
//! each command drops them before it starts any thread.

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

/// Why clearing the capabilities failed; the run must not continue with them.
#[derive(Debug, thiserror::Error)]
#[error("cannot clear the capabilities of the process: {step} failed: {source}")]
pub(crate) struct CapError {
    step: &'static str,
    source: std::io::Error,
}

/// Why the privileges could not be given up.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PrivilegeError {
    #[error(transparent)]
    Drop(#[from] DropError),
    #[error(transparent)]
    Caps(#[from] CapError),
}

/// Under sudo (`SUDO_UID`/`SUDO_GID`, and `SUDO_USER` for the
/// supplementary groups), becomes the invoking user: groups first, then
/// gid, then uid, then checks root cannot be regained. Not root, clears
/// the capabilities a `setcap` binary was given. Called before any thread
/// but the calling one holds them.
pub(crate) fn drop_to_invoking_user() -> Result<RunAs, PrivilegeError> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        clear_capabilities()?;
        return Ok(RunAs::Unprivileged);
    }
    let id = |name| std::env::var(name).ok().and_then(|v| v.parse::<u32>().ok());
    let (Some(uid), Some(gid)) = (id("SUDO_UID"), id("SUDO_GID")) else {
        return Ok(RunAs::Root);
    };
    if uid == 0 {
        return Ok(RunAs::Root);
    }
    Ok(become_user(uid, gid, std::env::var("SUDO_USER").ok())?)
}

/// For `serve`, once its socket is bound: root becomes the sudo user, or
/// `nobody` (65534) without sudo, so files are served with a user's rights
/// and never root's; not root, the capabilities are cleared.
pub(crate) fn drop_for_serving() -> Result<RunAs, PrivilegeError> {
    match drop_to_invoking_user()? {
        RunAs::Root => Ok(become_user(NOBODY, NOBODY, None)?),
        dropped => Ok(dropped),
    }
}

/// The uid and gid of `nobody` on Linux.
const NOBODY: u32 = 65534;

/// `_LINUX_CAPABILITY_VERSION_3`: two 32-bit words per set.
const CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// `struct __user_cap_header_struct`.
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

/// `struct __user_cap_data_struct`.
#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// For commands that need no privilege (`replay`): not root, clears the
/// capabilities a `setcap` binary was given; root stays root, as under
/// [`drop_to_invoking_user`].
pub(crate) fn drop_capabilities() -> Result<(), CapError> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        clear_capabilities()?;
    }
    Ok(())
}

/// Clears the calling thread's ambient, effective, permitted and
/// inheritable capabilities (threads started later inherit the empty sets).
fn clear_capabilities() -> Result<(), CapError> {
    let fail = |step| CapError {
        step,
        source: std::io::Error::last_os_error(),
    };
    // SAFETY: prctl on integer arguments; capset with a v3 header and the
    // two data words it reads, both living across the call.
    unsafe {
        let ambient = libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        );
        // EINVAL: a kernel before 4.3, which has no ambient set.
        if ambient != 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINVAL) {
            return Err(fail("clearing the ambient set"));
        }
        let header = CapHeader {
            version: CAPABILITY_VERSION_3,
            pid: 0,
        };
        let none = [CapData {
            effective: 0,
            permitted: 0,
            inheritable: 0,
        }; 2];
        if libc::syscall(libc::SYS_capset, &header, none.as_ptr()) != 0 {
            return Err(fail("capset"));
        }
    }
    Ok(())
}

/// Becomes `uid`/`gid` (with `user`'s supplementary groups, or `gid` alone).
fn become_user(uid: u32, gid: u32, user: Option<String>) -> Result<RunAs, DropError> {
    let fail = |step, source| DropError {
        uid,
        gid,
        step,
        source,
    };
    let user = user.and_then(|u| CString::new(u).ok());
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
