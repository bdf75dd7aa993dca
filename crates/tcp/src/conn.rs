//! One TCP connection: handshake facts, per-direction figures, analysis
//! flags, flow-control stalls, and reassembly feeding its stream sink.

use std::net::SocketAddr;

use recvscope_wire::{HeaderState, Segment, SeqNumber, Side, TcpFlags, Tunnel};

use super::analysis::{Analysis, WindowScale};
use super::dir::Dir;
use super::flags::{Flag, FlagCounts, FlagSet};
use super::pace::{MAX_EVIDENCE, RetransmissionLedger, WindowFullWatch, prompt_ns};
use super::reassembly::{Chunk, Copies, Reassembler};
use super::record::PacketRecord;
use super::roles::{self, RoleRule};
use super::stream::StreamSink;
use super::summary::{Finished, Gaps, TcpSummary};

/// True when `seg` starts a new connection on a 4-tuple whose sender of
/// `seg` had sequence base `base`: a SYN whose ISN differs from the one
/// seen (Wireshark's "TCP port numbers reused"), the only segment that does.
pub(crate) fn starts_anew(base: Option<SeqNumber>, seg: &Segment<'_>) -> bool {
    let pure_syn = seg.flags.0 & (TcpFlags::SYN | TcpFlags::ACK) == TcpFlags::SYN;
    pure_syn && base.is_some_and(|b| b != seg.seq)
}

/// What one direction (one sender) did: the figures behind a [`Dir`].
#[derive(Clone, Debug, Default)]
pub(crate) struct Direction {
    pub packets: u64,
    pub isn: Option<SeqNumber>,
    /// Base for relative sequence numbers (ISN, or first seq - 1 as Wireshark).
    pub base_seq: Option<SeqNumber>,
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
    /// The peer's segments that filled this side's window, judged by
    /// whether the peer had more data waiting.
    pub window_full: WindowFullWatch,
    /// This side's retransmissions, matched against the peer's D-SACKs.
    pub resent: RetransmissionLedger,
    /// The first frame whose bytes differed from the copy captured first.
    pub first_conflict: Option<u64>,
}

/// A TCP connection as tracked through the capture, with the sink its
/// in-order bytes go to.
pub(crate) struct Connection<S> {
    /// 0-based, in order of first appearance, like Wireshark's `tcp.stream`.
    pub id: u64,
    /// The sender in each direction.
    pub addrs: [SocketAddr; 2],
    /// Which direction the client sends in, once known, and the rule
    /// that decided it.
    roles: Option<(Dir, RoleRule)>,
    /// The encapsulations its segments came through.
    pub tunnel: Tunnel,
    pub first_ts: i64,
    pub last_ts: i64,
    pub first_frame: u64,
    pub dirs: [Direction; 2],
    pub analysis: Analysis,
    /// The captured length of the longest frame the snaplen cut: the snaplen.
    pub snaplen: Option<u32>,
    reasm: [Reassembler; 2],
    stream: S,
    pub rows: Option<Vec<PacketRecord>>,
}

impl<S: StreamSink> Connection<S> {
    /// A connection whose first segment is `seg`.
    pub(crate) fn new(
        id: u64,
        seg: &Segment<'_>,
        limits: &super::Limits,
        config: &S::Config,
        list_packets: bool,
    ) -> Self {
        Connection {
            id,
            addrs: [seg.src, seg.dst],
            roles: None,
            tunnel: seg.tunnel,
            first_ts: seg.meta.ts_ns,
            last_ts: seg.meta.ts_ns,
            first_frame: seg.meta.number,
            dirs: Default::default(),
            analysis: Analysis::new(),
            snaplen: None,
            reasm: [
                Reassembler::new(limits.reassembly_bytes),
                Reassembler::new(limits.reassembly_bytes),
            ],
            stream: S::open(config),
            rows: list_packets.then(Vec::new),
        }
    }

    /// The direction `seg` travels in.
    pub(crate) fn dir_of(&self, seg: &Segment<'_>) -> Dir {
        if seg.src == self.addrs[Dir::Original] {
            Dir::Original
        } else {
            Dir::Reply
        }
    }

    /// The client's direction and the rule that decided it: the SYN
    /// sender or the SYN-ACK's receiver; without a handshake, the first
    /// payload's content, else the ports ([`roles::by_ports`]).
    pub(crate) fn roles(&self) -> (Dir, RoleRule) {
        self.roles.unwrap_or_else(|| roles::by_ports(self.addrs))
    }

    /// The client's direction, by [`Connection::roles`].
    pub(crate) fn client_dir(&self) -> Dir {
        self.roles().0
    }

    fn side(&self, dir: Dir) -> Side {
        if dir == self.client_dir() {
            Side::Client
        } else {
            Side::Server
        }
    }

    /// True once a FIN or RST closed it.
    pub(crate) fn closed(&self) -> bool {
        self.dirs.iter().any(|d| d.rst) || self.dirs.iter().all(|d| d.fin)
    }

    /// True when `seg` starts a new connection on this 4-tuple.
    pub(crate) fn reused_by(&self, seg: &Segment<'_>) -> bool {
        starts_anew(self.dirs[self.dir_of(seg)].base_seq, seg)
    }

    /// Tracks one segment; returns its analysis flags.
    pub(crate) fn segment(&mut self, seg: &Segment<'_>, out: &mut S::Out) -> FlagSet {
        let dir = self.dir_of(seg);
        let ts = seg.meta.ts_ns;
        self.last_ts = ts;
        self.reused_isn(dir, seg);
        if seg.header == HeaderState::Short {
            self.dirs[dir].packets += 1;
            return FlagSet::default();
        }
        self.handshake(dir, seg);
        self.first_payload(dir, seg);
        self.base_seqs(dir, seg);

        let flags = self.analysis.segment(dir, seg);
        let window = self.analysis.scaled_window(dir, seg);
        let d = &mut self.dirs[dir];
        d.packets += 1;
        d.flags.add(flags);
        if !seg.flags.rst() {
            d.win_min = Some(d.win_min.map_or(window, |m| m.min(window)));
            d.win_max = Some(d.win_max.map_or(window, |m| m.max(window)));
        }
        if seg.payload_truncated() {
            self.snaplen = self.snaplen.max(Some(seg.captured_len));
        }
        self.stall(dir, seg);
        self.window_full(dir, seg, flags, window);
        self.retransmission(dir, seg, flags);
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
            let peer_base = self.dirs[dir.peer()].base_seq;
            rows.push(PacketRecord {
                frame: seg.meta.number,
                ts_ns: ts,
                from,
                flags: seg.flags,
                rel_seq: seg.seq.relative_to(base),
                rel_ack: seg
                    .flags
                    .ack()
                    .then(|| seg.ack.relative_to(peer_base.unwrap_or(seg.ack))),
                len: seg.payload_len,
                window_raw: seg.window,
                window,
                scale_known: seg.flags.syn() || self.analysis.scale(dir) != WindowScale::Unknown,
                analysis: flags,
            });
        }
        self.stream(dir, seg, out);
        flags
    }

    /// A SYN repeating the known ISN, or a SYN-ACK with a new one: Wireshark
    /// handles these before anything else, even for a short segment.
    fn reused_isn(&mut self, dir: Dir, seg: &Segment<'_>) {
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
    fn base_seqs(&mut self, dir: Dir, seg: &Segment<'_>) {
        let f = seg.flags;
        let fwd = &mut self.dirs[dir];
        if fwd.base_seq.is_none() {
            fwd.base_seq = Some(if f.syn() { seg.seq } else { seg.seq - 1 });
        }
        let rev = &mut self.dirs[dir.peer()];
        if rev.base_seq.is_none() && f.ack() {
            rev.base_seq = Some(seg.ack - 1);
        }
    }

    fn handshake(&mut self, dir: Dir, seg: &Segment<'_>) {
        let f = seg.flags;
        if f.syn() {
            let d = &mut self.dirs[dir];
            d.syn = true;
            d.isn = Some(seg.seq);
            d.mss = seg.options.mss.or(d.mss);
            d.wscale = seg.options.window_scale.or(d.wscale);
            d.sack_permitted |= seg.options.sack_permitted;
            let by_syn = (dir.peer(), RoleRule::Handshake);
            if f.ack() {
                if self
                    .roles
                    .is_none_or(|(_, rule)| rule != RoleRule::Handshake)
                {
                    self.roles = Some(by_syn);
                }
            } else {
                self.roles = Some((dir, RoleRule::Handshake));
            }
        }
    }

    /// Without a handshake, the first segment with payload decides the
    /// roles: by what its captured bytes are when the sink can tell, else by
    /// the ports. Rows listed before it, named by the ports, follow.
    fn first_payload(&mut self, dir: Dir, seg: &Segment<'_>) {
        if self.roles.is_some() || seg.payload_len == 0 {
            return;
        }
        let by_ports = roles::by_ports(self.addrs);
        let decided =
            S::sender_role(seg.payload).map_or(by_ports, |role| roles::by_content(dir, role));
        if decided.0 != by_ports.0 {
            for row in self.rows.iter_mut().flatten() {
                row.from = row.from.peer();
            }
        }
        self.roles = Some(decided);
    }

    /// Zero-window stall time of the receiver sending in `dir`, and the
    /// frames where its stalls began.
    fn stall(&mut self, dir: Dir, seg: &Segment<'_>) {
        let ts = seg.meta.ts_ns;
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

    /// Window-full segments sent in `dir`, judged by whether the sender's
    /// next new data follows the window's opening promptly; `window` is
    /// what `seg` advertises to the peer.
    fn window_full(&mut self, dir: Dir, seg: &Segment<'_>, flags: FlagSet, window: u64) {
        let ts = seg.meta.ts_ns;
        let prompt = prompt_ns(self.analysis.initial_rtt_ns());
        let peer = &mut self.dirs[dir.peer()];
        if seg.payload_len > 0 {
            let end = seg.seq + seg.payload_len as usize;
            peer.window_full.sent(end, ts, prompt, &mut peer.evidence);
            if flags.contains(Flag::WindowFull) {
                peer.window_full.filled(end, seg.meta.number);
            }
        }
        if seg.flags.ack() && !seg.flags.syn() && !seg.flags.rst() {
            let edge = seg.ack + usize::try_from(window).unwrap_or(usize::MAX);
            self.dirs[dir].window_full.advertised(edge, ts);
        }
    }

    /// A retransmission sent in `dir`, and a D-SACK in `seg` covering the
    /// peer's.
    fn retransmission(&mut self, dir: Dir, seg: &Segment<'_>, flags: FlagSet) {
        if flags.contains(Flag::Retransmission) {
            let control = usize::from(seg.flags.syn() || seg.flags.fin());
            let end = seg.seq + seg.payload_len as usize + control;
            let tail = end == self.analysis.next_seq(dir);
            self.dirs[dir].resent.resent(
                seg.seq,
                end,
                seg.meta.number,
                flags.contains(Flag::SpuriousRetransmission),
                tail,
            );
        }
        if let Some(block) = seg.options.sack.dsack(seg.ack) {
            self.dirs[dir.peer()].resent.dsack(block);
        }
    }

    fn in_flight(&mut self, dir: Dir, seg: &Segment<'_>) {
        if seg.payload_len == 0 {
            return;
        }
        let next = self.analysis.next_seq(dir);
        if let Some(acked) = self.analysis.last_ack(dir.peer()) {
            // Only when the ACK is not past what was sent.
            if let Ok(bif) = u64::try_from(next - acked) {
                let d = &mut self.dirs[dir];
                d.max_in_flight = d.max_in_flight.max(bif);
            }
        }
    }

    fn stream(&mut self, dir: Dir, seg: &Segment<'_>, out: &mut S::Out) {
        let (ts, id) = (seg.meta.ts_ns, self.id);
        let side = self.side(dir);
        let sink = &mut self.stream;
        let mut deliver = |side: Side, c: Chunk<'_>| match c {
            Chunk::Data(b) => sink.data(out, id, side, ts, b),
            Chunk::Gap(n) => sink.gap(out, id, side, ts, n),
        };
        if seg.flags.rst() {
            // A reset's numbers may be anything (a stray one, far out of
            // window): they never move either stream.
            sink.close(out, id, side, ts);
            return;
        }
        if seg.flags.ack() {
            self.reasm[dir.peer()].acked(seg.ack, &mut |c| deliver(side.peer(), c));
        }
        if seg.flags.syn() {
            if self.reasm[dir].syn(seg.seq) {
                sink.began(out, id, side);
            }
        } else if matches!(seg.header, HeaderState::Complete | HeaderState::OptionsCut)
            && (seg.payload_len > 0 || seg.flags.fin())
        {
            // With its options cut, a segment holds no payload bytes, but
            // its length and place in the stream are known: not captured.
            let copies = self.reasm[dir].segment(
                seg.seq,
                seg.payload,
                seg.payload_len,
                seg.flags.fin(),
                &mut |c| deliver(side, c),
            );
            if copies == Copies::Conflict {
                self.dirs[dir].first_conflict.get_or_insert(seg.meta.number);
            }
        }
        if seg.flags.fin() {
            sink.close(out, id, side, ts);
        }
    }

    /// End of tracking: flushes reassembly into the sink, returns the
    /// figures and the sink.
    pub(crate) fn finish(mut self, out: &mut S::Out) -> Finished<S> {
        let (ts, id) = (self.last_ts, self.id);
        for dir in Dir::BOTH {
            let side = self.side(dir);
            let sink = &mut self.stream;
            self.reasm[dir].finish(&mut |c| match c {
                Chunk::Data(b) => sink.data(out, id, side, ts, b),
                Chunk::Gap(n) => sink.gap(out, id, side, ts, n),
            });
        }
        for d in &mut self.dirs {
            if let Some(since) = d.zero_since.take() {
                d.zero_window_stall_ns += (ts - since).max(0);
            }
        }
        let stream_bytes = self.reasm.each_ref().map(Reassembler::offset);
        let gaps = Gaps {
            lost: self.reasm.each_ref().map(Reassembler::lost_bytes),
            not_captured: self.reasm.each_ref().map(Reassembler::not_captured_bytes),
        };
        let overflowed = self.reasm.iter().any(Reassembler::overflowed);
        let conflicts = self.reasm.each_ref().map(Reassembler::conflicts);
        let records = self.rows.take();
        let (tcp, warnings) = TcpSummary::new(&self, stream_bytes, gaps, overflowed, conflicts);
        Finished {
            tcp,
            warnings,
            records,
            stream: self.stream,
        }
    }
}
