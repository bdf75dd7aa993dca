//! The few socket calls std does not offer: SO_SNDBUF and waiting for a listener.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// Asks for a send buffer of `bytes` and returns the size Linux actually set: double the
/// request (the kernel's bookkeeping share), within `net.core.wmem_max` and a minimum.
pub(crate) fn set_send_buffer(fd: BorrowedFd<'_>, bytes: usize) -> io::Result<usize> {
    let value = libc::c_int::try_from(bytes)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "send buffer too large"))?;
    // SAFETY: fd is a live socket; the option value is a c_int of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            (&raw const value).cast(),
            c_int_len(),
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    send_buffer(fd)
}

/// The socket's current SO_SNDBUF.
pub(crate) fn send_buffer(fd: BorrowedFd<'_>) -> io::Result<usize> {
    let mut value: libc::c_int = 0;
    let mut len = c_int_len();
    // SAFETY: fd is a live socket; value and len are valid for writes of their sizes.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            (&raw mut value).cast(),
            &raw mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(usize::try_from(value).unwrap_or(0))
}

/// What Linux would set for a send buffer of `bytes`, found on a fresh socket that is
/// never connected, so it can be told to the user before any client comes.
pub(crate) fn probe_send_buffer(bytes: usize) -> io::Result<usize> {
    // SAFETY: socket() has no memory arguments; a non-negative result is a new fd we own.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd was just returned by socket() and nothing else owns it.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    set_send_buffer(owned.as_fd(), bytes)
}

/// Waits until `fd` is readable (for a listener: a connection is waiting) or `timeout`
/// passes. Returns whether it is readable.
pub(crate) fn wait_readable(fd: BorrowedFd<'_>, timeout: Duration) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: pfd is one valid pollfd.
    let rc = unsafe { libc::poll(&raw mut pfd, 1, ms) };
    match rc {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(false),
        _ => Ok(true),
    }
}

fn c_int_len() -> libc::socklen_t {
    std::mem::size_of::<libc::c_int>() as libc::socklen_t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_doubles_the_send_buffer_asked_for() {
        assert_eq!(probe_send_buffer(65536).unwrap(), 131_072);
        assert!(probe_send_buffer(1).unwrap() >= 2);
        assert!(probe_send_buffer(usize::MAX).is_err());
    }

    #[test]
    fn an_idle_listener_is_not_readable() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        assert!(!wait_readable(l.as_fd(), Duration::from_millis(10)).unwrap());
        let _c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        assert!(wait_readable(l.as_fd(), Duration::from_secs(5)).unwrap());
    }
}
