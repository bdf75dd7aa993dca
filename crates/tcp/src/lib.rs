//! **Pipeline: segments → `recvscope-tcp` → per-connection figures and in-order
//! bytes.** Second stage, after recvscope-wire; it knows no HTTP: bytes leave
//! through a [`StreamSink`] that recvscope-analysis supplies.
//!
//! TCP tracking: connections, Wireshark-equivalent analysis, reassembly.

#![warn(unreachable_pub)]

mod analysis;
mod conn;
mod dir;
mod flags;
mod pace;
mod reassembly;
mod record;
mod roles;
mod stream;
mod summary;

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};

use foldhash::quality::RandomState;
use std::net::{IpAddr, SocketAddr};

use conn::Connection;
pub use flags::{Flag, FlagCounts, FlagSet};
pub use pace::{LimitedBy, Pace, PaceSetter, Retransmissions, WindowEvidence};
pub use record::{PacketRecord, StreamOffsets};
pub use roles::{RoleRule, well_known};
pub use stream::StreamSink;
pub use summary::{ByDirection, Finished, FlowControl, TcpSummary, TcpWarning, WindowScaling};

use dir::Dir;
use recvscope_wire::{Segment, SeqNumber, Tunnel};

/// Memory bounds per connection.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Out-of-order bytes held per direction before declaring a gap.
    pub reassembly_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            reassembly_bytes: reassembly::DEFAULT_LIMIT,
        }
    }
}

/// A connection's two endpoints in a canonical order, packed into plain
/// integers: hashing and comparing them is a few instructions per segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Key {
    addrs: [u128; 2],
    ports: [u16; 2],
    v6: bool,
    /// The encapsulations peeled: the same addresses inside a tunnel and
    /// directly are two connections.
    tunnel: Tunnel,
}

fn endpoint(a: SocketAddr) -> (u128, u16) {
    let ip = match a.ip() {
        IpAddr::V4(ip) => u128::from(u32::from(ip)),
        IpAddr::V6(ip) => u128::from(ip),
    };
    (ip, a.port())
}

/// The key's slot (0 or 1) of the endpoint `src` sending to `dst`.
fn slot(src: SocketAddr, dst: SocketAddr) -> usize {
    usize::from(endpoint(src) > endpoint(dst))
}

fn key(seg: &Segment<'_>) -> Key {
    let (a, b) = (endpoint(seg.src), endpoint(seg.dst));
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    Key {
        addrs: [lo.0, hi.0],
        ports: [lo.1, hi.1],
        v6: seg.src.is_ipv6(),
        tunnel: seg.tunnel,
    }
}

/// What is kept of a closed connection once it is reported: enough for
/// Wireshark's rule that only a SYN with a new ISN starts a new stream on
/// the same 4-tuple, however long after the close.
#[derive(Clone, Copy, Debug)]
struct Tombstone {
    id: u64,
    /// Base sequence number of each sender, by key slot.
    base_seq: [Option<SeqNumber>; 2],
}

impl Tombstone {
    fn of<S>(conn: &Connection<S>) -> Tombstone {
        let mut base_seq = [None; 2];
        for dir in Dir::BOTH {
            let slot = slot(conn.addrs[dir], conn.addrs[dir.peer()]);
            base_seq[slot] = conn.dirs[dir].base_seq;
        }
        Tombstone {
            id: conn.id,
            base_seq,
        }
    }

    /// True when `seg` starts a new connection, by the rule of
    /// `Connection::reused_by`.
    fn reused_by(&self, seg: &Segment<'_>) -> bool {
        conn::starts_anew(self.base_seq[slot(seg.src, seg.dst)], seg)
    }
}

/// Closed connections kept open for late segments (a retransmitted FIN,
/// a last ACK) before they are reported and dropped; beyond this many the
/// oldest closed one goes first.
pub(crate) const MAX_CLOSED_KEPT: usize = 1024;
/// Capture time after its last segment that a closed connection is kept for.
pub(crate) const CLOSED_LINGER_NS: i64 = 60_000_000_000;
/// Reported closed connections remembered (as a [`Tombstone`], a few dozen
/// bytes each) so that their late segments do not open new ones; beyond
/// this many the oldest is forgotten.
pub(crate) const MAX_TOMBSTONES: usize = 65_536;
/// Connections tracked at once; beyond this the least recently active
/// eighth is reported (marked cut short) and dropped, so memory stays
/// bounded on a capture of endless connections.
/// About 2 KB each with their table entry, so ~35 MB of open connections.
pub const MAX_LIVE: usize = 16_384;

/// All connections of a capture, numbered as Wireshark numbers `tcp.stream`.
///
/// Memory is bounded by the connections still open: closed ones are
/// finished after `CLOSED_LINGER_NS` of capture time or once more than
/// `MAX_CLOSED_KEPT` are waiting, and they wait in
/// [`Tracker::take_finished`] for the caller to stream out. Each
/// connection's in-order bytes go to its own `S`.
pub struct Tracker<S: StreamSink> {
    /// Boxed: a table of small entries grows without moving connections.
    live: HashMap<Key, Box<Connection<S>>, RandomState>,
    /// Connections that closed, oldest first: key, id, capture time of the close.
    closed: VecDeque<(Key, u64, i64)>,
    finished: Vec<Finished<S>>,
    /// Closed connections already reported, and their keys and ids oldest first.
    tombstones: HashMap<Key, Tombstone, RandomState>,
    buried: VecDeque<(Key, u64)>,
    next_id: u64,
    limits: Limits,
    config: S::Config,
    /// The connection whose packets are listed one by one, if any.
    list: Option<u64>,
    /// Every connection's packets are listed.
    list_all: bool,
    /// Flags of every connection finished so far.
    totals: FlagCounts,
    /// Connections dropped while still open because of [`MAX_LIVE`].
    evicted: u64,
    /// The first connection of each address pair seen in a tunnel, by its
    /// key without the tunnel: filled only by tunnelled connections.
    tunnelled: HashMap<Key, u64, RandomState>,
    /// The first connection seen both in a tunnel and directly (or in two
    /// tunnels): the two ids, and how many such pairs there were.
    seen_twice: Option<SeenTwice>,
}

/// One TCP connection's addresses seen inside a tunnel and directly (or in
/// two different tunnels): kept as two connections, not merged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeenTwice {
    /// The first such pair: the earlier connection's id, then the later's.
    pub first: (u64, u64),
    /// Connections found so.
    pub connections: u64,
}

impl<S: StreamSink> Tracker<S> {
    /// `config` opens each connection's sink; `list` names the connection
    /// whose packet records are kept, if any.
    pub fn new(limits: Limits, config: S::Config, list: Option<u64>) -> Tracker<S> {
        Tracker {
            live: HashMap::with_hasher(RandomState::default()),
            closed: VecDeque::new(),
            finished: Vec::new(),
            tombstones: HashMap::with_hasher(RandomState::default()),
            buried: VecDeque::new(),
            next_id: 0,
            limits,
            config,
            list,
            list_all: false,
            totals: FlagCounts::default(),
            evicted: 0,
            tunnelled: HashMap::with_hasher(RandomState::default()),
            seen_twice: None,
        }
    }

    /// A new connection's addresses against those seen in tunnels: a pair
    /// seen before under another tunnel (or none) is noted.
    fn note_tunnel(&mut self, k: Key, id: u64) {
        if k.tunnel.is_empty() && self.tunnelled.is_empty() {
            return;
        }
        let bare = Key {
            tunnel: Tunnel::default(),
            ..k
        };
        let earlier = if k.tunnel.is_empty() {
            self.tunnelled.get(&bare).copied()
        } else {
            let first = *self.tunnelled.entry(bare).or_insert(id);
            let direct = self.live.get(&bare).map(|c| c.id);
            direct.or((first != id).then_some(first))
        };
        if let Some(earlier) = earlier {
            let seen = self.seen_twice.get_or_insert(SeenTwice {
                first: (earlier, id),
                connections: 0,
            });
            seen.connections += 1;
        }
    }

    /// The first connection seen both in a tunnel and directly, if any.
    pub fn seen_twice(&self) -> Option<SeenTwice> {
        self.seen_twice
    }

    /// Keeps the packet records of every connection, not only `list`'s:
    /// for a caller that picks the ones it needs once they have ended.
    pub fn list_every_connection(&mut self) {
        self.list_all = true;
    }

    /// Tracks one segment; returns its connection's id and analysis flags.
    /// A late segment of a closed connection already reported is in that
    /// connection (Wireshark's `tcp.stream`) but no longer analysed: it
    /// has no flags, and its figures are not in the report.
    pub fn segment(&mut self, seg: &Segment<'_>, out: &mut S::Out) -> (u64, FlagSet) {
        let k = key(seg);
        if let Some(t) = self.tombstones.get(&k) {
            if !t.reused_by(seg) {
                return (t.id, FlagSet::default());
            }
            self.tombstones.remove(&k);
        }
        if self.live.len() >= MAX_LIVE && !self.live.contains_key(&k) {
            self.evict(out);
        }
        let mut replaced = None;
        let mut new_conn = None;
        let conn = match self.live.entry(k) {
            Entry::Occupied(e) => {
                let conn = e.into_mut();
                if conn.reused_by(seg) {
                    let fresh = Connection::new(
                        self.next_id,
                        seg,
                        &self.limits,
                        &self.config,
                        self.list_all || self.list == Some(self.next_id),
                    );
                    self.next_id += 1;
                    replaced = Some(std::mem::replace(conn, Box::new(fresh)));
                }
                conn
            }
            Entry::Vacant(e) => {
                let id = self.next_id;
                self.next_id += 1;
                new_conn = Some(id);
                e.insert(Box::new(Connection::new(
                    id,
                    seg,
                    &self.limits,
                    &self.config,
                    self.list_all || self.list == Some(id),
                )))
            }
        };
        let was_closed = conn.closed();
        let flags = conn.segment(seg, out);
        let id = conn.id;
        let now_closed = !was_closed && conn.closed();
        if let Some(old) = replaced {
            self.finish_one(*old, out);
        }
        if let Some(new) = new_conn {
            self.note_tunnel(k, new);
        }
        if now_closed {
            self.closed.push_back((k, id, seg.meta.ts_ns));
        }
        self.retire_closed(seg.meta.ts_ns, out);
        (id, flags)
    }

    /// Finishes closed connections that lingered long enough, or the
    /// oldest ones when too many wait.
    fn retire_closed(&mut self, now: i64, out: &mut S::Out) {
        while let Some(&(k, id, closed_at)) = self.closed.front() {
            let crowded = self.closed.len() > MAX_CLOSED_KEPT;
            // A connection's last segment is never older than its close.
            if !crowded && now.saturating_sub(closed_at) <= CLOSED_LINGER_NS {
                break;
            }
            let Some(conn) = self.live.get(&k).filter(|c| c.id == id) else {
                self.closed.pop_front();
                continue;
            };
            if !crowded && now.saturating_sub(conn.last_ts) <= CLOSED_LINGER_NS {
                // Still active: look again after another linger.
                self.closed.pop_front();
                self.closed.push_back((k, id, conn.last_ts));
                continue;
            }
            self.closed.pop_front();
            if let Some(conn) = self.live.remove(&k) {
                self.bury(k, Tombstone::of(&conn));
                self.finish_one(*conn, out);
            }
        }
    }

    /// Remembers a reported closed connection, forgetting the oldest
    /// beyond [`MAX_TOMBSTONES`].
    fn bury(&mut self, k: Key, t: Tombstone) {
        self.tombstones.insert(k, t);
        self.buried.push_back((k, t.id));
        while self.buried.len() > MAX_TOMBSTONES {
            // A key reused since keeps its newer tombstone.
            if let Some((old, id)) = self.buried.pop_front()
                && self.tombstones.get(&old).is_some_and(|o| o.id == id)
            {
                self.tombstones.remove(&old);
            }
        }
    }

    /// Drops the least recently active eighth of the live connections.
    fn evict(&mut self, out: &mut S::Out) {
        let mut by_age: Vec<(i64, Key)> = self.live.iter().map(|(k, c)| (c.last_ts, *k)).collect();
        let n = (by_age.len() / 8).max(1);
        by_age.select_nth_unstable(n - 1);
        for (_, k) in by_age.into_iter().take(n) {
            if let Some(conn) = self.live.remove(&k) {
                self.evicted += 1;
                let mut done = conn.finish(out);
                done.warnings
                    .push(TcpWarning::TrackingStoppedEarly { max_live: MAX_LIVE });
                self.push_finished(done);
            }
        }
    }

    fn finish_one(&mut self, conn: Connection<S>, out: &mut S::Out) {
        let done = conn.finish(out);
        self.push_finished(done);
    }

    fn push_finished(&mut self, done: Finished<S>) {
        self.totals = std::mem::take(&mut self.totals).merged(&done.tcp.flags);
        self.finished.push(done);
    }

    /// Connections finished since the last call, in the order they ended.
    /// A caller that never takes them gets them from [`Tracker::finish`].
    pub fn take_finished(&mut self) -> std::vec::Drain<'_, Finished<S>> {
        self.finished.drain(..)
    }

    /// Connections dropped while open because too many were open at once.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// End of capture: the summaries not yet taken (every connection's, in
    /// id order, for a caller that never took any), and the flag totals
    /// over all connections.
    pub fn finish(self, out: &mut S::Out) -> (Vec<Finished<S>>, FlagCounts) {
        let mut all = Vec::new();
        let totals = self.finish_each(out, &mut |c, _| all.push(c));
        all.sort_by_key(|c| c.tcp.id);
        (all, totals)
    }

    /// End of capture, streaming: hands `each` (with `out`) the connections not yet taken,
    /// then the open connections' in id order, one at a time, so no more
    /// than one finished summary is held; returns the flag totals.
    pub fn finish_each(
        mut self,
        out: &mut S::Out,
        each: &mut dyn FnMut(Finished<S>, &mut S::Out),
    ) -> FlagCounts {
        for c in self.finished.drain(..) {
            each(c, out);
        }
        let mut live: Vec<Box<Connection<S>>> = self.live.drain().map(|(_, c)| c).collect();
        live.sort_by_key(|c| c.id);
        for conn in live {
            let done = conn.finish(out);
            self.totals = std::mem::take(&mut self.totals).merged(&done.tcp.flags);
            each(done, out);
        }
        self.totals
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use recvscope_testkit::{Pkt, Trace};
    use recvscope_wire::{Gap, Side};

    fn summaries(t: &Trace) -> Vec<TcpSummary> {
        let mut tracker = Tracker::<()>::new(Limits::default(), (), None);
        for s in t.segments() {
            tracker.segment(&s, &mut ());
        }
        tracker
            .finish(&mut ())
            .0
            .into_iter()
            .map(|f| f.tcp)
            .collect()
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
    fn both_directions_share_a_key_and_an_ipv4_address_never_meets_its_ipv6_twin() {
        let decode = |ip: &[u8]| match recvscope_wire::decode(
            recvscope_wire::LinkType::Raw,
            ip,
            recvscope_wire::FrameMeta {
                number: 1,
                ts_ns: 0,
                orig_len: 60,
            },
        ) {
            recvscope_wire::Decoded::Tcp(s) => key(&s),
            other => panic!("not TCP: {other:?}"),
        };
        let there = decode(&Pkt::c2s(1, b"").ipv4());
        assert_eq!(decode(&Pkt::s2c(1, b"").ipv4()), there);
        assert_ne!(decode(&Pkt::c2s(1, b"").client_port(1).ipv4()), there);
        // ::a00:1 and ::a00:2 hold the same 32 bits as 10.0.0.1 and 10.0.0.2.
        let mut v6 = Pkt::c2s(1, b"").ipv6();
        v6[8..24].copy_from_slice(&std::net::Ipv6Addr::from_bits(0x0a00_0001).octets());
        v6[24..40].copy_from_slice(&std::net::Ipv6Addr::from_bits(0x0a00_0002).octets());
        let twin = decode(&v6);
        assert_eq!((twin.addrs, twin.ports), (there.addrs, there.ports));
        assert_ne!(twin, there);
    }

    #[test]
    fn addresses_seen_in_a_tunnel_and_directly_are_two_connections_noted_once() {
        use recvscope_testkit::wrap;
        use recvscope_wire::{Decoded, FrameMeta, LinkType, decode};
        let gre = |ip: &[u8]| wrap::ethernet(&wrap::outer_ipv4(&wrap::gre(ip, 0x0800), 47), 0x0800);
        let vxlan = |ip: &[u8]| {
            let udp = wrap::udp(&wrap::vxlan(&wrap::ethernet(ip, 0x0800)), 4789);
            wrap::ethernet(&wrap::outer_ipv4(&udp, 17), 0x0800)
        };
        let syn = Pkt::c2s(1, b"").syn().ipv4();
        // In GRE first, then directly, then in VXLAN, then in GRE again.
        let frames = [
            gre(&syn),
            wrap::ethernet(&syn, 0x0800),
            vxlan(&syn),
            gre(&syn),
        ];
        let mut tracker = Tracker::<()>::new(Limits::default(), (), None);
        let mut ids = Vec::new();
        for (n, f) in frames.iter().enumerate() {
            let meta = FrameMeta {
                number: n as u64 + 1,
                ts_ns: n as i64,
                orig_len: f.len() as u32,
            };
            match decode(LinkType::Ethernet, f, meta) {
                Decoded::Tcp(seg) => ids.push(tracker.segment(&seg, &mut ()).0),
                other => panic!("not TCP: {other:?}"),
            }
        }
        assert_eq!(ids, [0, 1, 2, 0]);
        assert_eq!(
            tracker.seen_twice(),
            Some(SeenTwice {
                first: (0, 1),
                connections: 2
            })
        );
    }

    #[test]
    fn listing_every_connection_keeps_each_ones_records() {
        let mut t = Trace::new();
        exchange(&mut t, 1000);
        exchange(&mut t, 777_000);
        let mut tracker = Tracker::<()>::new(Limits::default(), (), None);
        tracker.list_every_connection();
        for s in t.segments() {
            tracker.segment(&s, &mut ());
        }
        let (done, _) = tracker.finish(&mut ());
        let listed: Vec<usize> = done
            .iter()
            .map(|f| f.records.as_ref().map_or(0, Vec::len))
            .collect();
        assert_eq!(listed, [6, 6]);
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
        let mut tracker = Tracker::<()>::new(Limits::default(), (), Some(0));
        for s in t.segments() {
            tracker.segment(&s, &mut ());
        }
        let (s, _) = tracker.finish(&mut ());
        assert_eq!(s[0].tcp.client, "10.0.0.1:40000");
        let rows = s[0].records.as_ref().expect("listed");
        assert_eq!((rows[0].from, rows[1].from), (Side::Server, Side::Client));
    }

    /// A sink whose protocol's requests begin `REQ`.
    struct ReadsRequests;

    impl StreamSink for ReadsRequests {
        type Config = ();
        type Out = ();
        fn open(_: &()) -> Self {
            ReadsRequests
        }
        fn sender_role(payload: &[u8]) -> Option<Side> {
            payload.starts_with(b"REQ").then_some(Side::Client)
        }
        fn data(&mut self, _: &mut (), _: u64, _: Side, _: i64, _: &[u8]) {}
        fn gap(&mut self, _: &mut (), _: u64, _: Side, _: i64, _: Gap) {}
        fn close(&mut self, _: &mut (), _: u64, _: Side, _: i64) {}
        fn began(&mut self, _: &mut (), _: u64, _: Side) {}
    }

    #[test]
    fn without_a_handshake_a_telling_first_payload_names_the_sides_and_the_rows_listed_before_it() {
        let mut t = Trace::new();
        t.push(Pkt::c2s(100, b"").ack(500).ports(39976, 64000))
            .push(Pkt::c2s(100, b"REQ 1").ack(500).ports(39976, 64000))
            .push(Pkt::s2c(500, b"").ack(105).ports(39976, 64000));
        let mut tracker = Tracker::<ReadsRequests>::new(Limits::default(), (), Some(0));
        for s in t.segments() {
            tracker.segment(&s, &mut ());
        }
        let (s, _) = tracker.finish(&mut ());
        assert_eq!(s[0].tcp.client, "10.0.0.1:39976");
        assert_eq!(s[0].tcp.roles_from, RoleRule::Content);
        let rows = s[0].records.as_ref().expect("listed");
        let from: Vec<Side> = rows.iter().map(|r| r.from).collect();
        assert_eq!(from, [Side::Client, Side::Client, Side::Server]);
    }

    /// A whole short connection from client port `port`, starting `at_us`.
    fn short_connection(t: &mut Trace, port: u16, gap_us: i64) {
        t.at(gap_us, Pkt::c2s(1, b"").syn().client_port(port))
            .push(Pkt::s2c(9, b"").syn().ack(2).client_port(port))
            .push(Pkt::c2s(2, b"").fin().ack(10).client_port(port))
            .push(Pkt::s2c(10, b"").fin().ack(3).client_port(port))
            .push(Pkt::c2s(3, b"").ack(11).client_port(port));
    }

    fn run(t: &Trace, tracker: &mut Tracker<()>) -> Vec<u64> {
        let mut streamed = Vec::new();
        for s in t.segments() {
            tracker.segment(&s, &mut ());
            streamed.extend(tracker.take_finished().map(|c| c.tcp.id));
        }
        streamed
    }

    #[test]
    fn closed_connections_are_reported_once_too_many_wait_and_totals_count_them_all() {
        let mut t = Trace::new();
        let n = MAX_CLOSED_KEPT + 10;
        for i in 0..n {
            short_connection(&mut t, 20_000 + i as u16, 1);
        }
        let mut tracker = Tracker::<()>::new(Limits::default(), (), None);
        let streamed = run(&t, &mut tracker);
        assert_eq!(
            streamed,
            (0..10).collect::<Vec<u64>>(),
            "oldest closed first"
        );
        let (rest, totals) = tracker.finish(&mut ());
        assert_eq!(rest.len(), MAX_CLOSED_KEPT);
        assert_eq!(rest[0].tcp.id, 10);
        assert_eq!(totals.get(Flag::Retransmission), 0);
    }

    #[test]
    fn a_closed_connection_is_reported_after_lingering_a_minute_of_capture_time() {
        let mut t = Trace::new();
        short_connection(&mut t, 20_000, 1);
        short_connection(&mut t, 20_001, CLOSED_LINGER_NS / 1000 + 1);
        let mut tracker = Tracker::<()>::new(Limits::default(), (), None);
        assert_eq!(run(&t, &mut tracker), [0]);
    }

    /// Segment ids the tracker gives `t`'s segments, and the connections
    /// it reports.
    fn ids(t: &Trace) -> (Vec<u64>, Vec<TcpSummary>) {
        let mut tracker = Tracker::<()>::new(Limits::default(), (), None);
        let ids = t
            .segments()
            .iter()
            .map(|s| tracker.segment(s, &mut ()).0)
            .collect();
        let (done, _) = tracker.finish(&mut ());
        (ids, done.into_iter().map(|f| f.tcp).collect())
    }

    /// A reset connection on port 20_000, then (past the linger) a segment
    /// on port 20_001 that retires it.
    fn reset_and_retired(t: &mut Trace) {
        t.push(Pkt::c2s(1, b"").syn().client_port(20_000))
            .push(Pkt::s2c(9, b"").syn().ack(2).client_port(20_000))
            .push(Pkt::c2s(2, b"").rst().ack(10).client_port(20_000))
            .at(
                CLOSED_LINGER_NS / 1000 + 1,
                Pkt::c2s(1, b"").syn().client_port(20_001),
            );
    }

    #[test]
    fn a_late_reset_of_a_reported_connection_is_in_it_and_opens_none() {
        let mut t = Trace::new();
        reset_and_retired(&mut t);
        t.push(Pkt::c2s(2_094_168_062, b"").rst().client_port(20_000))
            .push(Pkt::s2c(9, b"").syn().ack(2).client_port(20_000))
            .push(Pkt::c2s(1, b"").syn().client_port(20_000));
        let (ids, done) = ids(&t);
        assert_eq!(ids, [0, 0, 0, 1, 0, 0, 0], "a SYN repeating the ISN too");
        assert_eq!(done.len(), 2);
    }

    #[test]
    fn a_syn_with_a_new_isn_after_a_reported_close_starts_a_new_connection() {
        let mut t = Trace::new();
        reset_and_retired(&mut t);
        t.push(Pkt::c2s(5000, b"").syn().client_port(20_000))
            .push(Pkt::s2c(7000, b"").syn().ack(5001).client_port(20_000));
        let (ids, done) = ids(&t);
        assert_eq!(ids, [0, 0, 0, 1, 2, 2]);
        assert_eq!(done[2].handshake.client_isn, Some(5000));
    }

    #[test]
    fn a_stray_reset_far_out_of_window_moves_neither_stream() {
        let mut t = Trace::new();
        exchange(&mut t, 1000);
        t.push(Pkt::c2s(2_094_168_062, b"").rst().ack(2_000_000_000))
            .push(Pkt::s2c(1_500_000_000, b"oops").rst().ack(1020));
        let s = summaries(&t);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].bytes.client_to_server, 18);
        assert_eq!(s[0].bytes.server_to_client, 21);
        assert_eq!(s[0].missing_bytes.server_to_client, 0);
    }

    #[test]
    fn a_late_segment_of_a_closed_connection_stays_in_it() {
        let mut t = Trace::new();
        short_connection(&mut t, 20_000, 1);
        t.push(Pkt::s2c(10, b"").fin().ack(3).client_port(20_000));
        let mut tracker = Tracker::<()>::new(Limits::default(), (), None);
        assert!(run(&t, &mut tracker).is_empty());
        let (s, totals) = tracker.finish(&mut ());
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].tcp.flags.get(Flag::Retransmission), 1);
        assert_eq!(totals, s[0].tcp.flags);
    }

    #[test]
    fn too_many_open_connections_drop_the_least_recently_active_with_a_warning() {
        let mut t = Trace::new();
        for i in 0..=MAX_LIVE {
            let (client, server) = (1024 + (i % 60_000) as u16, 80 + (i / 60_000) as u16);
            t.at(1, Pkt::c2s(1, b"").syn().ports(client, server));
        }
        let mut tracker = Tracker::<()>::new(Limits::default(), (), None);
        let streamed = run(&t, &mut tracker);
        assert_eq!(streamed.len(), MAX_LIVE / 8);
        assert_eq!(streamed.iter().min(), Some(&0));
        assert_eq!(tracker.evicted(), (MAX_LIVE / 8) as u64);
        let (rest, _) = tracker.finish(&mut ());
        assert_eq!(rest.len(), MAX_LIVE + 1 - MAX_LIVE / 8);
    }

    #[test]
    fn a_million_tiny_connections_are_streamed_with_bounded_state() {
        use recvscope_wire::{Decoded, FrameMeta, LinkType, decode};
        let mut tracker = Tracker::<()>::new(Limits::default(), (), None);
        let mut streamed = 0u64;
        for i in 0..1_000_000u32 {
            let (client, server) = (1024 + (i % 60_000) as u16, 80 + (i / 60_000) as u16);
            for p in [
                Pkt::c2s(i, b"").syn().ports(client, server),
                Pkt::s2c(7, b"").rst().ack(i + 1).ports(client, server),
            ] {
                let bytes = p.ipv4();
                let meta = FrameMeta {
                    number: 1,
                    ts_ns: i64::from(i) * 1000,
                    orig_len: bytes.len() as u32,
                };
                if let Decoded::Tcp(seg) = decode(LinkType::Raw, &bytes, meta) {
                    tracker.segment(&seg, &mut ());
                }
            }
            streamed += tracker.take_finished().count() as u64;
            assert!(tracker.live.len() <= MAX_CLOSED_KEPT + 1);
            assert!(tracker.buried.len() <= MAX_TOMBSTONES);
        }
        assert_eq!(tracker.tombstones.len(), MAX_TOMBSTONES);
        let (rest, _) = tracker.finish(&mut ());
        assert_eq!(streamed + rest.len() as u64, 1_000_000);
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

    /// Keeps what a stream sink is told, in order.
    #[derive(Default)]
    struct Recorded(Vec<(u64, Side, String)>);

    impl StreamSink for Recorded {
        type Config = ();
        type Out = ();
        fn open(_: &()) -> Self {
            Recorded::default()
        }
        fn data(&mut self, _: &mut (), conn: u64, side: Side, _: i64, bytes: &[u8]) {
            self.0
                .push((conn, side, String::from_utf8_lossy(bytes).into_owned()));
        }
        fn gap(&mut self, _: &mut (), conn: u64, side: Side, _: i64, gap: Gap) {
            self.0.push((conn, side, format!("<{gap:?}>")));
        }
        fn close(&mut self, _: &mut (), conn: u64, side: Side, _: i64) {
            self.0.push((conn, side, "<close>".into()));
        }
        fn began(&mut self, _: &mut (), conn: u64, side: Side) {
            self.0.push((conn, side, "<began>".into()));
        }
    }

    #[test]
    fn bytes_the_snaplen_cut_are_not_captured_and_a_sequence_hole_is_missing() {
        let body = [b'x'; 1000];
        let mut t = Trace::new();
        t.push(Pkt::c2s(1000, b"").syn())
            .push(Pkt::s2c(9000, b"").syn().ack(1001))
            .snaplen(100)
            .push(Pkt::s2c(9001, &body).ack(1001))
            // 9001 + 1000 .. + 500: never seen, then acknowledged.
            .push(Pkt::s2c(10_501, &body).ack(1001))
            .push(Pkt::c2s(1001, b"").ack(11_501));
        let mut tracker = Tracker::<Recorded>::new(Limits::default(), (), None);
        for s in t.segments() {
            tracker.segment(&s, &mut ());
        }
        let (done, _) = tracker.finish(&mut ());
        let tcp = &done[0].tcp;
        // 100 bytes kept of each frame: 20 of IP, 20 of TCP, 60 of payload.
        assert_eq!(tcp.not_captured_bytes.server_to_client, 2 * 940);
        assert_eq!(tcp.missing_bytes.server_to_client, 500);
        assert_eq!(tcp.bytes.server_to_client, 2500);
        assert_eq!(tcp.snaplen, Some(100));
        let gaps: Vec<&str> = done[0]
            .stream
            .0
            .iter()
            .map(|(_, _, b)| b.as_str())
            .filter(|b| b.starts_with('<'))
            .collect();
        assert_eq!(
            gaps,
            [
                "<began>",
                "<began>",
                "<NotCaptured(940)>",
                "<Lost(500)>",
                "<NotCaptured(940)>"
            ]
        );
    }

    #[test]
    fn a_segment_whose_options_the_snaplen_cut_is_not_captured_rather_than_missing() {
        let mut t = Trace::new();
        t.push(Pkt::c2s(1000, b"").syn())
            .push(Pkt::s2c(9000, b"").syn().ack(1001))
            .snaplen(20 + 20 + 2)
            .push(Pkt::s2c(9001, &[b'x'; 300]).ack(1001).mss(1460))
            .push(Pkt::c2s(1001, b"").ack(9301));
        let s = summaries(&t);
        assert_eq!(s[0].not_captured_bytes.server_to_client, 300);
        assert_eq!(s[0].missing_bytes.server_to_client, 0);
    }

    #[test]
    fn a_closed_exchange_reports_its_bytes_and_hands_the_sink_each_side_in_order() {
        let mut t = Trace::new();
        exchange(&mut t, 1000);
        let mut tracker = Tracker::<Recorded>::new(Limits::default(), (), None);
        for s in t.segments() {
            tracker.segment(&s, &mut ());
        }
        let (done, _) = tracker.finish(&mut ());
        let tcp = &done[0].tcp;
        assert_eq!(tcp.bytes.client_to_server, 18);
        assert_eq!(tcp.bytes.server_to_client, 21);
        assert!(tcp.handshake.seen);
        let told: Vec<(u64, Side, &str)> = done[0]
            .stream
            .0
            .iter()
            .map(|(c, s, b)| (*c, *s, b.as_str()))
            .collect();
        assert_eq!(
            told,
            [
                (0, Side::Client, "<began>"),
                (0, Side::Server, "<began>"),
                (0, Side::Client, "GET / HTTP/1.0\r\n\r\n"),
                (0, Side::Server, "HTTP/1.0 200 OK\r\n\r\nhi"),
                (0, Side::Server, "<close>"),
                (0, Side::Client, "<close>"),
            ]
        );
    }
}
