//! The facts behind what a run teaches: how its recvs came out and what the
//! wire did around them, typed, so that every sentence said about a run is
//! made from these values and can be checked against the figures they come
//! from. Recv rows may come from a file: sums and differences of their
//! figures saturate, never wrap.

use serde::Serialize;

use crate::ConnectionSummary;
use crate::correlate::RecvRow;
use recvscope_tcp::{Flag, PacketRecord, Retransmissions};
use recvscope_wire::Side;

/// What one run's recvs and wire show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lesson {
    /// `None` when no recv returned data.
    pub recvs: Option<RecvStory>,
    /// `None` without a capture of the connection.
    pub wire: Option<WireStory>,
    /// The reader kept up: at least one recv found less waiting than it asked
    /// for, and the client never advertised a zero window. `false` without
    /// the figures to show it.
    pub kept_up: bool,
}

/// How the recvs that returned data came out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecvStory {
    /// Calls that returned data.
    pub calls: usize,
    pub bytes: u64,
    /// What the first of them asked for.
    pub asked: usize,
    /// Calls that returned all they asked for.
    pub full: usize,
    /// The sizes of the others, in call order.
    pub short_sizes: Vec<u64>,
    /// Where the bytes came from, when the recv log has the socket's queue.
    pub waiting: Option<Waiting>,
}

/// What each recv found waiting in the socket when it was called.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Waiting {
    /// Full recvs that found at least what they asked for already waiting.
    pub full_found_enough: usize,
    /// Full recvs that found less, blocked, and were woken by more than they
    /// asked for arriving at once.
    pub full_after_waiting: usize,
    /// Short recvs that took everything that was waiting.
    pub short_took_all: usize,
    /// Short recvs that found nothing, blocked, and returned what arrived first.
    pub short_after_waiting: usize,
    /// The most bytes waiting when any recv was called.
    pub most: u64,
    /// The longest a recv blocked that found nothing waiting, ns.
    pub longest_block_ns: i64,
    /// Short recvs that took what the full recv before them had left.
    pub leftover: Option<Leftover>,
}

/// Short recvs that returned the rest of what the full recv before them
/// found: a buffer holding `held` bytes, a recv taking `asked`, the next
/// `bytes`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Leftover {
    /// How many recvs did.
    pub count: usize,
    /// How many of them did it with the figures below, the most common.
    pub same: usize,
    pub bytes: u64,
    /// What the full recv before found waiting.
    pub held: u64,
    pub asked: usize,
}

/// What the wire showed of the client's window, in the frames of the capture.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WireStory {
    /// The smallest window the client advertised.
    pub smallest_window: Option<u64>,
    /// The client's segments advertising a zero window (Wireshark's flag).
    pub zero_window_segments: u64,
    /// Times the server was stopped by a zero window, and for how long in all.
    pub zero_window_stalls: u64,
    pub zero_window_stall_ns: i64,
    /// Server segments that filled the client's window exactly (Wireshark's
    /// window full).
    pub window_full_segments: u64,
    /// The first of them.
    pub first_window_full: Option<WireEvent>,
    /// The client's first zero-window segment.
    pub first_zero_window: Option<ZeroWindow>,
    /// Recvs called while the window was zero after which the client
    /// reopened it at once.
    pub reopened_by_recv: usize,
    /// Of those, the ones whose reopening ACK Wireshark calls a window update
    /// (no data, same ACK, only the window changed).
    pub reopened_by_window_update: usize,
    /// The most recvs the program made while the window stayed zero.
    pub longest_closed: Option<Closed>,
    /// How many times recvs read from a zero window without reopening it.
    pub closed_spells: usize,
    /// The server's retransmissions, and which of them were unnecessary.
    pub retransmissions: Retransmissions,
}

/// One frame, timed from the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct WireEvent {
    pub frame: u64,
    pub t_ns: i64,
}

/// The client's first zero-window segment and what the program was doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ZeroWindow {
    pub at: WireEvent,
    /// The last recv that had returned before it (`None`: none had).
    pub after_recv: Option<u64>,
    /// A recv call was in progress (blocked) when it was sent.
    pub during_recv: bool,
}

/// Recvs that read from a closed window without reopening it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Closed {
    /// The first of them.
    pub first_recv: u64,
    pub recvs: usize,
    /// The bytes they took between them.
    pub bytes: u64,
    /// The recv after which the window reopened, and the window it reopened to.
    pub reopened_after: Option<u64>,
    pub reopened_to: Option<u64>,
    /// That recv took everything that was waiting (`None`: no queue figure).
    pub reopening_emptied: Option<bool>,
}

/// The lesson of a run: its recv rows (as [`crate::correlate::correlate`]
/// made them), the connection they read and the request's time.
pub fn lesson(rows: &[RecvRow], conn: Option<&ConnectionSummary>, request_ts: i64) -> Lesson {
    let recvs = recv_story(rows);
    let wire = conn.and_then(|c| wire_story(rows, c, request_ts));
    let kept_up = match (&recvs, &wire) {
        (Some(r), Some(w)) => {
            let found_less = r.waiting.as_ref().map_or(!r.short_sizes.is_empty(), |w| {
                w.full_after_waiting + w.short_took_all + w.short_after_waiting > 0
            });
            found_less && w.zero_window_segments == 0 && w.zero_window_stalls == 0
        }
        _ => false,
    };
    Lesson {
        recvs,
        wire,
        kept_up,
    }
}

fn recv_story(rows: &[RecvRow]) -> Option<RecvStory> {
    let data: Vec<&RecvRow> = rows.iter().filter(|r| r.bytes > 0).collect();
    let first = data.first()?;
    let is_full = |r: &RecvRow| r.bytes >= r.asked as u64;
    let waiting = data
        .iter()
        .all(|r| r.queued_before.is_some())
        .then(|| waiting(&data));
    Some(RecvStory {
        calls: data.len(),
        bytes: data.iter().fold(0u64, |sum, r| sum.saturating_add(r.bytes)),
        asked: first.asked,
        full: data.iter().filter(|r| is_full(r)).count(),
        short_sizes: data
            .iter()
            .filter(|r| !is_full(r))
            .map(|r| r.bytes)
            .collect(),
        waiting,
    })
}

/// The breakdown of `data` (every row has its queue figure).
fn waiting(data: &[&RecvRow]) -> Waiting {
    let q = |r: &RecvRow| r.queued_before.unwrap_or(0);
    let full = |r: &RecvRow| r.bytes >= r.asked as u64;
    let count = |f: &dyn Fn(&RecvRow) -> bool| data.iter().filter(|r| f(r)).count();
    let mut leftovers: Vec<(u64, u64, usize)> = Vec::new();
    for pair in data.windows(2) {
        let (before, r) = (pair[0], pair[1]);
        if full(before)
            && !full(r)
            && q(r) == r.bytes
            && before.bytes.checked_add(r.bytes) == Some(q(before))
        {
            leftovers.push((r.bytes, q(before), before.asked));
        }
    }
    let leftover = most_common(&leftovers).map(|(bytes, held, asked)| Leftover {
        count: leftovers.len(),
        same: leftovers
            .iter()
            .filter(|l| **l == (bytes, held, asked))
            .count(),
        bytes,
        held,
        asked,
    });
    Waiting {
        full_found_enough: count(&|r| full(r) && q(r) >= r.asked as u64),
        full_after_waiting: count(&|r| full(r) && q(r) < r.asked as u64),
        short_took_all: count(&|r| !full(r) && q(r) > 0),
        short_after_waiting: count(&|r| !full(r) && q(r) == 0),
        most: data.iter().map(|r| q(r)).max().unwrap_or(0),
        longest_block_ns: data
            .iter()
            .filter(|r| q(r) == 0)
            .map(|r| r.wait_ns)
            .max()
            .unwrap_or(0),
        leftover,
    }
}

fn most_common<T: Copy + PartialEq>(items: &[T]) -> Option<T> {
    items
        .iter()
        .max_by_key(|a| items.iter().filter(|b| b == a).count())
        .copied()
}

fn wire_story(rows: &[RecvRow], conn: &ConnectionSummary, request_ts: i64) -> Option<WireStory> {
    let packets = conn.packet_list.as_deref()?;
    let event = |p: &PacketRecord| WireEvent {
        frame: p.frame,
        t_ns: p.ts_ns.saturating_sub(request_ts),
    };
    let first_window_full = packets
        .iter()
        .find(|p| p.from == Side::Server && p.analysis.contains(Flag::WindowFull))
        .map(event);
    let zero = |p: &&PacketRecord| p.from == Side::Client && p.analysis.contains(Flag::ZeroWindow);
    let first_zero_window = first_zero_window(rows, packets, request_ts);
    let fc = &conn.tcp.flow_control;
    let (longest, spells) = closed_spells(rows);
    Some(WireStory {
        smallest_window: conn.tcp.receiver_window.client.min,
        zero_window_segments: packets.iter().filter(zero).count() as u64,
        zero_window_stalls: fc.client_zero_windows,
        zero_window_stall_ns: fc.client_zero_window_stall_ns,
        window_full_segments: fc.window_full_to_client,
        first_window_full,
        first_zero_window,
        reopened_by_recv: rows.iter().filter(|r| reopens(r)).count(),
        reopened_by_window_update: rows
            .iter()
            .filter(|r| reopens(r) && r.window_update.as_ref().is_some_and(|w| w.pure))
            .count(),
        longest_closed: longest,
        closed_spells: spells,
        retransmissions: fc.pace.server.retransmissions,
    })
}

/// The client's first zero-window segment (Wireshark's flag) among
/// `packets`, and what the program whose recv `rows` these are was doing
/// then; times since the request, sent at `request_ts`.
pub fn first_zero_window(
    rows: &[RecvRow],
    packets: &[PacketRecord],
    request_ts: i64,
) -> Option<ZeroWindow> {
    let p = packets
        .iter()
        .find(|p| p.from == Side::Client && p.analysis.contains(Flag::ZeroWindow))?;
    let at = WireEvent {
        frame: p.frame,
        t_ns: p.ts_ns.saturating_sub(request_ts),
    };
    Some(ZeroWindow {
        at,
        after_recv: rows
            .iter()
            .rfind(|r| r.t_ns.saturating_add(r.wait_ns) <= at.t_ns)
            .map(|r| r.index),
        during_recv: rows
            .iter()
            .any(|r| r.t_ns <= at.t_ns && at.t_ns < r.t_ns.saturating_add(r.wait_ns)),
    })
}

/// A recv called while the window was zero, after which the client
/// advertised an open window before the next recv.
pub(crate) fn reopens(r: &RecvRow) -> bool {
    r.stalled.is_some()
        && r.window_update
            .as_ref()
            .is_some_and(|w| w.from == 0 && w.to > 0)
}

/// The longest spell of recvs reading from a zero window without reopening
/// it, and how many spells there were.
fn closed_spells(rows: &[RecvRow]) -> (Option<Closed>, usize) {
    let mut runs: Vec<Closed> = Vec::new();
    let mut open = false;
    for r in rows {
        if r.stalled.is_none() || r.bytes == 0 {
            open = false;
            continue;
        }
        if reopens(r) {
            if let Some(c) = runs.last_mut().filter(|_| open) {
                c.reopened_after = Some(r.index);
                c.reopened_to = r.window_update.as_ref().map(|w| w.to);
                c.reopening_emptied = r.queued_before.map(|q| q == r.bytes);
            }
            open = false;
            continue;
        }
        if !open {
            runs.push(Closed {
                first_recv: r.index,
                recvs: 0,
                bytes: 0,
                reopened_after: None,
                reopened_to: None,
                reopening_emptied: None,
            });
            open = true;
        }
        if let Some(c) = runs.last_mut() {
            c.recvs += 1;
            c.bytes = c.bytes.saturating_add(r.bytes);
        }
    }
    let spells = runs.len();
    (runs.into_iter().rev().max_by_key(|c| c.recvs), spells)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RecvEvent;
    use crate::correlate::{Stall, WindowUpdate};

    /// A recv of 5120 that returned `bytes` with `queued` waiting, called at `t` ms.
    fn row(index: u64, t: i64, bytes: u64, queued: u64) -> RecvRow {
        let t = t * 1_000_000;
        RecvRow::socket_side(
            &RecvEvent {
                queued_before: Some(queued),
                ..RecvEvent::new(index, t, t + 1000, 5120, bytes, 0)
            },
            0,
        )
    }

    fn stalled(mut r: RecvRow) -> RecvRow {
        r.stalled = Some(Stall {
            since_ns: 0,
            for_ns: 1,
        });
        r
    }

    fn reopening(mut r: RecvRow, to: u64) -> RecvRow {
        r.window_update = Some(WindowUpdate {
            t_ns: r.t_ns + 1,
            frame: 9,
            from: 0,
            to,
            pure: true,
        });
        stalled(r)
    }

    #[test]
    fn recvs_are_told_apart_by_what_they_found_waiting() {
        let mut blocked = row(1, 1, 5120, 0);
        blocked.wait_ns = 20_000_000;
        let rows = [
            row(0, 0, 5120, 9000),
            blocked,
            row(2, 2, 4240, 4240),
            row(3, 3, 1263, 0),
            row(4, 4, 0, 0),
        ];
        let story = recv_story(&rows).expect("data");
        assert_eq!((story.calls, story.bytes, story.full), (4, 15743, 2));
        assert_eq!(story.short_sizes, [4240, 1263]);
        let w = story.waiting.expect("queue figures");
        assert_eq!(
            (
                w.full_found_enough,
                w.full_after_waiting,
                w.short_took_all,
                w.short_after_waiting
            ),
            (1, 1, 1, 1)
        );
        assert_eq!((w.most, w.longest_block_ns), (9000, 20_000_000));
        assert_eq!(w.leftover, None);
    }

    #[test]
    fn a_short_recv_after_a_full_one_takes_what_it_left() {
        let rows = [
            row(0, 0, 5120, 6144),
            row(1, 1, 1024, 1024),
            row(2, 2, 5120, 6144),
            row(3, 3, 1024, 1024),
            row(4, 4, 4767, 4767),
        ];
        let w = recv_story(&rows).and_then(|s| s.waiting).expect("queue");
        assert_eq!(
            w.leftover,
            Some(Leftover {
                count: 2,
                same: 2,
                bytes: 1024,
                held: 6144,
                asked: 5120
            })
        );
    }

    #[test]
    fn without_queue_figures_nothing_is_said_of_what_was_waiting() {
        let mut r = row(0, 0, 5120, 0);
        r.queued_before = None;
        assert_eq!(recv_story(&[r]).expect("data").waiting, None);
    }

    #[test]
    fn the_longest_closed_spell_counts_recvs_that_read_without_reopening() {
        let rows = [
            row(0, 0, 5120, 5120),
            stalled(row(1, 1, 5120, 30000)),
            stalled(row(2, 2, 5120, 30000)),
            stalled(row(3, 3, 5120, 30000)),
            reopening(row(4, 4, 5120, 30000), 50680),
            stalled(row(5, 5, 5120, 6144)),
            reopening(row(6, 6, 1024, 1024), 4096),
        ];
        assert_eq!(
            closed_spells(&rows),
            (
                Some(Closed {
                    first_recv: 1,
                    recvs: 3,
                    bytes: 15360,
                    reopened_after: Some(4),
                    reopened_to: Some(50680),
                    reopening_emptied: Some(false)
                }),
                2
            )
        );
        assert_eq!(rows.iter().filter(|r| reopens(r)).count(), 2);
    }

    #[test]
    fn figures_from_a_hostile_log_saturate_instead_of_wrapping() {
        let rows = [row(0, 0, u64::MAX, u64::MAX), row(1, 1, 100, 100)];
        let story = recv_story(&rows).expect("data");
        assert_eq!((story.calls, story.bytes, story.full), (2, u64::MAX, 1));
        let w = story.waiting.expect("queue figures");
        assert_eq!(w.leftover, None, "u64::MAX + 100 held is no leftover");
        let spell = [stalled(row(0, 0, u64::MAX, 0)), stalled(row(1, 1, 5120, 0))];
        assert_eq!(closed_spells(&spell).0.map(|c| c.bytes), Some(u64::MAX));
        let mut late = row(0, 0, 5120, 0);
        (late.t_ns, late.wait_ns) = (i64::MAX, i64::MAX);
        let mut analysis = recvscope_tcp::FlagSet::default();
        analysis.insert(Flag::ZeroWindow);
        let zero = PacketRecord {
            frame: 6,
            ts_ns: 5,
            from: Side::Client,
            flags: recvscope_wire::TcpFlags(recvscope_wire::TcpFlags::ACK),
            rel_seq: 1,
            rel_ack: Some(1),
            len: 0,
            window_raw: 0,
            window: 0,
            scale_known: true,
            analysis,
        };
        assert_eq!(
            first_zero_window(&[late], &[zero], i64::MIN),
            Some(ZeroWindow {
                at: WireEvent {
                    frame: 6,
                    t_ns: i64::MAX
                },
                after_recv: Some(0),
                during_recv: false
            })
        );
    }

    #[test]
    fn without_a_capture_the_reader_is_not_said_to_keep_up() {
        let l = lesson(&[row(0, 0, 100, 0)], None, 0);
        assert_eq!((l.wire, l.kept_up), (None, false));
    }
}
