//! Recv log × connection timeline: what the wire looked like at each
//! `recv()`. Pure: it works the same on a live run and on its replay, and
//! on recv events from any program, not only `fetch`.
//!
//! Correlation is by stream offset first (a recv's running total is an
//! offset in the server's byte stream), time second (recv and frame
//! timestamps share CLOCK_REALTIME).
//!
//! Recv events may come from a file: every difference of their times and
//! figures saturates, so a log that was not checked gives wrong rows, never
//! a panic or a wrapped figure.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::recv::{RecvEvent, TcpInfo};
use recvscope_tcp::{Flag, PacketRecord, StreamOffsets};
use recvscope_wire::Side;

/// The first ACK after a recv whose advertised window grew.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WindowUpdate {
    /// Since the request was sent.
    pub t_ns: i64,
    pub frame: u64,
    /// Window before and after, bytes (scaled).
    pub from: u64,
    pub to: u64,
    /// Wireshark calls it a window update: no data, same ACK, window changed.
    pub pure: bool,
}

/// The zero-window stall a recv was made in: the receiver's closed window
/// had stopped the sender.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stall {
    /// When it began (the receiver's first zero-window segment), since the
    /// request was sent.
    pub since_ns: i64,
    /// How long it had lasted when recv() was called.
    pub for_ns: i64,
}

/// One recv and the wire around it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecvRow {
    pub index: u64,
    /// When recv() was called, since the request was sent.
    pub t_ns: i64,
    /// How long the call took (blocked waiting for data, mostly).
    pub wait_ns: i64,
    pub asked: usize,
    pub bytes: u64,
    pub total: u64,
    /// Bytes waiting in the socket just before the call.
    pub queued_before: Option<u64>,
    /// Server bytes the wire had delivered in order when the call returned.
    pub wire_delivered: Option<u64>,
    /// The frames that brought this recv's bytes (first and last): by
    /// stream offset, so one segment can feed many recvs and one recv can
    /// span many segments.
    pub frames: Option<[u64; 2]>,
    /// When the last byte this recv returned arrived, since the request.
    pub arrived_ns: Option<i64>,
    /// The receive window last advertised before the call, bytes (scaled).
    pub advertised_window: Option<u64>,
    pub window_update: Option<WindowUpdate>,
    pub stalled: Option<Stall>,
    pub tcp_info: Option<TcpInfo>,
}

/// Where the in-order end of the server's stream moved: (new end, frame, time).
type Extent = (u64, u64, i64);

/// The wire state the sweep carries from frame to frame.
#[derive(Default)]
struct Wire {
    /// In-order end of the server's stream.
    delivered: u64,
    offsets: StreamOffsets,
    extents: Vec<Extent>,
    /// Out-of-order server segments: start → end.
    ahead: BTreeMap<u64, u64>,
    window: Option<u64>,
    zero_since: Option<i64>,
}

impl Wire {
    fn frame(&mut self, row: &PacketRecord) {
        if row.from == Side::Server {
            if row.len > 0 {
                let span = self.offsets.span(row.rel_seq, row.len);
                let before = self.delivered;
                self.data(span.start, span.end);
                if self.delivered > before {
                    self.extents.push((self.delivered, row.frame, row.ts_ns));
                }
            }
        } else if row.advertises_window() {
            if row.window == 0 {
                self.zero_since.get_or_insert(row.ts_ns);
            } else {
                self.zero_since = None;
            }
            self.window = Some(row.window);
        }
    }

    fn data(&mut self, start: u64, end: u64) {
        if start > self.delivered {
            let e = self.ahead.entry(start).or_insert(end);
            *e = (*e).max(end);
            return;
        }
        self.delivered = self.delivered.max(end);
        while let Some((&s, &e)) = self.ahead.first_key_value() {
            if s > self.delivered {
                break;
            }
            self.ahead.pop_first();
            self.delivered = self.delivered.max(e);
        }
    }
}

impl RecvRow {
    /// What the application side alone says of recv `r` (times since
    /// `request_ts`): the wire columns are empty.
    pub fn socket_side(r: &RecvEvent, request_ts: i64) -> RecvRow {
        RecvRow {
            index: r.index,
            t_ns: r.start_ns.saturating_sub(request_ts),
            wait_ns: r.end_ns.saturating_sub(r.start_ns),
            asked: r.asked,
            bytes: r.bytes,
            total: r.total,
            queued_before: r.queued_before,
            wire_delivered: None,
            frames: None,
            arrived_ns: None,
            advertised_window: None,
            window_update: None,
            stalled: None,
            tcp_info: r.tcp_info,
        }
    }
}

/// Correlates recvs with the connection's frames (client and server rows
/// in capture order); without frames only the socket-side columns are set.
pub fn correlate(
    request_ts: i64,
    recvs: &[RecvEvent],
    rows: Option<&[PacketRecord]>,
) -> Vec<RecvRow> {
    let mut out: Vec<RecvRow> = recvs
        .iter()
        .map(|r| RecvRow::socket_side(r, request_ts))
        .collect();
    let Some(rows) = rows else {
        return out;
    };
    let mut wire = Wire::default();
    let mut next = 0;
    for (k, recv) in recvs.iter().enumerate() {
        while next < rows.len() && rows[next].ts_ns <= recv.start_ns {
            wire.frame(&rows[next]);
            next += 1;
        }
        let row = &mut out[k];
        row.advertised_window = wire.window;
        row.stalled = wire.zero_since.map(|since| Stall {
            since_ns: since.saturating_sub(request_ts),
            for_ns: recv.start_ns.saturating_sub(since),
        });
        let until = recvs.get(k + 1).map_or(i64::MAX, |r| r.start_ns);
        row.window_update = window_update(&rows[next..], wire.window, until, request_ts);
        while next < rows.len() && rows[next].ts_ns <= recv.end_ns {
            wire.frame(&rows[next]);
            next += 1;
        }
        row.wire_delivered = Some(wire.delivered);
    }
    while next < rows.len() {
        wire.frame(&rows[next]);
        next += 1;
    }
    for row in out.iter_mut().filter(|r| r.bytes > 0) {
        let ext = &wire.extents;
        let first = ext.partition_point(|e| e.0 <= row.total.saturating_sub(row.bytes));
        let last = ext.partition_point(|e| e.0 < row.total);
        if let (Some(a), Some(b)) = (ext.get(first), ext.get(last)) {
            row.frames = Some([a.1, b.1]);
            row.arrived_ns = Some(b.2.saturating_sub(request_ts));
        }
    }
    out
}

/// The first client ACK before `until` advertising more than the window in force.
fn window_update(
    rows: &[PacketRecord],
    mut window: Option<u64>,
    until: i64,
    request_ts: i64,
) -> Option<WindowUpdate> {
    for row in rows.iter().take_while(|r| r.ts_ns < until) {
        if row.from != Side::Client || !row.advertises_window() {
            continue;
        }
        if let Some(before) = window
            && row.window > before
        {
            return Some(WindowUpdate {
                t_ns: row.ts_ns.saturating_sub(request_ts),
                frame: row.frame,
                from: before,
                to: row.window,
                pure: row.analysis.contains(Flag::WindowUpdate),
            });
        }
        window = Some(row.window);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    use recvscope_tcp::FlagSet;
    use recvscope_wire::TcpFlags;

    const S: u16 = TcpFlags::SYN;
    const SA: u16 = TcpFlags::SYN | TcpFlags::ACK;
    const A: u16 = TcpFlags::ACK;
    const PA: u16 = TcpFlags::PSH | TcpFlags::ACK;

    fn row(
        frame: u64,
        ts: i64,
        from: Side,
        flags: u16,
        rel_seq: u32,
        len: u32,
        window: u64,
    ) -> PacketRecord {
        PacketRecord {
            frame,
            ts_ns: ts,
            from,
            flags: TcpFlags(flags),
            rel_seq,
            rel_ack: Some(1),
            len,
            window_raw: window as u16,
            window,
            scale_known: true,
            analysis: {
                let mut set = FlagSet::default();
                if from == Side::Client && len == 0 && flags == A && window > 0 && frame == 7 {
                    set.insert(Flag::WindowUpdate);
                }
                set
            },
        }
    }

    fn recv(index: u64, start: i64, end: i64, bytes: u64, total: u64) -> RecvEvent {
        RecvEvent {
            queued_before: Some(0),
            ..RecvEvent::new(index, start, end, 5120, bytes, total)
        }
    }

    /// SYN, SYN-ACK, ACK, then 8000 bytes in two segments that close the
    /// window, a zero-window ACK, the app reads, a window update.
    fn trace() -> Vec<PacketRecord> {
        vec![
            row(1, 0, Side::Client, S, 0, 0, 65535),
            row(2, 1, Side::Server, SA, 0, 0, 65535),
            row(3, 2, Side::Client, A, 1, 0, 8192),
            row(4, 10, Side::Server, PA, 1, 4096, 65535),
            row(5, 11, Side::Server, PA, 4097, 4096, 65535),
            row(6, 12, Side::Client, A, 1, 0, 0),
            row(7, 55, Side::Client, A, 1, 0, 5120),
            row(8, 65, Side::Server, PA, 8193, 100, 65535),
        ]
    }

    #[test]
    fn each_recv_sees_the_window_before_it_and_the_update_it_caused() {
        let recvs = [recv(0, 50, 60, 5120, 5120), recv(1, 70, 71, 2976, 8096)];
        let rows = correlate(0, &recvs, Some(&trace()));
        assert_eq!(rows[0].advertised_window, Some(0));
        assert_eq!(
            rows[0].stalled,
            Some(Stall {
                since_ns: 12,
                for_ns: 38
            })
        );
        assert_eq!(
            rows[0].window_update,
            Some(WindowUpdate {
                t_ns: 55,
                frame: 7,
                from: 0,
                to: 5120,
                pure: true
            })
        );
        assert_eq!(rows[0].wire_delivered, Some(8192));
        assert_eq!(rows[1].advertised_window, Some(5120));
        assert_eq!(rows[1].stalled, None);
        assert_eq!(rows[1].window_update, None);
        assert_eq!(rows[1].wire_delivered, Some(8292));
    }

    #[test]
    fn recvs_map_to_the_frames_that_carried_their_bytes() {
        let recvs = [
            recv(0, 50, 60, 5120, 5120),
            recv(1, 70, 71, 2000, 7120),
            recv(2, 72, 73, 1172, 8292),
        ];
        let rows = correlate(0, &recvs, Some(&trace()));
        assert_eq!(rows[0].frames, Some([4, 5]), "one recv, two segments");
        assert_eq!(rows[0].arrived_ns, Some(11));
        assert_eq!(rows[1].frames, Some([5, 5]), "one segment, many recvs");
        assert_eq!(rows[2].frames, Some([5, 8]));
        assert_eq!(rows[2].arrived_ns, Some(65));
    }

    #[test]
    fn times_are_relative_to_the_request() {
        let recvs = [recv(0, 1_050, 1_060, 10, 10)];
        let rows = correlate(1_000, &recvs, None);
        assert_eq!((rows[0].t_ns, rows[0].wait_ns), (50, 10));
        assert_eq!(rows[0].wire_delivered, None);
    }

    #[test]
    fn times_and_totals_from_a_hostile_log_saturate_instead_of_wrapping() {
        let recvs = [
            recv(0, 50, i64::MIN, 5120, 100),
            recv(1, i64::MIN, i64::MAX, u64::MAX, 0),
        ];
        let rows = correlate(i64::MIN, &recvs, Some(&trace()));
        assert_eq!((rows[0].t_ns, rows[0].wait_ns), (i64::MAX, i64::MIN));
        assert_eq!((rows[1].t_ns, rows[1].wait_ns), (0, i64::MAX));
        assert_eq!(
            rows[0].stalled,
            Some(Stall {
                since_ns: i64::MAX,
                for_ns: 38
            })
        );
        assert_eq!(
            rows[1].stalled,
            Some(Stall {
                since_ns: i64::MAX,
                for_ns: i64::MIN
            })
        );
        assert_eq!(
            rows[0].window_update.as_ref().map(|w| w.t_ns),
            None,
            "no ACK comes before a recv at i64::MIN"
        );
        assert_eq!(rows[0].frames, Some([4, 4]), "more bytes than the total");
        assert_eq!(rows[0].arrived_ns, Some(i64::MAX));
        assert_eq!(rows[1].frames, Some([4, 4]));
    }

    #[test]
    fn out_of_order_data_counts_once_the_hole_is_filled() {
        let mut rows = trace();
        rows.swap(3, 4);
        let recvs = [recv(0, 10, 10, 0, 0), recv(1, 11, 11, 0, 0)];
        let out = correlate(0, &recvs, Some(&rows));
        assert_eq!(out[0].wire_delivered, Some(0));
        assert_eq!(out[1].wire_delivered, Some(8192));
    }
}
