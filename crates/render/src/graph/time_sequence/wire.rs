//! What the graph draws, taken from the packet records and the recvs:
//! segments, ACKs, windows, markers, reads, in seconds since the origin.

use super::*;

/// One server data segment, offsets in the server's stream.
pub(super) struct Seg {
    pub(super) t: f64,
    pub(super) start: u64,
    pub(super) end: u64,
    pub(super) retransmission: bool,
    pub(super) frame: u64,
}

/// A client ACK worth a marker (zero-window segment, window update).
pub(super) struct Mark {
    pub(super) t: f64,
    pub(super) offset: u64,
    pub(super) window: u64,
    pub(super) frame: u64,
}

/// What the packet list says, in seconds since the origin.
#[derive(Default)]
pub(super) struct Wire {
    pub(super) segs: Vec<Seg>,
    /// Client's cumulative ACK, as a stream offset.
    pub(super) acks: Vec<(f64, u64)>,
    /// ACK + advertised window.
    pub(super) limits: Vec<(f64, u64)>,
    pub(super) windows: Vec<(f64, u64)>,
    pub(super) zero: Vec<Mark>,
    pub(super) updates: Vec<Mark>,
    pub(super) first_t: Option<f64>,
    pub(super) last_t: Option<f64>,
    pub(super) scale_unknown: bool,
}

impl Wire {
    pub(super) fn new(rows: &[PacketRecord], origin: i64) -> Wire {
        let mut w = Wire::default();
        let mut seqs = StreamOffsets::default();
        let mut acks = StreamOffsets::default();
        for row in rows {
            let t = (row.ts_ns - origin) as f64 / 1e9;
            w.first_t.get_or_insert(t);
            w.last_t = Some(t);
            if row.from == Side::Server {
                if row.len > 0 {
                    let span = seqs.span(row.rel_seq, row.len);
                    w.segs.push(Seg {
                        t,
                        start: span.start,
                        end: span.end,
                        retransmission: row.analysis.any_retransmission(),
                        frame: row.frame,
                    });
                }
                continue;
            }
            let Some(rel_ack) = row.rel_ack else {
                continue;
            };
            if !row.advertises_window() {
                continue;
            }
            let ack = acks.at(rel_ack);
            w.scale_unknown |= !row.scale_known;
            w.acks.push((t, ack));
            w.limits.push((t, ack + row.window));
            w.windows.push((t, row.window));
            let mark = || Mark {
                t,
                offset: ack,
                window: row.window,
                frame: row.frame,
            };
            if row.analysis.contains(Flag::ZeroWindow) {
                w.zero.push(mark());
            }
            if row.analysis.contains(Flag::WindowUpdate) {
                w.updates.push(Mark {
                    offset: ack + row.window,
                    ..mark()
                });
            }
        }
        w
    }
}

/// One recv() as drawn: when it returned, what it returned.
pub(super) struct Read {
    pub(super) t: f64,
    pub(super) index: u64,
    pub(super) bytes: u64,
    pub(super) total: u64,
}

pub(super) fn reads(app: Option<AppRecvs<'_>>) -> Vec<Read> {
    app.map_or_else(Vec::new, |a| {
        a.rows
            .iter()
            .map(|r| Read {
                t: (r.t_ns + r.wait_ns) as f64 / 1e9,
                index: r.index,
                bytes: r.bytes,
                total: r.total,
            })
            .collect()
    })
}
