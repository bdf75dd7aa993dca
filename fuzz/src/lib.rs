//! Shared input builders for recvscope's fuzz targets.

use std::path::{Path, PathBuf};

use arbitrary::Arbitrary;
use recvscope::analysis::Report;
use recvscope::wire::LinkType;
use recvscope::{report, tcplab};

/// Every link type the decoder supports, indexed by the fuzz targets' selector byte.
pub const LINKS: [LinkType; 9] = [
    LinkType::Ethernet,
    LinkType::Null,
    LinkType::Loop,
    LinkType::Raw,
    LinkType::Ipv4,
    LinkType::Ipv6,
    LinkType::LinuxSll,
    LinkType::LinuxSll2,
    LinkType::Fddi,
];

/// A per-process scratch file in memory-backed storage, for targets whose
/// API reads a path.
pub fn scratch_file(name: &str) -> PathBuf {
    PathBuf::from(format!(
        "/dev/shm/recvscope-fuzz-{}-{name}",
        std::process::id()
    ))
}

/// Renders a report every way `replay` can (text, JSON, TCP lab answers),
/// since hostile captures reach those too.
pub fn render(file: &Path, r: &Report) {
    let mut out = std::io::sink();
    let t0 = r.first_ts_ns.unwrap_or(0);
    report::text::heading(&mut out, file, r.link_type, &r.interfaces).expect("sink");
    let mut json = report::JsonStream::start(&mut out, file).expect("sink");
    for c in &r.connections {
        report::text::connection(&mut out, c, t0).expect("sink");
        json.connection(&mut out, c).expect("sink");
    }
    json.finish(&mut out, r).expect("sink");
    let listed = r.connections.iter().find(|c| c.tcp.id == 0);
    report::text::tail(&mut out, r, r.connections.len() as u64, listed, None).expect("sink");
    for c in &r.connections {
        if let Some(answers) = tcplab::answer(c, t0) {
            recvscope::report::tcp_lab::write(&mut out, &answers).expect("sink");
        }
    }
}

/// HTTP/1.x fragments that make payloads look like messages.
const TOKENS: &[&[u8]] = &[
    b"GET / HTTP/1.1\r\n",
    b"GET http://host/a.jpg HTTP/1.0\r\n",
    b"HEAD /x HTTP/1.1\r\n",
    b"POST /p HTTP/1.1\r\n",
    b"CONNECT host:443 HTTP/1.1\r\n",
    b"HTTP/1.1 200 OK\r\n",
    b"HTTP/1.0 200 OK\r\n",
    b"HTTP/1.1 100 Continue\r\n",
    b"HTTP/1.1 101 Switching Protocols\r\n",
    b"HTTP/1.1 204 No Content\r\n",
    b"HTTP/1.1 304 Not Modified\r\n",
    b"Host: x\r\n",
    b"Content-Length: ",
    b"Transfer-Encoding: chunked\r\n",
    b"Transfer-Encoding: gzip, chunked\r\n",
    b"Connection: close\r\n",
    b"Connection: keep-alive\r\n",
    b"Expect: 100-continue\r\n",
    b"Upgrade: websocket\r\n",
    b"\r\n",
    b"\n",
    b";ext=1",
    b"0\r\n\r\n",
    b"0\r\nTrailer: t\r\n\r\n",
    b" ",
    b":",
];

/// One piece of a payload.
#[derive(Arbitrary, Debug)]
pub enum Piece {
    Token(u8),
    Bytes(Vec<u8>),
    Decimal(u32),
    Hex(u32),
    /// `len` copies of one byte: cheap large bodies.
    Fill(u16, u8),
}

/// Concatenates pieces into at most `max` bytes.
pub fn build_payload(pieces: &[Piece], max: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for p in pieces {
        match p {
            Piece::Token(t) => out.extend_from_slice(TOKENS[*t as usize % TOKENS.len()]),
            Piece::Bytes(b) => out.extend_from_slice(b),
            Piece::Decimal(n) => out.extend_from_slice(n.to_string().as_bytes()),
            Piece::Hex(n) => out.extend_from_slice(format!("{n:x}").as_bytes()),
            Piece::Fill(len, byte) => out.resize(out.len() + *len as usize, *byte),
        }
        if out.len() >= max {
            out.truncate(max);
            break;
        }
    }
    out
}

/// Where a built segment's sequence number lies relative to its direction's next one.
#[derive(Arbitrary, Debug)]
pub enum SeqChoice {
    Next,
    Back(u16),
    Ahead(u16),
    Any(u32),
}

/// The acknowledgement a built segment carries.
#[derive(Arbitrary, Debug)]
pub enum AckChoice {
    /// Everything the peer sent so far.
    Peer,
    /// No ACK flag.
    Unset,
    Delta(i16),
    Any(u32),
}

/// A TCP option.
#[derive(Arbitrary, Debug)]
pub enum Opt {
    Mss(u16),
    Wscale(u8),
    SackPerm,
    /// SACK blocks as offsets and lengths past the segment's ack.
    Sack(Vec<(u16, u16)>),
    Timestamps(u32, u32),
    Nop,
    Eol,
    Raw(Vec<u8>),
}

/// A TCP segment described by fields, built into a raw IP packet by [`Flows`].
#[derive(Arbitrary, Debug)]
pub struct Seg {
    from_server: bool,
    /// Picks one of a few client ports, so segments land in few connections.
    conn: u8,
    ipv6: bool,
    seq: SeqChoice,
    ack: AckChoice,
    /// FIN, SYN, RST, PSH, URG, ECE, CWR bits (ACK comes from `ack`).
    flags: u8,
    window: u16,
    options: Vec<Opt>,
    payload: Vec<Piece>,
    /// Cut the packet this many bytes after the TCP header, as a snaplen would.
    snap: Option<u8>,
    /// Microseconds since the previous frame.
    pub dt_us: u16,
}

const CONNS: usize = 3;

/// Sequence state of a few connections, so built segments follow on.
pub struct Flows {
    /// Next sequence number per connection, client then server.
    next: [[u32; 2]; CONNS],
}

impl Default for Flows {
    fn default() -> Self {
        Flows {
            next: [[1000, 900_000]; CONNS],
        }
    }
}

impl Flows {
    /// The raw IP packet (LINKTYPE_RAW) for `seg` as captured, and its length
    /// on the wire; advances the direction's sequence.
    pub fn build(&mut self, seg: &Seg) -> (Vec<u8>, u32) {
        let c = seg.conn as usize % CONNS;
        let (me, peer) = if seg.from_server { (1, 0) } else { (0, 1) };
        let next = self.next[c][me];
        let seq = match seg.seq {
            SeqChoice::Next => next,
            SeqChoice::Back(d) => next.wrapping_sub(d.into()),
            SeqChoice::Ahead(d) => next.wrapping_add(d.into()),
            SeqChoice::Any(s) => s,
        };
        let peer_next = self.next[c][peer];
        let (ack, ack_flag) = match seg.ack {
            AckChoice::Peer => (peer_next, true),
            AckChoice::Unset => (0, false),
            AckChoice::Delta(d) => (peer_next.wrapping_add_signed(d.into()), true),
            AckChoice::Any(a) => (a, true),
        };
        let payload = build_payload(&seg.payload, 65_000);
        let bits = seg.flags & 0xef;
        let flags = bits | if ack_flag { 0x10 } else { 0 };
        let consumed = payload.len() as u32 + u32::from(bits & 0x01) + u32::from(bits & 0x02 != 0);
        self.next[c][me] = seq.wrapping_add(consumed);

        let options = options_bytes(&seg.options, ack);
        let mut tcp = Vec::with_capacity(20 + options.len() + payload.len());
        let (client, server) = (40000 + c as u16, 80u16);
        let (sport, dport) = if seg.from_server {
            (server, client)
        } else {
            (client, server)
        };
        tcp.extend_from_slice(&sport.to_be_bytes());
        tcp.extend_from_slice(&dport.to_be_bytes());
        tcp.extend_from_slice(&seq.to_be_bytes());
        tcp.extend_from_slice(&ack.to_be_bytes());
        tcp.push((((20 + options.len()) / 4) as u8) << 4);
        tcp.push(flags);
        tcp.extend_from_slice(&seg.window.to_be_bytes());
        tcp.extend_from_slice(&[0, 0, 0, 0]);
        tcp.extend_from_slice(&options);
        let header_len = tcp.len();
        tcp.extend_from_slice(&payload);

        let mut packet = if seg.ipv6 {
            ipv6_header(tcp.len(), seg.from_server)
        } else {
            ipv4_header(tcp.len(), seg.from_server)
        };
        let ip_len = packet.len();
        packet.extend_from_slice(&tcp);
        let wire_len = packet.len() as u32;
        if let Some(snap) = seg.snap {
            packet.truncate(ip_len + header_len + snap as usize);
        }
        (packet, wire_len)
    }
}

fn options_bytes(opts: &[Opt], ack: u32) -> Vec<u8> {
    let mut out = Vec::new();
    for o in opts {
        match o {
            Opt::Mss(m) => {
                out.extend_from_slice(&[2, 4]);
                out.extend_from_slice(&m.to_be_bytes());
            }
            Opt::Wscale(s) => out.extend_from_slice(&[3, 3, *s]),
            Opt::SackPerm => out.extend_from_slice(&[4, 2]),
            Opt::Sack(blocks) => {
                let blocks = &blocks[..blocks.len().min(4)];
                out.extend_from_slice(&[5, 2 + 8 * blocks.len() as u8]);
                for &(off, len) in blocks {
                    let left = ack.wrapping_add(off.into());
                    out.extend_from_slice(&left.to_be_bytes());
                    out.extend_from_slice(&left.wrapping_add(len.into()).to_be_bytes());
                }
            }
            Opt::Timestamps(v, e) => {
                out.extend_from_slice(&[8, 10]);
                out.extend_from_slice(&v.to_be_bytes());
                out.extend_from_slice(&e.to_be_bytes());
            }
            Opt::Nop => out.push(1),
            Opt::Eol => out.push(0),
            Opt::Raw(b) => out.extend_from_slice(b),
        }
    }
    out.truncate(40);
    while out.len() % 4 != 0 {
        out.push(1);
    }
    out
}

fn ipv4_header(tcp_len: usize, from_server: bool) -> Vec<u8> {
    let total = (20 + tcp_len).min(u16::MAX as usize) as u16;
    let (client, server) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let (src, dst) = if from_server {
        (server, client)
    } else {
        (client, server)
    };
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h
}

fn ipv6_header(tcp_len: usize, from_server: bool) -> Vec<u8> {
    let len = tcp_len.min(u16::MAX as usize) as u16;
    let mut client = [0u8; 16];
    client[0] = 0xfd;
    client[15] = 1;
    let mut server = client;
    server[15] = 2;
    let (src, dst) = if from_server {
        (server, client)
    } else {
        (client, server)
    };
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&len.to_be_bytes());
    h.extend_from_slice(&[6, 64]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h
}
