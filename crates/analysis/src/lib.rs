//! **Pipeline: frames → wire → tcp (→ http) → `recvscope-analysis` → typed facts →
//! recvscope-render.** It joins the stages and adds the recv correlation, the
//! TCP lab's answers and the figures of a guided lab's runs; it returns values
//! and says nothing in English.
//!
//! The whole pure pipeline for one capture: frames in, a report out.
//! Frames are decoded, tracked as TCP connections, and each connection's
//! in-order bytes feed its HTTP conversation; a finished connection's TCP
//! figures and HTTP are joined into one [`ConnectionSummary`].

#![warn(unreachable_pub)]

mod capture_warning;
mod connection;
pub mod correlate;
mod http_stream;
pub mod lab_guide;
pub mod lab_run;
pub mod lesson;
mod recv;
pub mod tcplab;

use serde::Serialize;

use recvscope_tcp::{self as tcp, FlagCounts, Tracker};
use recvscope_wire::{Decoded, FrameMeta, LinkType, Undecoded, decode};

pub use capture_warning::{CaptureWarning, RecvLogProblem};
pub use connection::{ConnectionSummary, ConnectionWarning, HttpExchange};
use http_stream::HttpStream;
pub use http_stream::{Bodies, BodySink, NoBodies};
pub use recv::{CAPTURE_MARGIN_NS, CaptureSpan, LogTime, Rcvbuf, RecvEvent, RecvFault, TcpInfo};

/// Memory bounds per connection.
#[derive(Clone, Debug, Default)]
pub struct Limits {
    pub tcp: tcp::Limits,
    pub http: recvscope_http::Limits,
}

/// Everything recvscope knows about one capture.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Frames in the capture.
    pub packets: u64,
    /// tcpdump's name of the frames' link type, or `mixed` for a pcapng
    /// whose interfaces have several (listed in `interfaces`).
    pub link_type: &'static str,
    /// Its LINKTYPE_ value; none when mixed.
    pub link_type_code: Option<i32>,
    /// A pcapng's interfaces when their link types differ, in file order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub interfaces: Vec<InterfaceLink>,
    pub tcp_packets: u64,
    /// Frames not analysed as TCP: not TCP (ARP, UDP, ICMP, ...), TCP not
    /// analysed (fragments, cut headers, malformed IPv4 headers), or of a
    /// link type that cannot be decoded.
    pub other_packets: u64,
    /// Frames carrying TCP (or a tunnel) under an IPv4 header Wireshark finds
    /// malformed (an option shorter than its kind's fields): not analysed.
    pub malformed_ip: u64,
    pub first_ts_ns: Option<i64>,
    pub last_ts_ns: Option<i64>,
    /// Flag counts over every connection.
    pub flags: FlagCounts,
    pub connections: Vec<ConnectionSummary>,
    pub warnings: Vec<CaptureWarning>,
}

/// One pcapng interface's link layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterfaceLink {
    /// Numbered in file order over every section, as `frame.interface_id`.
    pub interface: usize,
    /// tcpdump's name; none for a link type recvscope cannot decode.
    pub link_type: Option<&'static str>,
    /// The LINKTYPE_ value of its Interface Description Block.
    pub link_type_code: u16,
}

impl Report {
    /// Marks the report as one of frames of several link types, each
    /// interface's listed.
    pub fn mixed_links(&mut self, interfaces: Vec<InterfaceLink>) {
        self.link_type = "mixed";
        self.link_type_code = None;
        self.interfaces = interfaces;
    }
}

/// Feeds frames through decoding and TCP tracking.
pub struct Analyzer {
    link: LinkType,
    tracker: Tracker<HttpStream>,
    /// Connections finished and joined with their HTTP, not yet taken.
    finished: Vec<ConnectionSummary>,
    packets: u64,
    tcp_packets: u64,
    other: u64,
    fragments: u64,
    cut_headers: u64,
    malformed_ip: u64,
    /// Frames in an encapsulation not decoded, and the first one's kind.
    undecoded: u64,
    first_undecoded: Option<Undecoded>,
    cut_payloads: u64,
    /// The captured length of the longest frame whose payload was cut.
    snaplen: u32,
    first_ts: Option<i64>,
    last_ts: Option<i64>,
    backwards: u64,
}

impl Analyzer {
    /// `list` names the connection to list packet by packet, if any.
    pub fn new(link: LinkType, limits: Limits, list: Option<u64>) -> Analyzer {
        Analyzer {
            link,
            tracker: Tracker::new(limits.tcp, limits.http, list),
            finished: Vec::new(),
            packets: 0,
            tcp_packets: 0,
            other: 0,
            fragments: 0,
            cut_headers: 0,
            malformed_ip: 0,
            undecoded: 0,
            first_undecoded: None,
            cut_payloads: 0,
            snaplen: 0,
            first_ts: None,
            last_ts: None,
            backwards: 0,
        }
    }

    /// Keeps every connection's packet records, not only `list`'s, so a
    /// caller choosing connections by their totals needs one pass.
    pub fn list_every_connection(&mut self) {
        self.tracker.list_every_connection();
    }

    /// One captured frame, in capture order.
    pub fn frame(&mut self, meta: FrameMeta, bytes: &[u8], sink: &mut Bodies) {
        self.decoded(meta, decode(self.link, bytes, meta), sink);
    }

    /// One captured frame of a link type that cannot be decoded: counted
    /// with its time, among the frames not analysed as TCP.
    pub fn not_decoded(&mut self, meta: FrameMeta) {
        self.decoded(meta, Decoded::NotTcp, &mut NoBodies);
    }

    /// One captured frame its caller already decoded (with this link
    /// type), for one that looks at the segment too: decoding once.
    pub fn decoded(&mut self, meta: FrameMeta, frame: Decoded<'_>, sink: &mut Bodies) {
        self.packets += 1;
        self.first_ts.get_or_insert(meta.ts_ns);
        if self.last_ts.is_some_and(|t| meta.ts_ns < t) {
            self.backwards += 1;
        }
        self.last_ts = Some(meta.ts_ns);
        match frame {
            Decoded::Tcp(seg) => {
                self.tcp_packets += 1;
                if seg.payload_truncated() {
                    self.cut_payloads += 1;
                    self.snaplen = self.snaplen.max(seg.captured_len);
                }
                self.tracker.segment(&seg, sink);
                for done in self.tracker.take_finished() {
                    self.finished.push(ConnectionSummary::finish(done, sink));
                }
            }
            Decoded::NotTcp => self.other += 1,
            Decoded::Fragment => self.fragments += 1,
            Decoded::Truncated => self.cut_headers += 1,
            Decoded::MalformedIp => self.malformed_ip += 1,
            Decoded::Undecoded(kind) => {
                self.undecoded += 1;
                self.first_undecoded.get_or_insert(kind);
            }
        }
    }

    /// Connections that ended since the last call, for callers that
    /// stream them out instead of holding every one until the end.
    pub fn take_finished(&mut self) -> impl Iterator<Item = ConnectionSummary> + '_ {
        self.finished.drain(..)
    }

    /// End of input: the report, with the connections not yet taken.
    pub fn finish(self, sink: &mut Bodies) -> Report {
        let mut connections = Vec::new();
        let mut report = self.finish_each(sink, &mut |c| connections.push(c));
        connections.sort_by_key(|c| c.tcp.id);
        report.connections = connections;
        report
    }

    /// End of input, streaming: the connections not yet taken go to `each`
    /// one at a time; the report comes back without them.
    pub fn finish_each(self, sink: &mut Bodies, each: &mut dyn FnMut(ConnectionSummary)) -> Report {
        let evicted = self.tracker.evicted();
        let seen_twice = self.tracker.seen_twice();
        for c in self.finished {
            each(c);
        }
        let flags = self.tracker.finish_each(sink, &mut |done, sink| {
            each(ConnectionSummary::finish(done, sink))
        });
        let connections = Vec::new();
        let mut warnings = Vec::new();
        let counted = [
            (
                evicted,
                CaptureWarning::ConnectionsEvicted {
                    connections: evicted,
                    max_live: recvscope_tcp::MAX_LIVE,
                },
            ),
            (
                self.cut_payloads,
                CaptureWarning::SnaplenCut {
                    segments: self.cut_payloads,
                    snaplen: self.snaplen,
                },
            ),
            (
                self.cut_headers,
                CaptureWarning::HeadersCut {
                    frames: self.cut_headers,
                },
            ),
            (
                self.malformed_ip,
                CaptureWarning::MalformedIp {
                    frames: self.malformed_ip,
                },
            ),
            (
                self.fragments,
                CaptureWarning::Fragments {
                    frames: self.fragments,
                },
            ),
            (
                self.backwards,
                CaptureWarning::TimestampsBackwards {
                    frames: self.backwards,
                },
            ),
        ];
        for (n, w) in counted {
            if n > 0 {
                warnings.push(w);
            }
        }
        if let Some(kind) = self.first_undecoded {
            warnings.push(CaptureWarning::UndecodedEncapsulation {
                frames: self.undecoded,
                first: kind,
            });
        }
        if let Some(seen) = seen_twice {
            warnings.push(CaptureWarning::SeenInTunnelAndDirectly {
                connections: seen.connections,
                first: seen.first,
            });
        }
        Report {
            packets: self.packets,
            link_type: self.link.name(),
            link_type_code: Some(self.link.code()),
            interfaces: Vec::new(),
            tcp_packets: self.tcp_packets,
            other_packets: self.other
                + self.fragments
                + self.cut_headers
                + self.malformed_ip
                + self.undecoded,
            malformed_ip: self.malformed_ip,
            first_ts_ns: self.first_ts,
            last_ts_ns: self.last_ts,
            flags,
            connections,
            warnings,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use recvscope_testkit::{Pkt, Rng, Trace};

    /// The whole pipeline's report on a built trace, with connection
    /// `list` listed packet by packet.
    pub(crate) fn report(t: &Trace, list: Option<u64>) -> Report {
        let mut a = Analyzer::new(LinkType::Raw, Limits::default(), list);
        for (meta, bytes) in &t.frames {
            a.frame(*meta, bytes, &mut NoBodies);
        }
        a.finish(&mut NoBodies)
    }

    #[test]
    fn a_closed_exchange_joins_its_tcp_figures_with_its_http() {
        let mut t = Trace::new();
        t.push(Pkt::c2s(1000, b"").syn())
            .push(Pkt::s2c(9000, b"").syn().ack(1001))
            .push(Pkt::c2s(1001, b"").ack(9001))
            .push(Pkt::c2s(1001, b"GET / HTTP/1.0\r\n\r\n").ack(9001))
            .push(Pkt::s2c(9001, b"HTTP/1.0 200 OK\r\n\r\nhi").ack(1019).fin())
            .push(Pkt::c2s(1019, b"").ack(9023).fin());
        let r = report(&t, None);
        let c = &r.connections[0];
        assert_eq!(c.tcp.bytes.server_to_client, 21);
        assert_eq!(c.http.len(), 1);
        assert_eq!(c.http[0].status, Some(200));
        assert_eq!(c.http[0].header_length, Some(15));
        assert_eq!(c.http[0].body_bytes, 2);
        assert!(c.http[0].complete);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn http_warnings_come_before_tcp_warnings() {
        let mut t = Trace::new();
        t.push(Pkt::s2c(500, b"garbage that is not HTTP").ack(100))
            .push(Pkt::c2s(100, b"").ack(524));
        let r = report(&t, None);
        let w = &r.connections[0].warnings;
        assert_eq!(w.len(), 2, "{w:?}");
        assert_eq!(
            w[1],
            ConnectionWarning::Tcp(recvscope_tcp::TcpWarning::HandshakeNotCaptured)
        );
    }

    #[test]
    fn mutated_frames_never_panic_on_any_link_type() {
        let mut rng = Rng(0x5eed_1234_abcd_9876);
        let base: Vec<Vec<u8>> = vec![
            Pkt::c2s(1000, b"")
                .syn()
                .mss(1460)
                .wscale(7)
                .sack_perm()
                .ipv4(),
            Pkt::s2c(5000, b"").syn().ack(1001).wscale(3).ipv6(),
            Pkt::c2s(1001, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                .ack(5001)
                .ipv4(),
            Pkt::s2c(
                5001,
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            )
            .ack(1028)
            .ipv4(),
        ];
        for code in [0, 1, 10, 101, 108, 113, 228, 229, 276] {
            let link = LinkType::from_code(code).expect("supported");
            let mut a = Analyzer::new(link, Limits::default(), Some(0));
            for n in 0..20_000u64 {
                let mut frame = vec![0u8; (rng.next_u64() % 24) as usize];
                frame.extend_from_slice(&base[(rng.next_u64() % 4) as usize]);
                for _ in 0..(rng.next_u64() % 6) {
                    let i = (rng.next_u64() as usize) % frame.len();
                    frame[i] = rng.next_u64() as u8;
                }
                frame.truncate((rng.next_u64() as usize) % (frame.len() + 1));
                let meta = FrameMeta {
                    number: n + 1,
                    ts_ns: (rng.next_u64() % 1_000_000) as i64,
                    orig_len: (rng.next_u64() % 2000) as u32,
                };
                a.frame(meta, &frame, &mut NoBodies);
            }
            let r = a.finish(&mut NoBodies);
            assert_eq!(r.packets, 20_000);
        }
    }
}
