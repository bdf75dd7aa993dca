//! Test-only builders: TCP segments in any link layer, and whole conversations.

use etherparse::{PacketBuilder, TcpHeader, TcpOptionElement};

use recvscope_wire::{Decoded, FrameMeta, LinkType, Segment, decode};

pub const CLIENT: ([u8; 4], u16) = ([10, 0, 0, 1], 40000);
pub const SERVER: ([u8; 4], u16) = ([10, 0, 0, 2], 80);
const CLIENT6: [u8; 16] = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const SERVER6: [u8; 16] = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

/// A TCP segment under construction.
#[derive(Clone, Debug)]
pub struct Pkt {
    from_client: bool,
    header: TcpHeader,
    options: Vec<TcpOptionElement>,
    payload: Vec<u8>,
}

impl Pkt {
    fn new(from_client: bool, seq: u32, payload: &[u8]) -> Pkt {
        let (sp, dp) = if from_client {
            (CLIENT.1, SERVER.1)
        } else {
            (SERVER.1, CLIENT.1)
        };
        Pkt {
            from_client,
            header: TcpHeader::new(sp, dp, seq, 65535),
            options: Vec::new(),
            payload: payload.to_vec(),
        }
    }

    /// The same segment from (or to) another client port.
    pub fn client_port(self, port: u16) -> Pkt {
        let server = SERVER.1;
        self.ports(port, server)
    }

    /// The same segment between other client and server ports.
    pub fn ports(mut self, client: u16, server: u16) -> Pkt {
        let (src, dst) = if self.from_client {
            (client, server)
        } else {
            (server, client)
        };
        self.header.source_port = src;
        self.header.destination_port = dst;
        self
    }

    /// Client to server.
    pub fn c2s(seq: u32, payload: &[u8]) -> Pkt {
        Pkt::new(true, seq, payload)
    }

    /// Server to client.
    pub fn s2c(seq: u32, payload: &[u8]) -> Pkt {
        Pkt::new(false, seq, payload)
    }

    pub fn ack(mut self, n: u32) -> Pkt {
        self.header.ack = true;
        self.header.acknowledgment_number = n;
        self
    }
    pub fn window(mut self, w: u16) -> Pkt {
        self.header.window_size = w;
        self
    }
    pub fn syn(mut self) -> Pkt {
        self.header.syn = true;
        self
    }
    pub fn fin(mut self) -> Pkt {
        self.header.fin = true;
        self
    }
    pub fn rst(mut self) -> Pkt {
        self.header.rst = true;
        self
    }
    pub fn mss(mut self, v: u16) -> Pkt {
        self.options.push(TcpOptionElement::MaximumSegmentSize(v));
        self
    }
    pub fn wscale(mut self, v: u8) -> Pkt {
        self.options.push(TcpOptionElement::WindowScale(v));
        self
    }
    pub fn sack_perm(mut self) -> Pkt {
        self.options
            .push(TcpOptionElement::SelectiveAcknowledgementPermitted);
        self
    }
    /// A SACK option with `first` and up to three more blocks, each
    /// `(left, right)`.
    pub fn sack(mut self, first: (u32, u32), more: &[(u32, u32)]) -> Pkt {
        let mut rest = [None; 3];
        for (slot, block) in rest.iter_mut().zip(more) {
            *slot = Some(*block);
        }
        self.options
            .push(TcpOptionElement::SelectiveAcknowledgement(first, rest));
        self
    }

    fn header(&self) -> TcpHeader {
        let mut h = self.header.clone();
        h.set_options(&self.options).expect("options fit");
        h
    }

    /// The segment as a raw IPv4 packet.
    pub fn ipv4(&self) -> Vec<u8> {
        let (s, d) = if self.from_client {
            (CLIENT.0, SERVER.0)
        } else {
            (SERVER.0, CLIENT.0)
        };
        let mut out = Vec::new();
        PacketBuilder::ipv4(s, d, 64)
            .tcp_header(self.header())
            .write(&mut out, &self.payload)
            .expect("write");
        out
    }

    /// The segment as a raw IPv6 packet.
    pub fn ipv6(&self) -> Vec<u8> {
        let (s, d) = if self.from_client {
            (CLIENT6, SERVER6)
        } else {
            (SERVER6, CLIENT6)
        };
        let mut out = Vec::new();
        PacketBuilder::ipv6(s, d, 64)
            .tcp_header(self.header())
            .write(&mut out, &self.payload)
            .expect("write");
        out
    }
}

/// Link-layer wrappers around a raw IP packet.
pub mod wrap {
    pub fn ethernet(ip: &[u8], ether_type: u16) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&ether_type.to_be_bytes());
        f.extend_from_slice(ip);
        f
    }
    pub fn vlan(ip: &[u8], ether_type: u16, id: u16) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&0x8100u16.to_be_bytes());
        f.extend_from_slice(&id.to_be_bytes());
        f.extend_from_slice(&ether_type.to_be_bytes());
        f.extend_from_slice(ip);
        f
    }
    pub fn null_le(ip: &[u8], af: u32) -> Vec<u8> {
        let mut f = af.to_le_bytes().to_vec();
        f.extend_from_slice(ip);
        f
    }
    pub fn loop_be(ip: &[u8], af: u32) -> Vec<u8> {
        let mut f = af.to_be_bytes().to_vec();
        f.extend_from_slice(ip);
        f
    }
    pub fn sll(ip: &[u8], proto: u16) -> Vec<u8> {
        let mut f = vec![0u8; 14];
        f.extend_from_slice(&proto.to_be_bytes());
        f.extend_from_slice(ip);
        f
    }
    /// An Ethernet frame of `ether_type` under VLAN tags, outermost first,
    /// each `(TPID, VLAN id)`: `[(0x88a8, 10), (0x8100, 20)]` is QinQ.
    pub fn tagged(payload: &[u8], ether_type: u16, tags: &[(u16, u16)]) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        for (tpid, id) in tags {
            f.extend_from_slice(&tpid.to_be_bytes());
            f.extend_from_slice(&id.to_be_bytes());
        }
        f.extend_from_slice(&ether_type.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }
    /// A PPPoE session payload (EtherType 0x8864) carrying `ip` as PPP
    /// protocol `ppp` (0x0021 IPv4, 0x0057 IPv6).
    pub fn pppoe(ip: &[u8], ppp: u16) -> Vec<u8> {
        let mut f = vec![0x11, 0, 0x12, 0x34];
        f.extend_from_slice(&(ip.len() as u16 + 2).to_be_bytes());
        f.extend_from_slice(&ppp.to_be_bytes());
        f.extend_from_slice(ip);
        f
    }
    /// `payload` under `labels` MPLS labels (EtherType 0x8847), the last
    /// with the bottom-of-stack bit.
    pub fn mpls(payload: &[u8], labels: u32) -> Vec<u8> {
        let mut f = Vec::new();
        for i in 1..=labels {
            let entry = (100 + i) << 12 | u32::from(i == labels) << 8 | 64;
            f.extend_from_slice(&entry.to_be_bytes());
        }
        f.extend_from_slice(payload);
        f
    }
    /// A GRE (version 0) packet of protocol `proto`, with a key field.
    pub fn gre(payload: &[u8], proto: u16) -> Vec<u8> {
        let mut f = vec![0x20, 0];
        f.extend_from_slice(&proto.to_be_bytes());
        f.extend_from_slice(&7u32.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }
    /// An outer IPv4 packet (192.0.2.1 to 192.0.2.2) of protocol `proto`.
    pub fn outer_ipv4(payload: &[u8], proto: u8) -> Vec<u8> {
        let mut f = vec![0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, proto, 0, 0];
        f.extend_from_slice(&[192, 0, 2, 1, 192, 0, 2, 2]);
        f[2..4].copy_from_slice(&(20 + payload.len() as u16).to_be_bytes());
        f.extend_from_slice(payload);
        ipv4_checksum(f)
    }
    /// An outer IPv6 packet (2001:db8::1 to 2001:db8::2) of next header `next`.
    pub fn outer_ipv6(payload: &[u8], next: u8) -> Vec<u8> {
        let mut f = vec![0x60, 0, 0, 0];
        f.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        f.extend_from_slice(&[next, 64]);
        for last in [1, 2] {
            f.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
            f.extend_from_slice(&[0; 11]);
            f.push(last);
        }
        f.extend_from_slice(payload);
        f
    }
    /// A UDP datagram to `port` (checksum 0, as tunnels send).
    pub fn udp(payload: &[u8], port: u16) -> Vec<u8> {
        let mut f = 50000u16.to_be_bytes().to_vec();
        f.extend_from_slice(&port.to_be_bytes());
        f.extend_from_slice(&(8 + payload.len() as u16).to_be_bytes());
        f.extend_from_slice(&[0, 0]);
        f.extend_from_slice(payload);
        f
    }
    /// A VXLAN header (VNI 42) before an Ethernet frame.
    pub fn vxlan(frame: &[u8]) -> Vec<u8> {
        let mut f = vec![0x08, 0, 0, 0, 0, 0, 42, 0];
        f.extend_from_slice(frame);
        f
    }
    /// A GENEVE header (VNI 42, one 4-byte option) before a payload of
    /// protocol `proto` (0x6558 Ethernet).
    pub fn geneve(payload: &[u8], proto: u16) -> Vec<u8> {
        let mut f = vec![0x02, 0];
        f.extend_from_slice(&proto.to_be_bytes());
        f.extend_from_slice(&[0, 0, 42, 0]);
        f.extend_from_slice(&[0x01, 0x02, 0x03, 0x01, 0, 0, 0, 0]);
        f.extend_from_slice(payload);
        f
    }
    /// A GTP-U G-PDU (TEID 1) before `ip`, with a sequence number and one
    /// PDU session container extension header.
    pub fn gtp_u(ip: &[u8]) -> Vec<u8> {
        let mut f = vec![0x36, 0xff];
        f.extend_from_slice(&(ip.len() as u16 + 8).to_be_bytes());
        f.extend_from_slice(&1u32.to_be_bytes());
        f.extend_from_slice(&[0, 1, 0, 0x85, 1, 0x00, 0x01, 0]);
        f.extend_from_slice(ip);
        f
    }
    /// An 802.3 frame (a length, not an EtherType) with 802.2 LLC and SNAP
    /// before `payload` of `ether_type`.
    pub fn snap(payload: &[u8], ether_type: u16) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&(8 + payload.len() as u16).to_be_bytes());
        f.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0]);
        f.extend_from_slice(&ether_type.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }
    /// An FDDI frame (LINKTYPE 10): frame control, two addresses, then
    /// 802.2 LLC and SNAP before `payload` of `ether_type`.
    pub fn fddi(payload: &[u8], ether_type: u16) -> Vec<u8> {
        let mut f = vec![0x50];
        f.extend_from_slice(&[0u8; 12]);
        f.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0]);
        f.extend_from_slice(&ether_type.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }
    /// The IPv4 packet `ip` with `options` (zero-padded to a multiple of 4)
    /// after its fixed header; lengths and header checksum made right.
    pub fn ipv4_options(ip: &[u8], options: &[u8]) -> Vec<u8> {
        let mut opts = options.to_vec();
        opts.resize(options.len().div_ceil(4) * 4, 0);
        let hlen = usize::from(ip[0] & 0x0f) * 4;
        let mut out = ip[..20].to_vec();
        out.extend_from_slice(&opts);
        out.extend_from_slice(&ip[hlen..]);
        out[0] = 0x40 | ((20 + opts.len()) / 4) as u8;
        let total = out.len() as u16;
        out[2..4].copy_from_slice(&total.to_be_bytes());
        ipv4_checksum(out)
    }
    /// The IPv4 packet `ip` sent to `dst`, header checksum made right.
    pub fn ipv4_dst(ip: &[u8], dst: [u8; 4]) -> Vec<u8> {
        let mut out = ip.to_vec();
        out[16..20].copy_from_slice(&dst);
        ipv4_checksum(out)
    }
    fn ipv4_checksum(mut ip: Vec<u8>) -> Vec<u8> {
        let hlen = usize::from(ip[0] & 0x0f) * 4;
        ip[10..12].copy_from_slice(&[0, 0]);
        let mut sum: u32 = ip[..hlen]
            .chunks(2)
            .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
            .sum();
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
        ip
    }
    pub fn sll2(ip: &[u8], proto: u16) -> Vec<u8> {
        let mut f = proto.to_be_bytes().to_vec();
        f.extend_from_slice(&[0u8; 18]);
        f.extend_from_slice(ip);
        f
    }
}

/// Frames of a conversation (raw IPv4, or IPv6 once asked), numbered and stamped 1 ms apart
/// unless told, kept whole unless a snaplen is set.
#[derive(Default)]
pub struct Trace {
    pub frames: Vec<(FrameMeta, Vec<u8>)>,
    next_ts: i64,
    snaplen: Option<usize>,
    v6: bool,
}

impl Trace {
    pub fn new() -> Trace {
        Trace::default()
    }

    /// Keeps at most `n` bytes of each frame appended from now on, as a
    /// capture with that snaplen does (the frame's wire length stays whole).
    pub fn snaplen(&mut self, n: usize) -> &mut Trace {
        self.snaplen = Some(n);
        self
    }

    /// Builds the segments appended from now on as IPv6 packets.
    pub fn ipv6(&mut self) -> &mut Trace {
        self.v6 = true;
        self
    }

    /// Appends a segment `gap_us` microseconds after the previous one.
    pub fn at(&mut self, gap_us: i64, p: Pkt) -> &mut Trace {
        self.next_ts += gap_us * 1000;
        let mut bytes = if self.v6 { p.ipv6() } else { p.ipv4() };
        let meta = FrameMeta {
            number: self.frames.len() as u64 + 1,
            ts_ns: self.next_ts,
            orig_len: bytes.len() as u32,
        };
        if let Some(n) = self.snaplen {
            bytes.truncate(n);
        }
        self.frames.push((meta, bytes));
        self
    }

    /// Appends a segment 1 ms after the previous one.
    pub fn push(&mut self, p: Pkt) -> &mut Trace {
        self.at(1000, p)
    }

    /// Rewrites frame `i` (0-based) with `f`, its wire length following.
    pub fn rewrite(&mut self, i: usize, f: impl FnOnce(&[u8]) -> Vec<u8>) -> &mut Trace {
        let (meta, bytes) = &mut self.frames[i];
        *bytes = f(bytes);
        meta.orig_len = bytes.len() as u32;
        self
    }

    /// Rewrites every frame with `f` (a link layer, a tunnel), wire lengths following.
    pub fn rewrite_all(&mut self, f: impl Fn(&[u8]) -> Vec<u8>) -> &mut Trace {
        for i in 0..self.frames.len() {
            self.rewrite(i, &f);
        }
        self
    }

    /// Decoded segments, in order.
    pub fn segments(&self) -> Vec<Segment<'_>> {
        self.frames
            .iter()
            .map(|(m, b)| match decode(LinkType::Raw, b, *m) {
                Decoded::Tcp(s) => s,
                other => panic!("not TCP: {other:?}"),
            })
            .collect()
    }
}

/// xorshift64: deterministic pseudo-random numbers without a dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n` (not 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// A check that needs `tool` cannot run because it is missing: under CI
/// (`CI` set to anything but `false` or empty) the test fails, since CI
/// installs every tool the suite uses and a skipped check would pass by not
/// running; elsewhere it says what was skipped.
pub fn tool_missing(tool: &str, check: &str) {
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    assert!(
        !ci,
        "{tool} is not installed, and CI must run {check}: install {tool}"
    );
    eprintln!("{tool} is not installed: {check} is skipped");
}

/// Waits, polling every 10 ms, until `ready` holds: a test waits for the
/// event it needs (a line in a log, a file growing), never for a fixed
/// time. Fails after 60 s, naming `what` it waited for.
pub fn wait_until(ready: impl Fn() -> bool, what: &str) {
    let start = std::time::Instant::now();
    while !ready() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "waited 60 s for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// A classic pcap file (microsecond timestamps, little-endian) of `frames`
/// under LINKTYPE `link`: what a test hands to recvscope and to tshark.
pub fn pcap(link: u32, frames: &[(FrameMeta, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0u8; 8]);
    out.extend_from_slice(&262_144u32.to_le_bytes());
    out.extend_from_slice(&link.to_le_bytes());
    for (meta, bytes) in frames {
        let ts_us = meta.ts_ns.div_euclid(1000);
        out.extend_from_slice(&(ts_us.div_euclid(1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&(ts_us.rem_euclid(1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(&meta.orig_len.max(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(bytes);
    }
    out
}

impl Trace {
    /// The trace as a classic pcap of raw IPv4 (LINKTYPE 101).
    pub fn pcap(&self) -> Vec<u8> {
        pcap(101, &self.frames)
    }
}

/// How many frames of `file` match the display `filter` by tshark's count,
/// or `None` (after [`tool_missing`]) where tshark is not installed.
pub fn tshark_count(file: &std::path::Path, filter: &str) -> Option<usize> {
    tshark_count_with(file, &[], filter)
}

/// [`tshark_count`] with tshark's preferences `prefs` set (`-o` each, as
/// `"tcp.reassemble_out_of_order:TRUE"`).
pub fn tshark_count_with(file: &std::path::Path, prefs: &[&str], filter: &str) -> Option<usize> {
    let mut cmd = std::process::Command::new("tshark");
    cmd.arg("-n").arg("-r").arg(file);
    for p in prefs {
        cmd.arg("-o").arg(p);
    }
    let out = match cmd
        .arg("-Y")
        .arg(filter)
        .arg("-T")
        .arg("fields")
        .arg("-e")
        .arg("frame.number")
        .output()
    {
        Ok(out) => out,
        Err(_) => {
            tool_missing("tshark", "the comparison with tshark");
            return None;
        }
    };
    assert!(
        out.status.success(),
        "tshark -r {} -Y '{filter}': {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        out.stdout
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .count(),
    )
}

/// One interface of a built pcapng.
#[derive(Clone, Copy, Debug)]
pub struct Interface {
    /// Its LINKTYPE_ value.
    pub link: u16,
    pub snaplen: u32,
    /// `if_tsresol`: timestamps in 10^-n seconds (none: microseconds).
    pub tsresol: Option<u8>,
}

/// A little-endian pcapng block of `kind` around `body`.
pub fn pcapng_block(kind: u32, body: &[u8]) -> Vec<u8> {
    let mut body = body.to_vec();
    body.resize(body.len().next_multiple_of(4), 0);
    let len = (12 + body.len()) as u32;
    let mut b = kind.to_le_bytes().to_vec();
    b.extend_from_slice(&len.to_le_bytes());
    b.extend_from_slice(&body);
    b.extend_from_slice(&len.to_le_bytes());
    b
}

/// A pcapng (one little-endian section) of `interfaces`, then `frames`,
/// each an Enhanced Packet Block on its interface, stamped in that
/// interface's resolution and cut to its snaplen: what `mergecap` makes.
pub fn pcapng(interfaces: &[Interface], frames: &[(u32, FrameMeta, Vec<u8>)]) -> Vec<u8> {
    let mut shb = 0x1a2b_3c4du32.to_le_bytes().to_vec();
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    let mut out = pcapng_block(0x0a0d_0d0a, &shb);
    for i in interfaces {
        let mut idb = i.link.to_le_bytes().to_vec();
        idb.extend_from_slice(&[0, 0]);
        idb.extend_from_slice(&i.snaplen.to_le_bytes());
        if let Some(r) = i.tsresol {
            idb.extend_from_slice(&[9, 0, 1, 0, r, 0, 0, 0]);
        }
        out.extend(pcapng_block(1, &idb));
    }
    for (iface, meta, bytes) in frames {
        let i = interfaces[*iface as usize];
        let per_unit = 10u64.pow(9 - u32::from(i.tsresol.unwrap_or(6)));
        let ts = meta.ts_ns as u64 / per_unit;
        let kept = &bytes[..bytes.len().min(i.snaplen as usize)];
        let mut epb = iface.to_le_bytes().to_vec();
        epb.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ts as u32).to_le_bytes());
        epb.extend_from_slice(&(kept.len() as u32).to_le_bytes());
        epb.extend_from_slice(&meta.orig_len.max(bytes.len() as u32).to_le_bytes());
        epb.extend_from_slice(kept);
        out.extend(pcapng_block(6, &epb));
    }
    out
}
