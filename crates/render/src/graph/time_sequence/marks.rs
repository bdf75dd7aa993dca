//! The top panel's marks: step lines, the window-limit band, segment
//! bars, zero-window and window-update markers, recv dots.

use super::*;

/// A step line named `id`.
pub(super) fn step_series(
    doc: &mut Doc,
    id: &str,
    colour: &str,
    points: &[(f64, u64)],
    x: &Linear,
    y: &Linear,
    end_x: f64,
) {
    let mut path = StepPath::default();
    for &(t, v) in points {
        path.to(x.px(t), y.px(v as f64));
    }
    doc.open(&format!(r#"id="{id}" clip-path="url(#plot-top)""#));
    doc.path(
        &path.finish(end_x),
        &format!(r#"fill="none" stroke="{colour}" stroke-width="1.6""#),
    );
    doc.close();
}

/// The band between the ACK and the window limit, lightly shaded: the
/// room the server may still fill. It vanishes at a zero window.
pub(super) fn room(doc: &mut Doc, wire: &Wire, x: &Linear, y: &Linear, end_x: f64) {
    let mut edges: Vec<(f64, f64, f64)> = Vec::new();
    for (&(t, ack), &(_, limit)) in wire.acks.iter().zip(&wire.limits) {
        let edge = (x.px(t), y.px(ack as f64), y.px(limit as f64));
        match edges.last_mut() {
            Some(last) if last.0.round() == edge.0.round() => *last = edge,
            _ => edges.push(edge),
        }
    }
    doc.open(&format!(
        r#"id="window-room" clip-path="url(#plot-top)" fill="{ORANGE}" fill-opacity="0.22""#
    ));
    doc.path(&band(&edges, end_x), "");
    doc.close();
}

/// Segments merged into one pixel column: their span and frames.
pub(super) struct Bar {
    pub(super) t: f64,
    pub(super) start: u64,
    pub(super) end: u64,
    pub(super) count: usize,
    pub(super) frames: (u64, u64),
}

/// Data segments as vertical bars, retransmissions apart; merged per pixel
/// column above `MAX_MARKS` segments.
pub(super) fn segments(doc: &mut Doc, segs: &[Seg], x: &Linear, y: &Linear) {
    for (retrans, id, colour) in [(false, "data", BLUE), (true, "retransmission", PURPLE)] {
        let mine = segs.iter().filter(|s| s.retransmission == retrans);
        let bars: Vec<Bar> = if segs.len() > MAX_MARKS {
            let mut cols: BTreeMap<i64, Bar> = BTreeMap::new();
            for s in mine {
                let col = x.px(s.t).round() as i64;
                let bar = cols.entry(col).or_insert(Bar {
                    t: s.t,
                    start: s.start,
                    end: s.end,
                    count: 0,
                    frames: (s.frame, s.frame),
                });
                bar.start = bar.start.min(s.start);
                bar.end = bar.end.max(s.end);
                bar.count += 1;
                bar.frames.1 = s.frame;
            }
            cols.into_values().collect()
        } else {
            mine.map(|s| Bar {
                t: s.t,
                start: s.start,
                end: s.end,
                count: 1,
                frames: (s.frame, s.frame),
            })
            .collect()
        };
        doc.open(&format!(
            r#"id="{id}" stroke="{colour}" stroke-width="{}" data-segments="{}""#,
            if retrans { 3 } else { 2 },
            bars.iter().map(|b| b.count).sum::<usize>()
        ));
        for b in &bars {
            let px = x.px(b.t);
            let (lo, hi) = (y.px(b.start as f64), y.px(b.end as f64));
            let hi = hi.min(lo - 1.5);
            let what = if retrans { "retransmission" } else { "data" };
            let tip = if b.count == 1 {
                format!(
                    "frame {}: {what}, bytes {}–{} ({} B) at {:.6} s",
                    b.frames.0,
                    b.start,
                    b.end,
                    b.end - b.start,
                    b.t
                )
            } else {
                format!(
                    "frames {}–{}: {} {what} segments, bytes {}–{}",
                    b.frames.0, b.frames.1, b.count, b.start, b.end
                )
            };
            doc.line_titled((px, lo), (px, hi), r#"class="seg""#, &tip);
        }
        doc.close();
    }
}

/// Keeps the first of the items falling in each pixel column once there
/// are more than `MAX_MARKS` of them.
pub(super) fn thinned<'a, T>(items: &'a [T], x: &Linear, t: impl Fn(&T) -> f64) -> Vec<&'a T> {
    if items.len() <= MAX_MARKS {
        return items.iter().collect();
    }
    let mut last = None;
    items
        .iter()
        .filter(|i| {
            let col = x.px(t(i)).round() as i64;
            last.replace(col) != Some(col)
        })
        .collect()
}

/// Zero-window (▼ on the ACK line) and window-update (▲ on the new limit) markers.
pub(super) fn markers(doc: &mut Doc, wire: &Wire, x: &Linear, y: &Linear) {
    doc.open(&format!(
        r#"id="zero-window" fill="{VERMILLION}" stroke="{BLACK}" stroke-width="0.6""#
    ));
    for m in thinned(&wire.zero, x, |m| m.t) {
        doc.triangle_titled(
            (x.px(m.t), y.px(m.offset as f64) - 6.0),
            false,
            r#"class="marker""#,
            &format!(
                "frame {}: zero-window segment at {:.6} s, ACK {}",
                m.frame, m.t, m.offset
            ),
        );
    }
    doc.close();
    doc.open(&format!(
        r#"id="window-update" fill="{YELLOW}" stroke="{BLACK}" stroke-width="0.6""#
    ));
    for m in thinned(&wire.updates, x, |m| m.t) {
        doc.triangle_titled(
            (x.px(m.t), y.px(m.offset as f64) - 6.0),
            true,
            r#"class="marker""#,
            &format!(
                "frame {}: window update at {:.6} s, window {} bytes",
                m.frame, m.t, m.window
            ),
        );
    }
    doc.close();
}

/// One dot per recv() on the consumption line.
pub(super) fn recv_dots(doc: &mut Doc, reads: &[Read], x: &Linear, y: &Linear) {
    doc.open(&format!(r#"id="recv" fill="{BLACK}""#));
    for r in thinned(reads, x, |r| r.t) {
        doc.circle_titled(
            (x.px(r.t), y.px(r.total as f64)),
            2.2,
            r#"class="dot""#,
            &format!(
                "recv {} returned {} bytes at {:.6} s; {} read in all",
                r.index, r.bytes, r.t, r.total
            ),
        );
    }
    doc.close();
}
