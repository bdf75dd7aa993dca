//! Answers to the Kurose & Ross "Wireshark Lab: TCP" from one connection's
//! packet list, so that no question needs a GUI or arithmetic by hand.
//!
//! The "bulk sender" is the side that sent more payload (the client in the
//! lab's upload, the server in a download); the other side is the receiver.
//! Times are nanoseconds since the capture's first frame, Wireshark's
//! `frame.time_relative`.

mod acks;
mod rounds;
mod rtt;

use serde::Serialize;

use crate::ConnectionSummary;
use recvscope_tcp::{Flag, PacketRecord, WindowScaling};
use recvscope_wire::{Side, WireText};

pub use acks::{AckCoverage, Bucket, Throughput};
pub use rounds::{AfterSlowStart, FlightCap, GapBasis, Round, SlowStart, SlowStartReading};
pub use rtt::{RttNote, RttRow, RttTable};

/// The lab's smoothing factor for EstimatedRTT.
pub const ALPHA: f64 = 0.125;
/// How many data segments the RTT table follows, as the lab asks.
pub(crate) const RTT_SEGMENTS: usize = 6;

/// Every answer, for one connection.
#[derive(Debug, Clone, Serialize)]
pub struct TcpLabAnswers {
    pub connection: u64,
    /// "ip:port" of each end.
    pub client: String,
    pub server: String,
    /// The side that sent more payload.
    pub bulk_sender: Side,
    pub receiver: Side,
    /// Stream bytes the bulk sender and the receiver sent.
    pub bulk_bytes: u64,
    pub receiver_bytes: u64,
    pub syn: Option<HandshakeSegment>,
    pub syn_ack: Option<HandshakeSegment>,
    /// The segment holding the first byte of the first HTTP request.
    pub request: Option<RequestSegment>,
    /// The bulk sender's first data segment.
    pub first_bulk_data: Option<DataSegment>,
    pub rtt: RttTable,
    pub window: ReceiverWindow,
    pub retransmissions: Vec<Retransmission>,
    pub ack_coverage: AckCoverage,
    pub throughput: Option<Throughput>,
    pub slow_start: SlowStart,
}

/// The SYN or the SYN-ACK.
#[derive(Debug, Clone, Serialize)]
pub struct HandshakeSegment {
    pub frame: u64,
    /// Sequence number as on the wire; `null` without the sender's ISN.
    pub raw_seq: Option<u32>,
    pub rel_seq: u32,
    pub raw_ack: Option<u32>,
    pub rel_ack: Option<u32>,
    /// tcpdump-style letters: `S` for a SYN, `S.` for a SYN-ACK.
    pub flags: String,
}

/// One data segment.
#[derive(Debug, Clone, Serialize)]
pub struct DataSegment {
    pub frame: u64,
    pub raw_seq: Option<u32>,
    pub rel_seq: u32,
    pub len: u32,
    pub sent_ns: i64,
}

/// Where the HTTP request starts.
#[derive(Debug, Clone, Serialize)]
pub struct RequestSegment {
    /// From the HTTP parser, when it saw the request.
    pub method: Option<WireText>,
    pub uri: Option<WireText>,
    pub segment: DataSegment,
}

/// The receiver's advertised window over the whole connection, and whether
/// it held the bulk sender back.
#[derive(Debug, Clone, Serialize)]
pub struct ReceiverWindow {
    pub receiver: Side,
    /// In bytes, scaled where the shift is known (a SYN's never is).
    pub min: Option<u64>,
    pub min_frame: Option<u64>,
    /// The smallest outside the SYN/SYN-ACK, whose window is never scaled.
    pub min_after_handshake: Option<u64>,
    pub min_after_handshake_frame: Option<u64>,
    pub max: Option<u64>,
    pub max_frame: Option<u64>,
    /// As in the connection summary.
    pub scaling: WindowScaling,
    pub throttled: bool,
    /// Bulk-sender segments that filled the window exactly (`window_full`).
    pub window_full_segments: u64,
    pub window_filled: Vec<WindowFilled>,
    /// The receiver's segments Wireshark flags `tcp.analysis.zero_window`.
    pub zero_window_segments: u64,
    /// Times the receiver's zero window stopped the bulk sender, each from
    /// its first zero-window segment until the window reopened.
    pub zero_window_stalls: u64,
    /// How long those stalls lasted in all.
    pub zero_window_stall_ns: i64,
    /// Most bytes the bulk sender had unacknowledged at once.
    pub sender_max_in_flight: u64,
}

/// A segment that filled the receiver's window exactly.
#[derive(Debug, Clone, Serialize)]
pub struct WindowFilled {
    pub frame: u64,
    pub at_ns: i64,
    /// The window it filled: the receiver's last advertised, in bytes.
    pub window: Option<u64>,
}

/// A segment Wireshark calls a retransmission, and by which rule.
#[derive(Debug, Clone, Serialize)]
pub struct Retransmission {
    pub frame: u64,
    pub from: Side,
    pub rel_seq: u32,
    pub len: u32,
    /// The most specific `tcp.analysis.*` flag it carries.
    pub kind: Flag,
}

/// The rows of one side of a connection, with the facts the answers share.
pub(crate) struct View<'a> {
    pub rows: &'a [PacketRecord],
    pub sender: Side,
    pub receiver: Side,
    pub t0: i64,
}

impl View<'_> {
    /// Rows with the sender's data: payload, and not a keep-alive's garbage byte.
    pub(crate) fn data(&self) -> impl Iterator<Item = (usize, &PacketRecord)> {
        self.rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.from == self.sender && is_data(r))
    }

    /// Rows from the receiver carrying an acknowledgement number.
    pub(crate) fn is_ack(&self, r: &PacketRecord) -> bool {
        r.from == self.receiver && r.rel_ack.is_some() && !r.flags.syn()
    }
}

fn is_data(r: &PacketRecord) -> bool {
    r.len > 0 && !r.analysis.contains(Flag::KeepAlive)
}

/// True when a row was flagged as any kind of retransmission.
pub(crate) fn is_retransmission(r: &PacketRecord) -> bool {
    r.analysis.contains(Flag::Retransmission)
}

/// Answers the lab for `conn`, whose packet list must have been kept
/// (`None` otherwise). `t0` is the capture's first timestamp.
pub fn answer(conn: &ConnectionSummary, t0: i64) -> Option<TcpLabAnswers> {
    let rows = conn.packet_list.as_deref()?;
    let client_bulk = conn.tcp.bytes.client_to_server > conn.tcp.bytes.server_to_client;
    let (sender, receiver) = if client_bulk {
        (Side::Client, Side::Server)
    } else {
        (Side::Server, Side::Client)
    };
    let (bulk_bytes, receiver_bytes) = if client_bulk {
        (
            conn.tcp.bytes.client_to_server,
            conn.tcp.bytes.server_to_client,
        )
    } else {
        (
            conn.tcp.bytes.server_to_client,
            conn.tcp.bytes.client_to_server,
        )
    };
    let view = View {
        rows,
        sender,
        receiver,
        t0,
    };
    let raw = |from: Side, rel: u32| {
        let isn = if from == Side::Client {
            conn.tcp.handshake.client_isn
        } else {
            conn.tcp.handshake.server_isn
        };
        isn.map(|i| i.wrapping_add(rel))
    };
    let segment = |r: &PacketRecord| DataSegment {
        frame: r.frame,
        raw_seq: raw(r.from, r.rel_seq),
        rel_seq: r.rel_seq,
        len: r.len,
        sent_ns: r.ts_ns - t0,
    };
    let handshake = |syn_ack: bool| {
        rows.iter()
            .find(|r| r.flags.syn() && r.flags.ack() == syn_ack)
            .map(|r| {
                let peer = r.from.peer();
                HandshakeSegment {
                    frame: r.frame,
                    raw_seq: raw(r.from, r.rel_seq),
                    rel_seq: r.rel_seq,
                    raw_ack: r.rel_ack.and_then(|a| raw(peer, a)),
                    rel_ack: r.rel_ack,
                    flags: r.flags.letters(),
                }
            })
    };
    let request = rows
        .iter()
        .find(|r| r.from == Side::Client && is_data(r) && r.rel_seq <= 1 && r.end_seq() > 1)
        .map(|r| RequestSegment {
            method: conn.http.first().and_then(|h| h.method.clone()),
            uri: conn.http.first().and_then(|h| h.uri.clone()),
            segment: segment(r),
        });
    let rtt = rtt::table(&view);
    let slow_start = rounds::slow_start(&view, conn, &rtt);
    Some(TcpLabAnswers {
        connection: conn.tcp.id,
        client: conn.tcp.client.clone(),
        server: conn.tcp.server.clone(),
        bulk_sender: sender,
        receiver,
        bulk_bytes,
        receiver_bytes,
        syn: handshake(false),
        syn_ack: handshake(true),
        request,
        first_bulk_data: view.data().next().map(|(_, r)| segment(r)),
        window: receiver_window(&view, conn),
        retransmissions: retransmissions(rows),
        ack_coverage: acks::coverage(&view),
        throughput: acks::throughput(&view),
        rtt,
        slow_start,
    })
}

fn receiver_window(view: &View<'_>, conn: &ConnectionSummary) -> ReceiverWindow {
    let advertised = || {
        view.rows
            .iter()
            .filter(|r| r.from == view.receiver && !r.flags.rst())
    };
    // The first row with the smallest and the first with the largest window.
    let min = advertised().min_by_key(|r| r.window);
    let max = advertised().rev().max_by_key(|r| r.window);
    let later_min = advertised()
        .filter(|r| !r.flags.syn())
        .min_by_key(|r| r.window);
    let fc = &conn.tcp.flow_control;
    let (window_full, zero_window_stalls) = if view.receiver == Side::Server {
        (fc.window_full_to_server, fc.server_zero_windows)
    } else {
        (fc.window_full_to_client, fc.client_zero_windows)
    };
    let receiver_flags = if view.receiver == Side::Server {
        &conn.tcp.flags_by_direction.server
    } else {
        &conn.tcp.flags_by_direction.client
    };
    let mut offered = None;
    let mut filled = Vec::new();
    for r in view.rows {
        if r.from == view.receiver {
            offered = Some(r.window);
        } else if r.from == view.sender && is_data(r) && r.analysis.contains(Flag::WindowFull) {
            filled.push(WindowFilled {
                frame: r.frame,
                at_ns: r.ts_ns - view.t0,
                window: offered,
            });
        }
    }
    let in_flight = if view.sender == Side::Client {
        conn.tcp.max_bytes_in_flight.client
    } else {
        conn.tcp.max_bytes_in_flight.server
    };
    let throttled = window_full > 0 || zero_window_stalls > 0;
    let zero_window_stall_ns = if view.receiver == Side::Server {
        fc.server_zero_window_stall_ns
    } else {
        fc.client_zero_window_stall_ns
    };
    ReceiverWindow {
        receiver: view.receiver,
        min: min.map(|r| r.window),
        min_frame: min.map(|r| r.frame),
        min_after_handshake: later_min.map(|r| r.window),
        min_after_handshake_frame: later_min.map(|r| r.frame),
        max: max.map(|r| r.window),
        max_frame: max.map(|r| r.frame),
        scaling: conn.tcp.handshake.window_scaling,
        throttled,
        window_full_segments: window_full,
        window_filled: filled,
        zero_window_segments: receiver_flags.get(Flag::ZeroWindow),
        zero_window_stalls,
        zero_window_stall_ns,
        sender_max_in_flight: in_flight,
    }
}

/// Every retransmission of either side, with the rule that recognised it.
fn retransmissions(rows: &[PacketRecord]) -> Vec<Retransmission> {
    rows.iter()
        .filter(|r| is_retransmission(r))
        .map(|r| {
            let kind = [Flag::SpuriousRetransmission, Flag::FastRetransmission]
                .into_iter()
                .find(|f| r.analysis.contains(*f))
                .unwrap_or(Flag::Retransmission);
            Retransmission {
                frame: r.frame,
                from: r.from,
                rel_seq: r.rel_seq,
                len: r.len,
                kind,
            }
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use recvscope_testkit::{Pkt, Trace};

    /// The summary of the trace's only connection, listed packet by packet.
    pub(crate) fn listed(t: &Trace) -> ConnectionSummary {
        crate::tests::report(t, Some(0))
            .connections
            .into_iter()
            .next()
            .expect("a connection")
    }

    /// Client ISN 1000, server ISN 5000, no window scaling; 10 ms RTT.
    pub(crate) fn handshake(t: &mut Trace) {
        t.push(Pkt::c2s(1000, b"").syn().mss(1000).window(8192))
            .at(
                10_000,
                Pkt::s2c(5000, b"").syn().ack(1001).mss(1000).window(4000),
            )
            .at(10, Pkt::c2s(1001, b"").ack(5001).window(8192));
    }

    #[test]
    fn handshake_answers_give_raw_and_relative_isns() {
        let mut t = Trace::new();
        handshake(&mut t);
        t.push(
            Pkt::c2s(1001, b"GET / HTTP/1.0\r\n\r\n")
                .ack(5001)
                .window(8192),
        )
        .push(Pkt::s2c(5001, &[7; 100]).ack(1019).window(4000));
        let a = answer(&listed(&t), 0).expect("listed");
        assert_eq!(a.bulk_sender, Side::Server);
        assert_eq!(a.receiver, Side::Client);
        let syn = a.syn.expect("SYN");
        assert_eq!((syn.frame, syn.raw_seq, syn.rel_seq), (1, Some(1000), 0));
        assert_eq!(syn.flags, "S");
        assert_eq!(syn.rel_ack, None);
        let sa = a.syn_ack.expect("SYN-ACK");
        assert_eq!((sa.frame, sa.raw_seq, sa.rel_seq), (2, Some(5000), 0));
        assert_eq!((sa.raw_ack, sa.rel_ack), (Some(1001), Some(1)));
        assert_eq!(sa.flags, "S.");
        let req = a.request.expect("request");
        assert_eq!(req.method.as_ref().map(|t| t.as_str()), Some("GET"));
        assert_eq!(
            (
                req.segment.frame,
                req.segment.raw_seq,
                req.segment.rel_seq,
                req.segment.len
            ),
            (4, Some(1001), 1, 18)
        );
        let first = a.first_bulk_data.expect("bulk data");
        assert_eq!(
            (first.frame, first.raw_seq, first.rel_seq),
            (5, Some(5001), 1)
        );
    }

    #[test]
    fn the_receiver_window_answer_names_its_smallest_and_largest() {
        let mut t = Trace::new();
        handshake(&mut t);
        t.push(Pkt::c2s(1001, &[1; 1000]).ack(5001).window(8192))
            .push(Pkt::s2c(5001, b"").ack(2001).window(3000))
            .push(Pkt::s2c(5001, b"").ack(2001).window(9000));
        let a = answer(&listed(&t), 0).expect("listed");
        let w = &a.window;
        assert_eq!(w.receiver, Side::Server);
        assert_eq!((w.min, w.min_frame), (Some(3000), Some(5)));
        assert_eq!((w.max, w.max_frame), (Some(9000), Some(6)));
        assert_eq!(
            (w.min_after_handshake, w.min_after_handshake_frame),
            (Some(3000), Some(5))
        );
        assert!(!w.throttled);
    }

    #[test]
    fn a_segment_filling_the_window_is_reported_as_throttling() {
        let mut t = Trace::new();
        handshake(&mut t);
        t.push(Pkt::c2s(1001, &[1; 1000]).ack(5001).window(8192))
            .push(Pkt::s2c(5001, b"").ack(2001).window(1000))
            .push(Pkt::c2s(2001, &[1; 1000]).ack(5001).window(8192));
        let a = answer(&listed(&t), 0).expect("listed");
        assert!(a.window.throttled);
        assert_eq!(a.window.window_full_segments, 1);
        let filled: Vec<(u64, Option<u64>)> = a
            .window
            .window_filled
            .iter()
            .map(|f| (f.frame, f.window))
            .collect();
        assert_eq!(filled, [(6, Some(1000))]);
        assert_eq!(a.window.window_filled[0].at_ns, 14_010_000);
    }

    #[test]
    fn retransmissions_are_listed_with_their_wireshark_rule() {
        let mut t = Trace::new();
        handshake(&mut t);
        t.push(Pkt::c2s(1001, &[1; 100]).ack(5001).window(8192))
            .push(Pkt::s2c(5001, b"").ack(1101).window(4000))
            .at(300_000, Pkt::c2s(1101, &[1; 100]).ack(5001).window(8192))
            .at(300_000, Pkt::c2s(1101, &[1; 100]).ack(5001).window(8192))
            .push(Pkt::c2s(1001, &[1; 100]).ack(5001).window(8192));
        let a = answer(&listed(&t), 0).expect("listed");
        let got: Vec<(u64, Flag)> = a
            .retransmissions
            .iter()
            .map(|r| (r.frame, r.kind))
            .collect();
        assert_eq!(
            got,
            [(7, Flag::Retransmission), (8, Flag::SpuriousRetransmission)]
        );
    }
}
