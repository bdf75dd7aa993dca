//! A run's story in plain sentences, each made from one fact of its
//! [`Lesson`], for the end of a recv table and the lab's "What happened".

use recvscope_analysis::lesson::{Closed, Lesson, RecvStory, Waiting, WireStory, ZeroWindow};

use crate::findings;
use crate::units::ms_tenths;
use recvscope_wire::Side;

/// The sentences of `lesson`, in the order a student reads them.
pub fn explain(lesson: &Lesson) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(r) = &lesson.recvs {
        recvs(&mut out, r);
    }
    match &lesson.wire {
        None => out
            .push("No capture: the wire view (segments, windows, stalls) is not available.".into()),
        Some(w) => wire(&mut out, w, lesson),
    }
    out
}

/// `n` and its noun, plural unless `n` is 1: `1 recv`, `3 recvs`.
fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

fn recvs(out: &mut Vec<String>, r: &RecvStory) {
    let full = if r.full == r.calls {
        format!("all returned the full {} bytes asked for", r.asked)
    } else {
        format!("{} returned the full {} bytes asked for", r.full, r.asked)
    };
    out.push(format!(
        "{} returned {} bytes; {full}.",
        count(r.calls as u64, "recv() call", "recv() calls"),
        r.bytes
    ));
    let Some(w) = &r.waiting else {
        return;
    };
    out.extend(where_full_recvs_came_from(w));
    out.extend(where_short_recvs_came_from(r, w));
    if let Some(l) = &w.leftover {
        let rest = l.held - l.asked as u64;
        out.push(if l.same == l.count {
            format!(
                "{} returned {} bytes: {}the recv before found {} bytes waiting and took the {} it asked for, leaving {} − {} = {rest}.",
                count(l.count as u64, "recv", "recvs"),
                l.bytes,
                if l.count == 1 { "" } else { "each time " },
                l.held,
                l.asked,
                l.held,
                l.asked,
            )
        } else {
            format!(
                "{} of the shorter recvs took what the full recv before them had left: {} bytes waiting, {} taken, {rest} left{}.",
                l.count,
                l.held,
                l.asked,
                if l.same > 1 {
                    format!(" ({} times)", l.same)
                } else {
                    String::new()
                }
            )
        });
    }
}

fn where_full_recvs_came_from(w: &Waiting) -> Option<String> {
    let mut parts = Vec::new();
    if w.full_found_enough > 0 {
        parts.push(format!(
            "{} found at least that much already waiting in the receive buffer",
            w.full_found_enough
        ));
    }
    if w.full_after_waiting > 0 {
        parts.push(format!(
            "{} found less, blocked, and {} woken by more than {} arriving at once",
            w.full_after_waiting,
            if w.full_after_waiting == 1 {
                "was"
            } else {
                "were"
            },
            if w.full_after_waiting == 1 {
                "it asked for"
            } else {
                "they asked for"
            },
        ));
    }
    (!parts.is_empty()).then(|| format!("Of the full recvs, {}.", parts.join("; ")))
}

fn where_short_recvs_came_from(r: &RecvStory, w: &Waiting) -> Option<String> {
    if r.short_sizes.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    if w.short_took_all > 0 {
        parts.push(format!(
            "{} took everything that was waiting",
            w.short_took_all
        ));
    }
    if w.short_after_waiting > 0 {
        parts.push(format!(
            "{} found nothing waiting, blocked (at most {} ms), and returned what arrived first",
            w.short_after_waiting,
            ms_tenths(w.longest_block_ns)
        ));
    }
    let most = if w.most == 0 {
        "no recv found anything waiting when it was called".to_string()
    } else {
        format!(
            "when a recv was called, at most {} bytes were waiting",
            w.most
        )
    };
    Some(format!(
        "The {} ({}): {}; {most}.",
        count(r.short_sizes.len() as u64, "shorter recv", "shorter recvs"),
        sizes(&r.short_sizes),
        parts.join("; "),
    ))
}

/// `4240, 3360 and 1263 bytes`, the first few.
fn sizes(s: &[u64]) -> String {
    const SHOWN: usize = 4;
    let shown: Vec<String> = s.iter().take(SHOWN).map(u64::to_string).collect();
    let more = s.len().saturating_sub(SHOWN);
    match (shown.split_last(), more) {
        (Some((last, [])), 0) => format!("{last} bytes"),
        (Some((last, rest)), 0) => format!("{} and {last} bytes", rest.join(", ")),
        (_, _) => format!("{}, … bytes, {more} more", shown.join(", ")),
    }
}

fn wire(out: &mut Vec<String>, w: &WireStory, lesson: &Lesson) {
    let smallest = w.smallest_window.map_or(String::new(), |m| {
        format!(" (smallest advertised: {m} bytes)")
    });
    if w.zero_window_segments == 0 && w.zero_window_stalls == 0 {
        out.push(if w.window_full_segments == 0 {
            format!(
                "The client's receive window never closed{smallest} and no server segment filled it: flow control never held the sender back."
            )
        } else {
            format!(
                "The client's receive window never closed{smallest}, but the server sent {}, filling it exactly: it waited for ACKs to make room, without a zero-window stall.",
                count(w.window_full_segments, "window-full segment", "window-full segments")
            )
        });
        if lesson.kept_up {
            out.push(
                "The reader kept up: recvs found less waiting than they asked for, and the window never reached zero.".into(),
            );
        }
        retransmissions(out, w);
        return;
    }
    if let Some(f) = &w.first_window_full {
        out.push(format!(
            "The server's first window-full segment (it filled the client's window exactly) was frame {}, at {} ms.",
            f.frame,
            ms_tenths(f.t_ns)
        ));
    }
    if let Some(z) = &w.first_zero_window {
        out.push(first_zero_window(z));
    }
    out.push(format!(
        "The server was stopped by {}, {} ms in all; the client sent {}.",
        count(
            w.zero_window_stalls,
            "zero-window stall",
            "zero-window stalls"
        ),
        ms_tenths(w.zero_window_stall_ns),
        count(
            w.zero_window_segments,
            "zero-window segment",
            "zero-window segments"
        )
    ));
    if w.reopened_by_recv > 0 {
        let updates = match (w.reopened_by_window_update, w.reopened_by_recv) {
            (0, 1) => "not a window update by Wireshark's rule".to_string(),
            (0, _) => "none of them a window update by Wireshark's rule".to_string(),
            (1, 1) => "a window update".to_string(),
            (u, n) if u == n => "each a window update".to_string(),
            (1, _) => "1 of them a window update".to_string(),
            (u, _) => format!("{u} of them window updates"),
        };
        out.push(format!(
            "{} reopened it: the client advertised an open window before the next recv ({updates}).",
            count(
                w.reopened_by_recv as u64,
                "recv called while the window was zero",
                "recvs called while the window was zero"
            )
        ));
    }
    if let Some(c) = &w.longest_closed {
        out.push(stayed_closed(c, w.closed_spells));
    }
    if w.window_full_segments > 0 {
        out.push(format!(
            "{}: server segments that filled the advertised window exactly.",
            count(
                w.window_full_segments,
                "window-full segment",
                "window-full segments"
            )
        ));
    }
    retransmissions(out, w);
}

/// The server's retransmissions, when there were any.
fn retransmissions(out: &mut Vec<String>, w: &WireStory) {
    if w.retransmissions.segments == 0 {
        return;
    }
    let said = findings::retransmissions_sentence(Side::Server, &w.retransmissions);
    let mut chars = said.chars();
    if let Some(first) = chars.next() {
        out.push(format!("{}{}.", first.to_uppercase(), chars.as_str()));
    }
}

fn first_zero_window(z: &ZeroWindow) -> String {
    let when = match (z.during_recv, z.after_recv) {
        (true, _) => "while a recv was blocked waiting".to_string(),
        (false, Some(k)) => format!("after recv {k} had returned, before the next recv"),
        (false, None) => "before any recv had returned".to_string(),
    };
    format!(
        "The client's first zero-window segment came at {} ms (frame {}), {when}.",
        ms_tenths(z.at.t_ns),
        z.at.frame
    )
}

fn stayed_closed(c: &Closed, spells: usize) -> String {
    let span = if c.recvs == 1 {
        format!("recv {} took {} bytes", c.first_recv, c.bytes)
    } else {
        format!(
            "recvs {}–{} took {} bytes",
            c.first_recv,
            c.first_recv + c.recvs as u64 - 1,
            c.bytes
        )
    };
    let reopened = match (c.reopened_after, c.reopened_to) {
        (Some(k), Some(to)) => {
            let emptied = if c.reopening_emptied == Some(true) {
                ", which took everything left in the buffer"
            } else {
                ""
            };
            format!("; it reopened to {to} bytes only after recv {k}{emptied}")
        }
        _ => "; it had not reopened by the last recv".to_string(),
    };
    let longest = if spells > 1 {
        format!(" (the longest of {spells} such spells)")
    } else {
        String::new()
    };
    format!(
        "The window stayed zero while {span}{reopened}{longest}. Linux frees a received packet's memory only when the program has read all of it, and advertises a window again only when the freed memory makes a worthwhile one."
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use recvscope_analysis::lesson::{Leftover, WireEvent};
    use recvscope_tcp::Retransmissions;

    fn story(calls: usize, full: usize, short: &[u64], waiting: Option<Waiting>) -> RecvStory {
        RecvStory {
            calls,
            bytes: full as u64 * 5120 + short.iter().sum::<u64>(),
            asked: 5120,
            full,
            short_sizes: short.to_vec(),
            waiting,
        }
    }

    fn waiting(found: usize, after: usize, took: usize, empty: usize, most: u64) -> Waiting {
        Waiting {
            full_found_enough: found,
            full_after_waiting: after,
            short_took_all: took,
            short_after_waiting: empty,
            most,
            longest_block_ns: 20_200_000,
            leftover: None,
        }
    }

    fn open_wire(window_full: u64) -> WireStory {
        WireStory {
            smallest_window: Some(30408),
            zero_window_segments: 0,
            zero_window_stalls: 0,
            zero_window_stall_ns: 0,
            window_full_segments: window_full,
            first_window_full: None,
            first_zero_window: None,
            reopened_by_recv: 0,
            reopened_by_window_update: 0,
            longest_closed: None,
            closed_spells: 0,
            retransmissions: Retransmissions::default(),
        }
    }

    #[test]
    fn the_recv_sentences_give_each_kind_its_count() {
        let lesson = Lesson {
            recvs: Some(story(
                15,
                12,
                &[4240, 3360, 1263],
                Some(waiting(9, 3, 3, 0, 23840)),
            )),
            wire: Some(open_wire(0)),
            kept_up: true,
        };
        assert_eq!(
            explain(&lesson),
            [
                "15 recv() calls returned 70303 bytes; 12 returned the full 5120 bytes asked for.",
                "Of the full recvs, 9 found at least that much already waiting in the receive buffer; 3 found less, blocked, and were woken by more than they asked for arriving at once.",
                "The 3 shorter recvs (4240, 3360 and 1263 bytes): 3 took everything that was waiting; when a recv was called, at most 23840 bytes were waiting.",
                "The client's receive window never closed (smallest advertised: 30408 bytes) and no server segment filled it: flow control never held the sender back.",
                "The reader kept up: recvs found less waiting than they asked for, and the window never reached zero.",
            ]
        );
    }

    #[test]
    fn window_full_without_a_stall_is_not_called_unhindered() {
        let lesson = Lesson {
            recvs: None,
            wire: Some(open_wire(17)),
            kept_up: false,
        };
        assert_eq!(
            explain(&lesson),
            [
                "The client's receive window never closed (smallest advertised: 30408 bytes), but the server sent 17 window-full segments, filling it exactly: it waited for ACKs to make room, without a zero-window stall."
            ]
        );
    }

    #[test]
    fn the_1024_byte_recvs_are_what_a_full_recv_left() {
        let mut w = waiting(10, 0, 11, 1, 6144);
        w.leftover = Some(Leftover {
            count: 10,
            same: 10,
            bytes: 1024,
            held: 6144,
            asked: 5120,
        });
        let lesson = Lesson {
            recvs: Some(story(
                22,
                10,
                &[4096, 1024, 1024, 1024, 1024, 4767],
                Some(w),
            )),
            wire: None,
            kept_up: false,
        };
        let text = explain(&lesson);
        assert_eq!(
            text[3],
            "10 recvs returned 1024 bytes: each time the recv before found 6144 bytes waiting and took the 5120 it asked for, leaving 6144 − 5120 = 1024."
        );
        assert_eq!(
            text[2],
            "The 6 shorter recvs (4096, 1024, 1024, 1024, … bytes, 2 more): 11 took everything that was waiting; 1 found nothing waiting, blocked (at most 20.2 ms), and returned what arrived first; when a recv was called, at most 6144 bytes were waiting."
        );
        assert_eq!(
            text[4],
            "No capture: the wire view (segments, windows, stalls) is not available."
        );
    }

    #[test]
    fn leftovers_of_different_sizes_are_counted_with_one_example() {
        let mut w = waiting(12, 1, 2, 0, 59264);
        w.leftover = Some(Leftover {
            count: 3,
            same: 1,
            bytes: 1263,
            held: 6383,
            asked: 5120,
        });
        let lesson = Lesson {
            recvs: Some(story(15, 13, &[2944, 799], Some(w))),
            wire: None,
            kept_up: false,
        };
        let text = explain(&lesson);
        assert_eq!(
            text[1],
            "Of the full recvs, 12 found at least that much already waiting in the receive buffer; 1 found less, blocked, and was woken by more than it asked for arriving at once."
        );
        assert_eq!(
            text[3],
            "3 of the shorter recvs took what the full recv before them had left: 6383 bytes waiting, 5120 taken, 1263 left."
        );
    }

    #[test]
    fn a_stall_is_told_by_the_frames_that_made_it() {
        let lesson = Lesson {
            recvs: None,
            wire: Some(WireStory {
                smallest_window: Some(0),
                zero_window_segments: 5,
                zero_window_stalls: 2,
                zero_window_stall_ns: 3_105_700_000,
                window_full_segments: 5,
                first_window_full: Some(WireEvent {
                    frame: 14,
                    t_ns: 40_480_000,
                }),
                first_zero_window: Some(ZeroWindow {
                    at: WireEvent {
                        frame: 18,
                        t_ns: 105_100_000,
                    },
                    after_recv: Some(0),
                    during_recv: false,
                }),
                reopened_by_recv: 2,
                reopened_by_window_update: 1,
                longest_closed: Some(Closed {
                    first_recv: 2,
                    recvs: 11,
                    bytes: 56320,
                    reopened_after: Some(13),
                    reopened_to: Some(50680),
                    reopening_emptied: Some(true),
                }),
                closed_spells: 1,
                retransmissions: Retransmissions {
                    segments: 3,
                    tail: 3,
                    dsack_unnecessary: 2,
                    already_acknowledged: 0,
                    dsacks: 2,
                },
            }),
            kept_up: false,
        };
        assert_eq!(
            explain(&lesson),
            [
                "The server's first window-full segment (it filled the client's window exactly) was frame 14, at 40.5 ms.",
                "The client's first zero-window segment came at 105.1 ms (frame 18), after recv 0 had returned, before the next recv.",
                "The server was stopped by 2 zero-window stalls, 3105.7 ms in all; the client sent 5 zero-window segments.",
                "2 recvs called while the window was zero reopened it: the client advertised an open window before the next recv (1 of them a window update).",
                "The window stayed zero while recvs 2–12 took 56320 bytes; it reopened to 50680 bytes only after recv 13, which took everything left in the buffer. Linux frees a received packet's memory only when the program has read all of it, and advertises a window again only when the freed memory makes a worthwhile one.",
                "5 window-full segments: server segments that filled the advertised window exactly.",
                "The server re-sent 3 segments, each the last it had sent then (the shape of a tail loss probe: Linux re-sends its last segment when an ACK is late); the client's D-SACK showed 2 of them arrived twice; no D-SACK covers the other one: a loss, as far as the capture tells.",
            ]
        );
    }
}
