//! The figures that answer the lab guide's questions for one run of a guided
//! lab (the recvs that came back short, the first zero window, the persist
//! probes, the window updates that reopened a closed window, the
//! retransmissions, the book's header arithmetic) and across its runs (the
//! run from which the reader no longer limits the sender). Times are
//! nanoseconds since the request was sent, as in the recv rows.

use recvscope_tcp::{Flag, PacketRecord};
use recvscope_wire::Side;

use crate::ConnectionSummary;
use crate::correlate::RecvRow;
use crate::lab_run::{LimitedBy, RunSummary};
use crate::lesson::{self, ZeroWindow};

/// What the application read, as the book's arithmetic needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadArithmetic {
    /// Bytes before the blank line (the book's `Header Length`).
    pub header_length: u64,
    /// Bytes of the blank line: 4 for `\r\n\r\n`, 2 for `\n\n`.
    pub blank_line: u8,
    /// Body bytes as the HTTP framing counted them.
    pub body_bytes: u64,
    /// The running total after the last recv that returned data.
    pub last_total: u64,
}

impl HeadArithmetic {
    /// Header length + blank line + body.
    pub fn sum(&self) -> u64 {
        self.header_length + u64::from(self.blank_line) + self.body_bytes
    }

    /// True when the sum is the last running total.
    pub fn holds(&self) -> bool {
        self.sum() == self.last_total
    }
}

/// A recv that returned data but less than it asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShortRecv {
    pub index: u64,
    pub bytes: u64,
    /// Bytes waiting in the socket just before the call.
    pub queued_before: Option<u64>,
    /// The window the client had advertised last before the call.
    pub advertised_window: Option<u64>,
}

impl ShortRecv {
    /// True when the recv took every byte that was waiting when it was
    /// called (and, if none was, what arrived while it blocked).
    pub fn took_all_queued(&self) -> bool {
        self.queued_before.is_some_and(|q| q <= self.bytes)
    }
}

/// A recv called while the window was zero whose read made the client
/// advertise a window again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reopening {
    pub recv: u64,
    /// When the recv was called.
    pub recv_ns: i64,
    /// The window update it caused.
    pub frame: u64,
    pub update_ns: i64,
    /// The window it advertised, bytes.
    pub to: u64,
}

impl Reopening {
    /// How soon after the recv was called the window update left.
    pub fn delay_ns(&self) -> i64 {
        self.update_ns - self.recv_ns
    }
}

/// The capture's figures for the guide.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireGuide {
    /// The connection's number in the capture (`replay --conn N`).
    pub connection: u64,
    /// `None` when the client never advertised a zero window.
    pub first_zero_window: Option<ZeroWindow>,
    /// Frames of the server's persist probes.
    pub persist_probes: Vec<u64>,
    pub reopenings: Vec<Reopening>,
    /// Frames flagged as retransmissions (any of Wireshark's three), from
    /// either side.
    pub retransmissions: Vec<u64>,
}

/// Everything the guide asks of one run beyond its [`RunSummary`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunGuide {
    /// The bytes each recv asked for (the first's; 0 without a recv).
    pub asked: usize,
    pub short_recvs: Vec<ShortRecv>,
    pub arithmetic: HeadArithmetic,
    /// `None` without a capture.
    pub wire: Option<WireGuide>,
}

/// The head of a response as the application split it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    pub header_length: u64,
    pub blank_line: u8,
    pub body_bytes: u64,
}

/// The guide's figures of one run: its recv rows (times since the request,
/// sent at `request_ts_ns` on the capture's clock), its connection when it
/// was captured, and the head its application read.
pub fn run_guide(
    rows: &[RecvRow],
    conn: Option<&ConnectionSummary>,
    request_ts_ns: i64,
    head: Head,
) -> RunGuide {
    let data: Vec<&RecvRow> = rows.iter().filter(|r| r.bytes > 0).collect();
    RunGuide {
        asked: data.first().map_or(0, |r| r.asked),
        short_recvs: data
            .iter()
            .filter(|r| (r.bytes as usize) < r.asked)
            .map(|r| ShortRecv {
                index: r.index,
                bytes: r.bytes,
                queued_before: r.queued_before,
                advertised_window: r.advertised_window,
            })
            .collect(),
        arithmetic: HeadArithmetic {
            header_length: head.header_length,
            blank_line: head.blank_line,
            body_bytes: head.body_bytes,
            last_total: data.last().map_or(0, |r| r.total),
        },
        wire: conn.map(|c| wire_guide(rows, c, request_ts_ns)),
    }
}

fn wire_guide(rows: &[RecvRow], conn: &ConnectionSummary, request_ts_ns: i64) -> WireGuide {
    let packets = conn.packet_list.as_deref().unwrap_or(&[]);
    let frames = |keep: &dyn Fn(&PacketRecord) -> bool| -> Vec<u64> {
        packets
            .iter()
            .filter(|p| keep(p))
            .map(|p| p.frame)
            .collect()
    };
    let first_zero_window = lesson::first_zero_window(rows, packets, request_ts_ns);
    WireGuide {
        connection: conn.tcp.id,
        first_zero_window,
        persist_probes: frames(&|p| {
            p.from == Side::Server && p.analysis.contains(Flag::PersistProbe)
        }),
        reopenings: rows
            .iter()
            .filter(|r| lesson::reopens(r))
            .filter_map(|r| {
                let u = r.window_update.as_ref()?;
                Some(Reopening {
                    recv: r.index,
                    recv_ns: r.t_ns,
                    frame: u.frame,
                    update_ns: u.t_ns,
                    to: u.to,
                })
            })
            .collect(),
        retransmissions: frames(&|p| p.analysis.any_retransmission()),
    }
}

/// Where the reader stops limiting the sender, in a lab whose runs grow
/// the receive buffer: the first run from which on no run had a
/// zero-window stall or a receiver-limited verdict on the wire. `None`
/// when even the last run was limited, or a run has no capture.
pub fn unlimited_from(runs: &[RunSummary]) -> Option<usize> {
    let limited: Vec<bool> = runs
        .iter()
        .map(|r| {
            r.wire
                .as_ref()
                .map(|w| w.zero_window_stalls > 0 || w.limited_by() == LimitedBy::Receiver)
        })
        .collect::<Option<_>>()?;
    let from = limited.iter().rposition(|&l| l).map_or(0, |i| i + 1);
    (from < runs.len()).then_some(from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::correlate::{Stall, WindowUpdate};
    use crate::lab_run::{WireFigures, summarize};
    use crate::{Analyzer, Limits, NoBodies, Rcvbuf, RecvEvent};
    use recvscope_tcp::{Pace, PaceSetter, Retransmissions, WindowEvidence};
    use recvscope_testkit::{Pkt, Trace};
    use recvscope_wire::LinkType;

    fn row(index: u64, t_ms: i64, bytes: u64, total: u64, queued: u64) -> RecvRow {
        let t = t_ms * 1_000_000;
        RecvRow::socket_side(
            &RecvEvent {
                queued_before: Some(queued),
                ..RecvEvent::new(index, t, t + 100_000, 5120, bytes, total)
            },
            0,
        )
    }

    const HEAD: Head = Head {
        header_length: 242,
        blank_line: 4,
        body_bytes: 9994,
    };

    #[test]
    fn short_recvs_and_the_books_arithmetic_come_from_the_rows() {
        let rows = [
            row(0, 0, 5120, 5120, 9000),
            row(1, 250, 3000, 8120, 3000),
            row(2, 500, 2120, 10240, 5000),
            row(3, 750, 0, 10240, 0),
        ];
        let g = run_guide(&rows, None, 0, HEAD);
        let short: Vec<(u64, u64, bool)> = g
            .short_recvs
            .iter()
            .map(|s| (s.index, s.bytes, s.took_all_queued()))
            .collect();
        assert_eq!(short, [(1, 3000, true), (2, 2120, false)]);
        assert_eq!(g.asked, 5120);
        assert_eq!(g.arithmetic.sum(), 10240);
        assert!(g.arithmetic.holds());
        let off = run_guide(
            &rows,
            None,
            0,
            Head {
                body_bytes: 9000,
                ..HEAD
            },
        );
        assert_eq!(
            (off.arithmetic.sum(), off.arithmetic.holds()),
            (9246, false)
        );
        assert_eq!(g.wire, None);
    }

    /// A download whose client closes its window after the first segment
    /// and reopens it 30 ms later; the server probes once and sends again.
    fn stalled_download() -> ConnectionSummary {
        let mut t = Trace::new();
        t.push(Pkt::c2s(1000, b"").syn())
            .push(Pkt::s2c(9000, b"").syn().ack(1001))
            .push(Pkt::c2s(1001, b"").ack(9001))
            .push(Pkt::c2s(1001, b"GET / HTTP/1.0\r\n\r\n").ack(9001))
            .push(Pkt::s2c(9001, &[b'x'; 1000]).ack(1019))
            .push(Pkt::c2s(1019, b"").ack(10_001).window(0))
            .at(10_000, Pkt::s2c(10_000, b"").ack(1019))
            .push(Pkt::c2s(1019, b"").ack(10_001).window(0))
            .at(20_000, Pkt::c2s(1019, b"").ack(10_001).window(4000))
            .push(Pkt::s2c(10_001, &[b'y'; 500]).ack(1019).fin())
            .push(Pkt::s2c(10_001, &[b'y'; 500]).ack(1019).fin())
            .push(Pkt::c2s(1019, b"").ack(10_502).fin());
        let mut a = Analyzer::new(LinkType::Raw, Limits::default(), Some(0));
        for (meta, bytes) in &t.frames {
            a.frame(*meta, bytes, &mut NoBodies);
        }
        a.finish(&mut NoBodies).connections.remove(0)
    }

    #[test]
    fn the_wire_gives_the_first_zero_window_the_probes_the_reopenings_and_the_retransmissions() {
        let conn = stalled_download();
        // The request leaves with frame 4, at 4 ms; frame 6 (the zero
        // window) at 6 ms is 2 ms after it.
        let request_ts = 4_000_000;
        let mut reopening = row(1, 30, 500, 1500, 0);
        reopening.stalled = Some(Stall {
            since_ns: 2_000_000,
            for_ns: 28_000_000,
        });
        reopening.window_update = Some(WindowUpdate {
            t_ns: 31_000_000,
            frame: 9,
            from: 0,
            to: 4000,
            pure: true,
        });
        let rows = [row(0, 1, 1000, 1000, 1000), reopening];
        let g = run_guide(&rows, Some(&conn), request_ts, HEAD);
        let w = g.wire.expect("captured");
        assert_eq!(
            w.first_zero_window,
            Some(ZeroWindow {
                at: crate::lesson::WireEvent {
                    frame: 6,
                    t_ns: 2_000_000
                },
                after_recv: Some(0),
                during_recv: false
            })
        );
        assert_eq!(w.persist_probes, [7]);
        assert_eq!(
            w.reopenings,
            [Reopening {
                recv: 1,
                recv_ns: 30_000_000,
                frame: 9,
                update_ns: 31_000_000,
                to: 4000
            }]
        );
        assert_eq!(w.reopenings[0].delay_ns(), 1_000_000);
        assert_eq!(w.retransmissions, [11]);
        assert_eq!(w.connection, 0);
    }

    fn summary(zero_windows: u64, receiver_limited: bool) -> RunSummary {
        RunSummary {
            wire: Some(WireFigures {
                zero_window_segments: zero_windows,
                zero_window_stalls: zero_windows,
                zero_window_stall_ns: 0,
                window_full_segments: 0,
                window_updates: 0,
                persist_probes: 0,
                smallest_window: None,
                pace: Pace {
                    set_by: if receiver_limited {
                        PaceSetter::Receiver(WindowEvidence::default())
                    } else {
                        PaceSetter::Sender
                    },
                    retransmissions: Retransmissions::default(),
                },
            }),
            ..summarize("x", Rcvbuf::default(), &[], None)
        }
    }

    #[test]
    fn the_reader_stops_limiting_the_sender_from_the_first_run_after_the_last_limited_one() {
        let runs = [
            summary(5, true),
            summary(0, true),
            summary(0, false),
            summary(0, false),
        ];
        assert_eq!(unlimited_from(&runs), Some(2));
        assert_eq!(unlimited_from(&runs[2..]), Some(0));
        assert_eq!(unlimited_from(&runs[..2]), None, "the last is limited");
        let unlimited_then_stalled = [summary(0, false), summary(1, false)];
        assert_eq!(unlimited_from(&unlimited_then_stalled), None);
        let uncaptured = [
            summary(5, true),
            summarize("x", Rcvbuf::default(), &[], None),
        ];
        assert_eq!(unlimited_from(&uncaptured), None);
        assert_eq!(unlimited_from(&[]), None);
    }
}
