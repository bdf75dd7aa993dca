//! TCP tracking: connections, Wireshark-equivalent analysis, reassembly.

pub mod analysis;
pub mod conn;
pub mod flags;
pub mod reassembly;
pub mod summary;

use std::collections::HashMap;
use std::net::SocketAddr;

pub use conn::{BodySink, Connection, NoBodies};
pub use flags::{Flag, FlagCounts, FlagSet};
pub use summary::ConnectionSummary;

use crate::wire::Segment;

/// Memory bounds per connection.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Out-of-order bytes held per direction before declaring a gap.
    pub reassembly_bytes: usize,
    pub http: crate::http::Limits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            reassembly_bytes: reassembly::DEFAULT_LIMIT,
            http: crate::http::Limits::default(),
        }
    }
}

type Key = (SocketAddr, SocketAddr);

fn key(seg: &Segment<'_>) -> Key {
    if seg.src <= seg.dst {
        (seg.src, seg.dst)
    } else {
        (seg.dst, seg.src)
    }
}

/// All connections of a capture, numbered as Wireshark numbers `tcp.stream`.
pub struct Tracker {
    live: HashMap<Key, Connection>,
    done: Vec<ConnectionSummary>,
    next_id: u64,
    limits: Limits,
    /// The connection whose packets are listed one by one, if any.
    list: Option<u64>,
}

impl Tracker {
    pub fn new(limits: Limits, list: Option<u64>) -> Tracker {
        Tracker {
            live: HashMap::new(),
            done: Vec::new(),
            next_id: 0,
            limits,
            list,
        }
    }

    /// Tracks one segment; returns its connection's id and analysis flags.
    pub fn segment(&mut self, seg: &Segment<'_>, sink: &mut dyn BodySink) -> (u64, FlagSet) {
        let k = key(seg);
        let reused = self.live.get(&k).is_some_and(|c| c.reused_by(seg));
        if reused && let Some(old) = self.live.remove(&k) {
            self.done.push(old.finish(sink));
        }
        let conn = match self.live.entry(k) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let id = self.next_id;
                self.next_id += 1;
                e.insert(Connection::new(
                    id,
                    seg,
                    &self.limits,
                    self.list == Some(id),
                ))
            }
        };
        let flags = conn.segment(seg, sink);
        (conn.id, flags)
    }

    /// End of capture: every connection's summary, in id order.
    pub fn finish(mut self, sink: &mut dyn BodySink) -> Vec<ConnectionSummary> {
        let mut live: Vec<Connection> = self.live.into_values().collect();
        live.sort_by_key(|c| c.id);
        for c in live {
            self.done.push(c.finish(sink));
        }
        self.done.sort_by_key(|c| c.id);
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{Pkt, Trace};

    fn summaries(t: &Trace) -> Vec<ConnectionSummary> {
        let mut tracker = Tracker::new(Limits::default(), None);
        for s in t.segments() {
            tracker.segment(&s, &mut NoBodies);
        }
        tracker.finish(&mut NoBodies)
    }

    fn exchange(t: &mut Trace, isn: u32) {
        t.push(Pkt::c2s(isn, b"").syn())
            .push(Pkt::s2c(9000, b"").syn().ack(isn + 1))
            .push(Pkt::c2s(isn + 1, b"").ack(9001))
            .push(Pkt::c2s(isn + 1, b"GET / HTTP/1.0\r\n\r\n").ack(9001))
            .push(
                Pkt::s2c(9001, b"HTTP/1.0 200 OK\r\n\r\nhi")
                    .ack(isn + 19)
                    .fin(),
            )
            .push(Pkt::c2s(isn + 19, b"").ack(9023).fin());
    }

    #[test]
    fn a_syn_with_a_new_isn_on_the_same_ports_starts_a_new_connection() {
        let mut t = Trace::new();
        exchange(&mut t, 1000);
        exchange(&mut t, 777_000);
        let s = summaries(&t);
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].first_frame, 7);
        assert_eq!(s[1].handshake.client_isn, Some(777_000));
    }

    #[test]
    fn without_a_handshake_the_listing_names_the_sides_by_port_like_the_summary() {
        let mut t = Trace::new();
        t.push(Pkt::s2c(500, b"HTTP/1.1 200 OK\r\n").ack(100))
            .push(Pkt::c2s(100, b"").ack(519));
        let mut tracker = Tracker::new(Limits::default(), Some(0));
        for s in t.segments() {
            tracker.segment(&s, &mut NoBodies);
        }
        let s = tracker.finish(&mut NoBodies);
        assert_eq!(s[0].client, "10.0.0.1:40000");
        let rows = s[0].packet_list.as_ref().expect("listed");
        assert_eq!((rows[0].from, rows[1].from), ("server", "client"));
    }

    #[test]
    fn a_repeated_syn_stays_in_its_connection_as_a_retransmission() {
        let mut t = Trace::new();
        t.push(Pkt::c2s(1000, b"").syn())
            .at(1_000_000, Pkt::c2s(1000, b"").syn());
        let s = summaries(&t);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].flags.get(Flag::Retransmission), 1);
    }

    #[test]
    fn a_closed_exchange_reports_bytes_and_http() {
        let mut t = Trace::new();
        exchange(&mut t, 1000);
        let s = summaries(&t);
        assert_eq!(s[0].bytes.client_to_server, 18);
        assert_eq!(s[0].bytes.server_to_client, 21);
        assert_eq!(s[0].http.len(), 1);
        assert_eq!(s[0].http[0].status, Some(200));
        assert_eq!(s[0].http[0].header_length, Some(15));
        assert_eq!(s[0].http[0].body_bytes, 2);
        assert!(s[0].http[0].complete);
        assert!(s[0].handshake.seen);
    }
}
