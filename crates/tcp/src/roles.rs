//! Which end is the client: from the handshake, else from what each side
//! sent first, else from the ports.

use std::net::SocketAddr;

use serde::Serialize;

use recvscope_wire::Side;

use super::dir::Dir;

/// The rule that decided which end of a connection is the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleRule {
    /// The SYN's sender, or the SYN-ACK's receiver.
    Handshake,
    /// No handshake: the first payload was a request (the client's) or a
    /// response (the server's), by the stream sink's reading of it.
    Content,
    /// No handshake, nothing telling in the first payload: the end on a
    /// well-known port ([`well_known`]) is the server.
    WellKnownPort,
    /// None of the above: the end on the higher port is the client (the
    /// other end first, when the ports are equal).
    PortOrder,
}

/// HTTP's alternate ports, taken as well-known beside the system ports.
const HTTP_ALTERNATES: [u16; 4] = [8000, 8008, 8080, 8443];

/// A port a server listens on: a system port (1–1023) or one of HTTP's
/// alternates (8000, 8008, 8080, 8443).
pub fn well_known(port: u16) -> bool {
    (1..1024).contains(&port) || HTTP_ALTERNATES.contains(&port)
}

/// The client's direction when only the ports tell, and the rule that
/// decided: `addrs` are the senders of [`Dir::Original`] and [`Dir::Reply`].
pub(crate) fn by_ports(addrs: [SocketAddr; 2]) -> (Dir, RoleRule) {
    let (first, second) = (addrs[Dir::Original].port(), addrs[Dir::Reply].port());
    match (well_known(first), well_known(second)) {
        (true, false) => (Dir::Reply, RoleRule::WellKnownPort),
        (false, true) => (Dir::Original, RoleRule::WellKnownPort),
        _ if first < second => (Dir::Reply, RoleRule::PortOrder),
        _ => (Dir::Original, RoleRule::PortOrder),
    }
}

/// The client's direction when `dir`'s first payload shows its sender
/// to be `role`.
pub(crate) fn by_content(dir: Dir, role: Side) -> (Dir, RoleRule) {
    let client = match role {
        Side::Client => dir,
        Side::Server => dir.peer(),
    };
    (client, RoleRule::Content)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(a: u16, b: u16) -> [SocketAddr; 2] {
        [
            SocketAddr::from(([10, 0, 0, 1], a)),
            SocketAddr::from(([10, 0, 0, 2], b)),
        ]
    }

    #[test]
    fn a_well_known_port_is_the_servers_even_when_it_is_the_higher_one() {
        assert_eq!(
            by_ports(addrs(8080, 1050)),
            (Dir::Reply, RoleRule::WellKnownPort)
        );
        assert_eq!(
            by_ports(addrs(1050, 80)),
            (Dir::Original, RoleRule::WellKnownPort)
        );
    }

    #[test]
    fn two_or_no_well_known_ports_leave_the_higher_port_to_the_client() {
        assert_eq!(by_ports(addrs(22, 80)), (Dir::Reply, RoleRule::PortOrder));
        assert_eq!(
            by_ports(addrs(64000, 39976)),
            (Dir::Original, RoleRule::PortOrder)
        );
        assert_eq!(
            by_ports(addrs(5000, 5000)),
            (Dir::Original, RoleRule::PortOrder)
        );
    }

    #[test]
    fn a_response_first_makes_its_receiver_the_client() {
        assert_eq!(
            by_content(Dir::Original, Side::Server),
            (Dir::Reply, RoleRule::Content)
        );
        assert_eq!(
            by_content(Dir::Reply, Side::Client),
            (Dir::Reply, RoleRule::Content)
        );
    }
}
