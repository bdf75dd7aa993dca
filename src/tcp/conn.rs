//! One TCP connection: handshake facts, per-direction figures, analysis
//! flags, flow-control stalls, reassembly and the HTTP riding on it.

use std::net::SocketAddr;

use crate::http::{self, Conversation};
use crate::wire::{HeaderState, Segment, Side, TcpFlags};

use super::analysis::{Analysis, WindowScale};
use super::flags::{Flag, FlagCounts, FlagSet};
use super::reassembly::{Chunk, Reassembler};
use super::record::PacketRecord;

/// Receives HTTP bodies of every connection, for extraction.
pub trait BodySink {
    fn body(&mut self, conn: u64, txn: usize, side: Side, bytes: &[u8]);
    fn end(&mut self, conn: u64, txn: usize, side: Side, complete: bool);
}

/// A sink that keeps nothing.
pub struct NoBodies;

impl BodySink for NoBodies {
    fn body(&mut self, _: u64, _: usize, _: Side, _: &[u8]) {}
    fn end(&mut self, _: u64, _: usize, _: Side, _: bool) {}
}

/// Adapts the per-connection HTTP sink to the capture-wide one.
struct ConnSink<'a> {
    conn: u64,
    inner: &'a mut dyn BodySink,
}

impl http::BodySink for ConnSink<'_> {
    fn body(&mut self, txn: usize, side: Side, bytes: &[u8]) {
        self.inner.body(self.conn, txn, side, bytes);
    }
    fn end(&mut self, txn: usize, side: Side, complete: bool) {
        self.inner.end(self.conn, txn, side, complete);
    }
}

/// How many frame numbers a connection keeps as evidence of flow control.
pub const MAX_EVIDENCE: usize = 64;

/// What one direction (one sender) did.
#[derive(Clone, Debug, Default)]
pub struct Direction {
    pub packets: u64,
    pub payload_bytes: u64,
    pub isn: Option<u32>,
    /// Base for relative sequence numbers (ISN, or first seq - 1 as Wireshark).
    pub base_seq: Option<u32>,
    pub mss: Option<u16>,
    pub wscale: Option<u8>,
    pub sack_permitted: bool,
    pub syn: bool,
    pub fin: bool,
    pub rst: bool,
    pub flags: FlagCounts,
    /// Smallest and largest window this side advertised, in bytes.
    pub win_min: Option<u64>,
    pub win_max: Option<u64>,
    pub max_in_flight: u64,
    /// When this side started advertising a zero window, if it still does.
    zero_since: Option<i64>,
    pub zero_window_stall_ns: i64,
    pub zero_window_stalls: u64,
    /// Frames showing this side's window limiting the peer.
    pub evidence: Vec<u64>,
    /// Payload bytes the capture's snaplen cut off (counted per segment,
    /// retransmissions included).
    pub snaplen_cut: u64,
}

/// A TCP connection as tracked through the capture.
pub struct Connection {
    /// 0-based, in order of first appearance, like Wireshark's `tcp.stream`.
    pub id: u64,
    /// The sender of direction 0 and of direction 1.
    pub addrs: [SocketAddr; 2],
    /// Which direction the client sends in, once known.
    client_dir: Option<usize>,
    pub first_ts: i64,
    pub last_ts: i64,
    pub first_frame: u64,
    pub dirs: [Direction; 2],
    pub analysis: Analysis,
    reasm: [Reassembler; 2],
    http: Conversation,
    syn_ts: Option<i64>,
    synack_ts: Option<i64>,
    pub handshake_rtt_ns: Option<i64>,
    pub rows: Option<Vec<PacketRecord>>,
}

impl Connection {
    /// A connection whose first segment is `seg`.
    pub fn new(id: u64, seg: &Segment<'_>, limits: &super::Limits, list_packets: bool) -> Self {
        Connection {
            id,
            addrs: [seg.src, seg.dst],
            client_dir: None,
            first_ts: seg.meta.ts_ns,
            last_ts: seg.meta.ts_ns,
            first_frame: seg.meta.number,
            dirs: Default::default(),
            analysis: Analysis::new(),
            reasm: [
                Reassembler::new(limits.reassembly_bytes),
                Reassembler::new(limits.reassembly_bytes),
            ],
            http: Conversation::new(limits.http),
            syn_ts: None,
            synack_ts: None,
            handshake_rtt_ns: None,
            rows: list_packets.then(Vec::new),
        }
    }

    /// The direction `seg` travels in.
    pub fn dir_of(&self, seg: &Segment<'_>) -> usize {
        usize::from(seg.src != self.addrs[0])
    }

    /// The client's direction: the SYN sender, else the SYN-ACK's receiver,
    /// else the side on the higher port, else the first sender.
    pub fn client_dir(&self) -> usize {
        self.client_dir.unwrap_or_else(|| {
            let (p0, p1) = (self.addrs[0].port(), self.addrs[1].port());
            usize::from(p0 < p1)
        })
    }

    fn side(&self, dir: usize) -> Side {
        if dir == self.client_dir() {
            Side::Client
        } else {
            Side::Server
        }
    }

    /// True once a FIN or RST closed it.
    pub fn closed(&self) -> bool {
        self.dirs.iter().any(|d| d.rst) || self.dirs.iter().all(|d| d.fin)
    }

    /// True when `seg` starts a new connection on this 4-tuple: a SYN whose
    /// ISN differs from the one seen (Wireshark's "TCP port numbers reused").
    pub fn reused_by(&self, seg: &Segment<'_>) -> bool {
        let pure_syn = seg.flags.0 & (TcpFlags::SYN | TcpFlags::ACK) == TcpFlags::SYN;
        pure_syn
            && self.dirs[self.dir_of(seg)]
                .base_seq
                .is_some_and(|b| b != seg.seq)
    }

    /// Tracks one segment; returns its analysis flags.
    pub fn segment(&mut self, seg: &Segment<'_>, sink: &mut dyn BodySink) -> FlagSet {
        let dir = self.dir_of(seg);
        let ts = seg.meta.ts_ns;
        self.last_ts = ts;
        self.reused_isn(dir, seg);
        if seg.header == HeaderState::Short {
            self.dirs[dir].packets += 1;
            return FlagSet::default();
        }
        self.handshake(dir, seg);
        self.base_seqs(dir, seg);

        let flags = self.analysis.segment(dir, seg);
        let window = self.analysis.scaled_window(dir, seg);
        let d = &mut self.dirs[dir];
        d.packets += 1;
        d.payload_bytes += u64::from(seg.payload_len);
        d.snaplen_cut +=
            u64::from(seg.payload_len) - (seg.payload.len() as u64).min(u64::from(seg.payload_len));
        d.flags.add(flags);
        if !seg.flags.rst() {
            d.win_min = Some(d.win_min.map_or(window, |m| m.min(window)));
            d.win_max = Some(d.win_max.map_or(window, |m| m.max(window)));
        }
        self.stall(dir, seg, flags);
        self.in_flight(dir, seg);
        if seg.flags.fin() {
            self.dirs[dir].fin = true;
        }
        if seg.flags.rst() {
            self.dirs[dir].rst = true;
        }
        let from = self.side(dir);
        if let Some(rows) = self.rows.as_mut() {
            let base = self.dirs[dir].base_seq.unwrap_or(seg.seq);
            let peer_base = self.dirs[1 - dir].base_seq;
            rows.push(PacketRecord {
                frame: seg.meta.number,
                ts_ns: ts,
                from,
                flags: seg.flags,
                rel_seq: seg.seq.wrapping_sub(base),
                rel_ack: seg
                    .flags
                    .ack()
                    .then(|| seg.ack.wrapping_sub(peer_base.unwrap_or(seg.ack))),
                len: seg.payload_len,
                window_raw: seg.window,
                window,
                scale_known: seg.flags.syn() || self.analysis.scale(dir) != WindowScale::Unknown,
                analysis: flags,
            });
        }
        self.stream(dir, seg, sink);
        flags
    }

    /// A SYN repeating the known ISN, or a SYN-ACK with a new one: Wireshark
    /// handles these before anything else, even for a short segment.
    fn reused_isn(&mut self, dir: usize, seg: &Segment<'_>) {
        let f = seg.flags;
        let fwd = &mut self.dirs[dir];
        match fwd.base_seq {
            Some(base) if f.syn() && !f.ack() && base == seg.seq => {
                self.analysis.syn_repeated(dir);
            }
            Some(base) if f.syn() && f.ack() && base != seg.seq => fwd.base_seq = Some(seg.seq),
            _ => {}
        }
    }

    /// Bases of relative sequence numbers, set as Wireshark sets them.
    fn base_seqs(&mut self, dir: usize, seg: &Segment<'_>) {
        let f = seg.flags;
        let fwd = &mut self.dirs[dir];
        if fwd.base_seq.is_none() {
            fwd.base_seq = Some(if f.syn() {
                seg.seq
            } else {
                seg.seq.wrapping_sub(1)
            });
        }
        let rev = &mut self.dirs[1 - dir];
        if rev.base_seq.is_none() && f.ack() {
            rev.base_seq = Some(seg.ack.wrapping_sub(1));
        }
    }

    fn handshake(&mut self, dir: usize, seg: &Segment<'_>) {
        let f = seg.flags;
        if f.syn() {
            let d = &mut self.dirs[dir];
            d.syn = true;
            d.isn = Some(seg.seq);
            d.mss = seg.options.mss.or(d.mss);
            d.wscale = seg.options.window_scale.or(d.wscale);
            d.sack_permitted |= seg.options.sack_permitted;
            if f.ack() {
                self.synack_ts = Some(seg.meta.ts_ns);
                self.client_dir.get_or_insert(1 - dir);
            } else {
                self.syn_ts = Some(seg.meta.ts_ns);
                self.client_dir = Some(dir);
            }
        } else if f.ack()
            && self.handshake_rtt_ns.is_none()
            && self.client_dir == Some(dir)
            && let (Some(syn), Some(_)) = (self.syn_ts, self.synack_ts)
        {
            self.handshake_rtt_ns = Some(seg.meta.ts_ns - syn);
        }
    }

    /// Zero-window stall time of the receiver sending in `dir`, and the
    /// frames that show its window limiting the sender.
    fn stall(&mut self, dir: usize, seg: &Segment<'_>, flags: FlagSet) {
        let ts = seg.meta.ts_ns;
        if flags.contains(Flag::WindowFull) {
            let peer = &mut self.dirs[1 - dir];
            if peer.evidence.len() < MAX_EVIDENCE {
                peer.evidence.push(seg.meta.number);
            }
        }
        if seg.flags.syn() || seg.flags.rst() {
            return;
        }
        let d = &mut self.dirs[dir];
        if seg.window == 0 {
            if d.zero_since.is_none() {
                d.zero_since = Some(ts);
                d.zero_window_stalls += 1;
                if d.evidence.len() < MAX_EVIDENCE {
                    d.evidence.push(seg.meta.number);
                }
            }
        } else if let Some(since) = d.zero_since.take() {
            d.zero_window_stall_ns += (ts - since).max(0);
        }
    }

    fn in_flight(&mut self, dir: usize, seg: &Segment<'_>) {
        if seg.payload_len == 0 {
            return;
        }
        let next = self.analysis.next_seq(dir);
        if let Some(acked) = self.analysis.last_ack(1 - dir) {
            let bif = u64::from(next.wrapping_sub(acked));
            if bif < 1 << 31 {
                let d = &mut self.dirs[dir];
                d.max_in_flight = d.max_in_flight.max(bif);
            }
        }
    }

    fn stream(&mut self, dir: usize, seg: &Segment<'_>, sink: &mut dyn BodySink) {
        let ts = seg.meta.ts_ns;
        let side = self.side(dir);
        let peer_side = self.side(1 - dir);
        let mut sink = ConnSink {
            conn: self.id,
            inner: sink,
        };
        let http = &mut self.http;
        let mut deliver = |side: Side, c: Chunk<'_>| match c {
            Chunk::Data(b) => http.data(side, ts, b, &mut sink),
            Chunk::Gap(n) => http.gap(side, ts, n, &mut sink),
        };
        if seg.flags.ack() {
            self.reasm[1 - dir].acked(seg.ack, &mut |c| deliver(peer_side, c));
        }
        if seg.flags.syn() {
            self.reasm[dir].syn(seg.seq);
        } else if seg.header == HeaderState::Complete && (seg.payload_len > 0 || seg.flags.fin()) {
            self.reasm[dir].segment(
                seg.seq,
                seg.payload,
                seg.payload_len,
                seg.flags.fin(),
                &mut |c| deliver(side, c),
            );
        }
        if seg.flags.fin() || seg.flags.rst() {
            http.close(side, ts, &mut sink);
        }
    }

    /// End of capture: flushes reassembly and HTTP, returns the final figures.
    pub fn finish(mut self, sink: &mut dyn BodySink) -> super::summary::ConnectionSummary {
        let ts = self.last_ts;
        let mut csink = ConnSink {
            conn: self.id,
            inner: sink,
        };
        for dir in 0..2 {
            let side = self.side(dir);
            let http = &mut self.http;
            self.reasm[dir].finish(&mut |c| match c {
                Chunk::Data(b) => http.data(side, ts, b, &mut csink),
                Chunk::Gap(n) => http.gap(side, ts, n, &mut csink),
            });
        }
        for d in &mut self.dirs {
            if let Some(since) = d.zero_since.take() {
                d.zero_window_stall_ns += (ts - since).max(0);
            }
        }
        let http = std::mem::replace(&mut self.http, Conversation::new(http::Limits::default()))
            .finish(&mut csink);
        let stream_bytes = [self.reasm[0].offset(), self.reasm[1].offset()];
        let gap_bytes = [self.reasm[0].gap_bytes(), self.reasm[1].gap_bytes()];
        let overflowed = self.reasm.iter().any(Reassembler::overflowed);
        super::summary::ConnectionSummary::new(self, http, stream_bytes, gap_bytes, overflowed)
    }
}
