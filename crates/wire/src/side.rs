//! Which end of a connection sent something: the client or the server.

use std::fmt;

use serde::Serialize;

/// One end of a TCP connection, named for its role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The connection's initiator (the SYN sender; requests in HTTP).
    Client,
    /// The responder (responses in HTTP).
    Server,
}

impl Side {
    /// The other end.
    pub fn peer(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }

    /// "client" or "server", as reports and JSON name it.
    pub fn name(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_side_is_the_peer_of_the_other() {
        assert_eq!(Side::Client.peer(), Side::Server);
        assert_eq!(Side::Server.peer(), Side::Client);
        assert_eq!(Side::Client.to_string(), "client");
        assert_eq!(
            format!("[{:<7}]", Side::Server),
            "[server ]",
            "padding applies"
        );
        assert_eq!(Side::Server.name(), "server");
        assert_eq!(
            serde_json::to_string(&Side::Client).ok().as_deref(),
            Some("\"client\"")
        );
    }
}
