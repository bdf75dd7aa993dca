//! The few socket calls std does not offer: SO_SNDBUF, the kernel's time figures of a
//! sender (`TCP_INFO`) and waiting for a listener.

use std::io;
use std::mem::{offset_of, size_of};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::Duration;

use crate::analysis::lab_run::SenderTimes;

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

/// How long the kernel found the socket busy sending, and held back by the receiver's
/// window or by its own send buffer (`TCP_INFO`). `None` from a kernel older than Linux
/// 4.10, whose `tcp_info` ends before these fields, or when the kernel cannot be asked.
pub(crate) fn sender_times(fd: BorrowedFd<'_>) -> Option<SenderTimes> {
    // SAFETY: tcp_info is plain old data; all-zero is a valid value.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: fd is a live socket; the kernel writes at most `len` bytes into `info`,
    // which is that large, and stores the length it wrote in `len`.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&raw mut info).cast(),
            &raw mut len,
        )
    };
    if rc != 0 {
        return None;
    }
    times_within(&info, usize::try_from(len).unwrap_or(0))
}

/// The time figures of `info`, of which the kernel wrote the first `len` bytes: `None`
/// when they lie beyond, as the older kernels' shorter struct leaves them.
fn times_within(info: &libc::tcp_info, len: usize) -> Option<SenderTimes> {
    let end = offset_of!(libc::tcp_info, tcpi_sndbuf_limited) + size_of::<u64>();
    (len >= end).then_some(SenderTimes {
        busy_us: info.tcpi_busy_time,
        rwnd_limited_us: info.tcpi_rwnd_limited,
        sndbuf_limited_us: info.tcpi_sndbuf_limited,
    })
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
    fn a_kernel_that_wrote_less_than_the_time_figures_gives_none() {
        // SAFETY: tcp_info is plain old data; all-zero is a valid value.
        let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
        info.tcpi_busy_time = 3;
        info.tcpi_rwnd_limited = 2;
        info.tcpi_sndbuf_limited = 1;
        let end = offset_of!(libc::tcp_info, tcpi_sndbuf_limited) + 8;
        assert_eq!(times_within(&info, end - 1), None);
        // Linux 4.9's tcp_info ends at tcpi_delivery_rate.
        let linux_4_9 = offset_of!(libc::tcp_info, tcpi_busy_time);
        assert_eq!(times_within(&info, linux_4_9), None);
        let t = times_within(&info, end).expect("all three written");
        assert_eq!(
            (t.busy_us, t.rwnd_limited_us, t.sndbuf_limited_us),
            (3, 2, 1)
        );
    }

    #[test]
    fn a_connection_that_sent_nothing_was_never_busy() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let _c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (s, _) = l.accept().unwrap();
        let t = sender_times(s.as_fd()).expect("Linux 4.10 or later");
        assert_eq!(
            (t.busy_us, t.rwnd_limited_us, t.sndbuf_limited_us),
            (0, 0, 0)
        );
    }

    #[test]
    fn an_idle_listener_is_not_readable() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        assert!(!wait_readable(l.as_fd(), Duration::from_millis(10)).unwrap());
        let _c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        assert!(wait_readable(l.as_fd(), Duration::from_secs(5)).unwrap());
    }
}
