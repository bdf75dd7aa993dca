//! The client socket, set up the way the experiment needs: receive buffer
//! fixed before `connect()`, local address known before the SYN, and the
//! kernel's view (`SIOCINQ`, `TCP_INFO`) readable between recvs.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::recvlog::TcpInfo;

/// A bound, not yet connected, TCP socket.
pub(crate) struct ClientSocket {
    socket: Socket,
    local: SocketAddr,
}

impl ClientSocket {
    /// Creates the socket, sets SO_RCVBUF (before connect: the window scale
    /// is fixed by the SYN) and binds it to the address that routes to `peer`.
    pub(crate) fn bind(peer: SocketAddr, rcvbuf: Option<u64>) -> io::Result<ClientSocket> {
        let socket = Socket::new(Domain::for_address(peer), Type::STREAM, Some(Protocol::TCP))?;
        if let Some(size) = rcvbuf {
            let size = usize::try_from(size).unwrap_or(usize::MAX);
            socket.set_recv_buffer_size(size)?;
        }
        socket.bind(&SockAddr::from(SocketAddr::new(source_for(peer)?, 0)))?;
        let local = socket
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("the socket has no IP address"))?;
        Ok(ClientSocket { socket, local })
    }

    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The receive buffer Linux chose (it doubles what was asked, and clamps).
    pub(crate) fn rcvbuf(&self) -> io::Result<u64> {
        Ok(self.socket.recv_buffer_size()? as u64)
    }

    /// Connects, waiting at most `timeout`.
    pub(crate) fn connect(self, peer: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
        self.socket
            .connect_timeout(&SockAddr::from(peer), timeout)?;
        Ok(self.socket.into())
    }
}

/// The local address the kernel would use to reach `peer` (a UDP
/// `connect()` sends nothing).
fn source_for(peer: SocketAddr) -> io::Result<IpAddr> {
    if peer.ip().is_loopback() {
        return Ok(peer.ip());
    }
    let any: IpAddr = match peer {
        SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    let probe = UdpSocket::bind((any, 0))?;
    probe.connect(peer)?;
    Ok(probe.local_addr()?.ip())
}

/// Bytes waiting in the socket's receive queue (`SIOCINQ`).
pub(crate) fn queued(stream: &TcpStream) -> io::Result<u64> {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD (= SIOCINQ) writes one c_int through the pointer,
    // which points to a live c_int; the fd is owned by `stream`.
    let rc = unsafe { libc::ioctl(stream.as_raw_fd(), libc::FIONREAD, &mut n) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The kernel's `TCP_INFO` for the socket, or `None` where it is not given.
pub(crate) fn tcp_info(stream: &TcpStream) -> Option<TcpInfo> {
    // SAFETY: tcp_info is plain old data; all-zero is a valid value.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `info`, which is
    // that large, and stores the length it wrote in `len`.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&raw mut info).cast(),
            &mut len,
        )
    };
    if rc < 0 {
        return None;
    }
    let has = |offset: usize, size: usize| len as usize >= offset + size;
    Some(TcpInfo {
        rcv_wnd: has(std::mem::offset_of!(libc::tcp_info, tcpi_rcv_wnd), 4)
            .then_some(info.tcpi_rcv_wnd),
        rcv_space: info.tcpi_rcv_space,
        rcv_mss: info.tcpi_rcv_mss,
        rtt_us: info.tcpi_rtt,
        bytes_received: has(std::mem::offset_of!(libc::tcp_info, tcpi_bytes_received), 8)
            .then_some(info.tcpi_bytes_received),
    })
}
