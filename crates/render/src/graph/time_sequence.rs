//! The time-sequence graph (tcptrace / Stevens style) of one connection's
//! server → client stream, with the application's recv() calls beside it.
//!
//! Top panel: stream offset over time. Data segments are vertical bars, the
//! client's cumulative ACK and the window limit (ACK + advertised window)
//! are step lines: the sender may not draw above the window limit. Bottom
//! panel, same time axis: recv() sizes and the advertised window.

use std::collections::BTreeMap;

use recvscope_analysis::ConnectionSummary;
use recvscope_analysis::correlate::RecvRow;
use recvscope_tcp::{Flag, PacketRecord, StreamOffsets};
use recvscope_wire::Side;

use super::scale::{self, Linear, Ticks};
use super::svg::{Anchor, Doc, StepPath, band};

/// The whole picture, in pixels; the SVG scales through its viewBox.
pub const WIDTH: f64 = 1000.0;
pub const HEIGHT: f64 = 720.0;
/// Above this many segments (or recvs, or markers) one mark is drawn per
/// pixel column instead of one per item, so a 1 GB transfer stays small.
pub const MAX_MARKS: usize = 2000;

const X0: f64 = 84.0;
const X1: f64 = 900.0;
const TOP: (f64, f64) = (70.0, 420.0);
const BOTTOM: (f64, f64) = (452.0, 582.0);
const LEGEND_Y: f64 = 648.0;

/// Okabe–Ito colours: told apart with every common colour-vision deficiency.
const BLUE: &str = "#0072B2";
const PURPLE: &str = "#CC79A7";
const GREEN: &str = "#009E73";
const ORANGE: &str = "#E69F00";
const VERMILLION: &str = "#D55E00";
const YELLOW: &str = "#F0E442";
const SKY: &str = "#56B4E9";
const BLACK: &str = "#000000";
const GRID: &str = "#e4e4e4";

/// The application's side: recv rows and the request time their `t_ns`
/// count from (the recv log's `request_ts_ns`).
#[derive(Clone, Copy, Debug)]
pub struct AppRecvs<'a> {
    pub rows: &'a [RecvRow],
    pub request_ts_ns: i64,
}

/// One server data segment, offsets in the server's stream.
struct Seg {
    t: f64,
    start: u64,
    end: u64,
    retransmission: bool,
    frame: u64,
}

/// A client ACK worth a marker (zero window, window update).
struct Mark {
    t: f64,
    offset: u64,
    window: u64,
    frame: u64,
}

/// What the packet list says, in seconds since the origin.
#[derive(Default)]
struct Wire {
    segs: Vec<Seg>,
    /// Client's cumulative ACK, as a stream offset.
    acks: Vec<(f64, u64)>,
    /// ACK + advertised window.
    limits: Vec<(f64, u64)>,
    windows: Vec<(f64, u64)>,
    zero: Vec<Mark>,
    updates: Vec<Mark>,
    first_t: Option<f64>,
    last_t: Option<f64>,
    scale_unknown: bool,
}

impl Wire {
    fn new(rows: &[PacketRecord], origin: i64) -> Wire {
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
struct Read {
    t: f64,
    index: u64,
    bytes: u64,
    total: u64,
}

fn reads(app: Option<AppRecvs<'_>>) -> Vec<Read> {
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

/// The time-sequence graph of `conn` as a standalone SVG document.
///
/// `conn` needs its `packet_list` (analyse with `Some(id)`); without one
/// the axes are drawn with "no data". With `app`, times count from the
/// request and the application's consumption is drawn; otherwise from the
/// connection's first packet.
pub fn time_sequence_svg(conn: &ConnectionSummary, app: Option<AppRecvs<'_>>) -> String {
    let origin = app.map_or(conn.tcp.start_ns, |a| a.request_ts_ns);
    let rows = conn.packet_list.as_deref().unwrap_or(&[]);
    let wire = Wire::new(rows, origin);
    let reads = reads(app);

    let title = format!("{} → {}", conn.tcp.client, conn.tcp.server);
    let mut doc = Doc::new(WIDTH, HEIGHT, &format!("Time-sequence graph: {title}"));
    doc.text(
        (X0, 26.0),
        Anchor::Start,
        r#"id="title" font-size="17" font-weight="bold""#,
        &title,
    );
    doc.text(
        (X0, 46.0),
        Anchor::Start,
        r##"id="subtitle" fill="#333""##,
        &subtitle(conn, &wire),
    );

    let times = wire
        .first_t
        .into_iter()
        .chain(wire.last_t)
        .chain(reads.iter().map(|r| r.t));
    let (t_lo, t_hi) = times.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), t| {
        (lo.min(t), hi.max(t))
    });
    let (t_lo, t_hi) = if t_lo.is_finite() {
        (t_lo, t_hi)
    } else {
        (0.0, 1.0)
    };
    let pad = (t_hi - t_lo) * 0.01;
    let t_ticks = Ticks::within(if t_lo < 0.0 { t_lo - pad } else { t_lo }, t_hi + pad, 10);
    let x = Linear::new((t_ticks.lo, t_ticks.hi), (X0, X1));

    let data_hi = wire
        .segs
        .iter()
        .map(|s| s.end)
        .chain(wire.acks.iter().map(|a| a.1))
        .chain(reads.iter().map(|r| r.total))
        .max()
        .unwrap_or(0);
    let limit_hi = wire.limits.iter().map(|l| l.1).max().unwrap_or(0);
    let y_hi = if data_hi > 0 {
        data_hi.max(limit_hi.min(data_hi.saturating_mul(2)))
    } else {
        limit_hi
    };
    let y_ticks = Ticks::cover(0.0, y_hi.max(1) as f64, 8);
    let y = Linear::new((0.0, y_ticks.hi), (TOP.1, TOP.0));

    doc.raw(&format!(
        r#"<defs><clipPath id="plot-top"><rect x="{}" y="{}" width="{}" height="{}"/></clipPath></defs>"#,
        X0,
        TOP.0 - 6.0,
        X1 - X0,
        TOP.1 - TOP.0 + 6.0
    ));
    time_grid(&mut doc, &x, &t_ticks, TOP);
    time_grid(&mut doc, &x, &t_ticks, BOTTOM);
    y_axis(&mut doc, &y, &y_ticks, AxisSide::Left, "y-axis", BLACK);
    doc.vertical_text(
        (20.0, (TOP.0 + TOP.1) / 2.0),
        r#"id="y-label" font-size="13""#,
        "bytes (server → client stream offset)",
    );
    x_axis(&mut doc, &x, &t_ticks, app.is_some());

    let plotted = !wire.segs.is_empty() || !wire.acks.is_empty() || !reads.is_empty();
    if !plotted {
        doc.text(
            ((X0 + X1) / 2.0, (TOP.0 + TOP.1) / 2.0),
            Anchor::Middle,
            r##"id="no-data" font-size="28" fill="#999""##,
            if conn.packet_list.is_none() {
                "no data (connection not listed packet by packet)"
            } else {
                "no data"
            },
        );
    }
    if limit_hi > y_ticks.hi as u64 {
        doc.text(
            (X1 - 4.0, TOP.0 + 14.0),
            Anchor::End,
            &format!(r#"fill="{ORANGE}" font-size="11""#),
            &format!(
                "window limit goes off the top (up to {} bytes)",
                scale::thousands(limit_hi)
            ),
        );
    }

    let end_x = x.px(t_hi);
    room(&mut doc, &wire, &x, &y, end_x);
    step_series(
        &mut doc,
        "window-limit",
        ORANGE,
        &wire.limits,
        &x,
        &y,
        end_x,
    );
    step_series(&mut doc, "ack", GREEN, &wire.acks, &x, &y, end_x);
    if app.is_some() {
        let consumed: Vec<(f64, u64)> = reads.iter().map(|r| (r.t, r.total)).collect();
        step_series(&mut doc, "consumed", BLACK, &consumed, &x, &y, end_x);
    }
    segments(&mut doc, &wire.segs, &x, &y);
    markers(&mut doc, &wire, &x, &y);
    if app.is_some() {
        recv_dots(&mut doc, &reads, &x, &y);
    }
    bottom_panel(&mut doc, &wire, &reads, app.is_some(), &x, end_x);
    legend(&mut doc, &wire, app.is_some());
    doc.finish()
}

fn subtitle(conn: &ConnectionSummary, wire: &Wire) -> String {
    let retrans = wire.segs.iter().filter(|s| s.retransmission).count();
    let mut s = format!(
        "connection #{}: {} bytes from the server in {} segments",
        conn.tcp.id,
        scale::thousands(conn.tcp.bytes.server_to_client),
        wire.segs.len()
    );
    if retrans > 0 {
        s.push_str(&format!(" ({retrans} retransmitted)"));
    }
    s.push_str(&format!(
        "; {} zero-window ACK(s), {} window update(s)",
        wire.zero.len(),
        wire.updates.len()
    ));
    if wire.scale_unknown {
        s.push_str("; window scale unknown: windows unscaled");
    }
    s
}

#[derive(Clone, Copy, PartialEq)]
enum AxisSide {
    Left,
    Right,
}

/// Vertical grid lines at the time ticks, and the panel's frame.
fn time_grid(doc: &mut Doc, x: &Linear, ticks: &Ticks, (y0, y1): (f64, f64)) {
    doc.open(&format!(r#"stroke="{GRID}" stroke-width="1""#));
    for t in ticks.values() {
        let px = x.px(t);
        doc.line((px, y0), (px, y1), "");
    }
    doc.close();
    doc.rect(X0, y0, X1 - X0, y1 - y0, r##"fill="none" stroke="#888""##);
}

/// The shared time axis, labelled under the bottom panel.
fn x_axis(doc: &mut Doc, x: &Linear, ticks: &Ticks, since_request: bool) {
    doc.open(r#"id="x-axis""#);
    for t in ticks.values() {
        let px = x.px(t);
        doc.line((px, BOTTOM.1), (px, BOTTOM.1 + 4.0), r##"stroke="#888""##);
        doc.text(
            (px, BOTTOM.1 + 17.0),
            Anchor::Middle,
            "",
            &scale::seconds(t, ticks.step),
        );
    }
    doc.close();
    doc.text(
        ((X0 + X1) / 2.0, BOTTOM.1 + 36.0),
        Anchor::Middle,
        r#"id="x-label" font-size="13""#,
        if since_request {
            "time (s) since the request was sent"
        } else {
            "time (s) since the connection's first packet"
        },
    );
}

/// Byte ticks and horizontal grid lines for one vertical axis.
fn y_axis(doc: &mut Doc, y: &Linear, ticks: &Ticks, side: AxisSide, id: &str, colour: &str) {
    doc.open(&format!(r#"id="{id}" fill="{colour}""#));
    for v in ticks.values() {
        let py = y.px(v);
        let (tick, label, anchor) = match side {
            AxisSide::Left => ((X0 - 4.0, X0), X0 - 7.0, Anchor::End),
            AxisSide::Right => ((X1, X1 + 4.0), X1 + 7.0, Anchor::Start),
        };
        if side == AxisSide::Left {
            doc.line((X0, py), (X1, py), &format!(r#"stroke="{GRID}""#));
        }
        doc.line((tick.0, py), (tick.1, py), r##"stroke="#888""##);
        doc.text((label, py + 4.0), anchor, "", &scale::bytes(v, ticks));
    }
    doc.close();
}

/// A step line named `id`.
fn step_series(
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
fn room(doc: &mut Doc, wire: &Wire, x: &Linear, y: &Linear, end_x: f64) {
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
struct Bar {
    t: f64,
    start: u64,
    end: u64,
    count: usize,
    frames: (u64, u64),
}

/// Data segments as vertical bars, retransmissions apart; merged per pixel
/// column above `MAX_MARKS` segments.
fn segments(doc: &mut Doc, segs: &[Seg], x: &Linear, y: &Linear) {
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
fn thinned<'a, T>(items: &'a [T], x: &Linear, t: impl Fn(&T) -> f64) -> Vec<&'a T> {
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
fn markers(doc: &mut Doc, wire: &Wire, x: &Linear, y: &Linear) {
    doc.open(&format!(
        r#"id="zero-window" fill="{VERMILLION}" stroke="{BLACK}" stroke-width="0.6""#
    ));
    for m in thinned(&wire.zero, x, |m| m.t) {
        doc.triangle_titled(
            (x.px(m.t), y.px(m.offset as f64) - 6.0),
            false,
            r#"class="marker""#,
            &format!(
                "frame {}: zero window at {:.6} s, ACK {}",
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
fn recv_dots(doc: &mut Doc, reads: &[Read], x: &Linear, y: &Linear) {
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

/// recv() sizes (bars, left axis) and the client's advertised window
/// (step line, right axis) on the shared time axis.
fn bottom_panel(
    doc: &mut Doc,
    wire: &Wire,
    reads: &[Read],
    with_app: bool,
    x: &Linear,
    end_x: f64,
) {
    let win_hi = wire.windows.iter().map(|w| w.1).max().unwrap_or(0);
    let win_ticks = Ticks::cover(0.0, win_hi.max(1) as f64, 3);
    let wy = Linear::new((0.0, win_ticks.hi), (BOTTOM.1, BOTTOM.0));
    let mid = (BOTTOM.0 + BOTTOM.1) / 2.0;
    if with_app {
        let size_hi = reads.iter().map(|r| r.bytes).max().unwrap_or(0);
        let size_ticks = Ticks::cover(0.0, size_hi.max(1) as f64, 3);
        let sy = Linear::new((0.0, size_ticks.hi), (BOTTOM.1, BOTTOM.0));
        y_axis(
            doc,
            &sy,
            &size_ticks,
            AxisSide::Left,
            "recv-size-axis",
            "#1f6f99",
        );
        doc.vertical_text(
            (20.0, mid),
            r##"id="recv-size-label" font-size="13" fill="#1f6f99""##,
            "recv() bytes",
        );
        let shown = thinned(reads, x, |r| r.t);
        let width = ((X1 - X0) / shown.len().max(1) as f64 * 0.7).clamp(1.0, 6.0);
        doc.open(&format!(r#"id="recv-size" fill="{SKY}""#));
        for r in shown {
            let top = sy.px(r.bytes as f64);
            doc.rect_titled(
                (x.px(r.t) - width / 2.0, top, width, BOTTOM.1 - top),
                r#"class="bar""#,
                &format!("recv {}: {} bytes at {:.6} s", r.index, r.bytes, r.t),
            );
        }
        doc.close();
    }
    if !wire.windows.is_empty() {
        y_axis(
            doc,
            &wy,
            &win_ticks,
            AxisSide::Right,
            "window-axis",
            "#8a5d00",
        );
        doc.vertical_text(
            (WIDTH - 16.0, mid),
            r##"id="window-label" font-size="13" fill="#8a5d00""##,
            "window (bytes)",
        );
        let mut path = StepPath::default();
        for &(t, w) in &wire.windows {
            path.to(x.px(t), wy.px(w as f64));
        }
        doc.open(r#"id="advertised-window""#);
        doc.path(
            &path.finish(end_x),
            &format!(r#"fill="none" stroke="{ORANGE}" stroke-width="1.6""#),
        );
        doc.close();
    }
    if !with_app {
        doc.text(
            (X0 + 8.0, BOTTOM.0 + 16.0),
            Anchor::Start,
            r##"id="no-recvs" fill="#555" stroke="white" stroke-width="3" paint-order="stroke""##,
            "no recv log: recv() sizes unknown",
        );
    }
}

/// What a legend entry's swatch looks like.
enum Swatch {
    Bar(&'static str),
    Line(&'static str),
    Triangle(&'static str, bool),
    Dot,
    Block(&'static str),
    Room,
}

/// Every series with its colour, four to a row under the graph.
fn legend(doc: &mut Doc, wire: &Wire, with_app: bool) {
    let mut items: Vec<(Swatch, String)> = vec![
        (Swatch::Bar(BLUE), "data segment (server)".into()),
        (Swatch::Room, "room the server may fill".into()),
        (Swatch::Bar(PURPLE), "retransmission".into()),
        (Swatch::Line(GREEN), "ACK (bytes received)".into()),
        (Swatch::Line(ORANGE), "window limit (ACK + window)".into()),
        (
            Swatch::Triangle(VERMILLION, false),
            format!("zero window ({})", wire.zero.len()),
        ),
        (
            Swatch::Triangle(YELLOW, true),
            format!("window update ({})", wire.updates.len()),
        ),
    ];
    if with_app {
        items.push((Swatch::Line(BLACK), "bytes read by the app".into()));
        items.push((Swatch::Dot, "one recv() call".into()));
        items.push((Swatch::Block(SKY), "recv() size (left axis)".into()));
    }
    items.push((Swatch::Line(ORANGE), "window (right axis)".into()));
    doc.open(r#"id="legend""#);
    for (i, (swatch, label)) in items.iter().enumerate() {
        let cx = X0 + (i % 4) as f64 * 224.0;
        let cy = LEGEND_Y + (i / 4) as f64 * 20.0;
        match swatch {
            Swatch::Bar(c) => doc.line(
                (cx + 9.0, cy + 7.0),
                (cx + 9.0, cy - 7.0),
                &format!(r#"stroke="{c}" stroke-width="3""#),
            ),
            Swatch::Line(c) => doc.line(
                (cx, cy),
                (cx + 18.0, cy),
                &format!(r#"stroke="{c}" stroke-width="2""#),
            ),
            Swatch::Triangle(c, up) => doc.triangle_titled(
                (cx + 9.0, cy),
                *up,
                &format!(r#"fill="{c}" stroke="{BLACK}" stroke-width="0.6""#),
                label,
            ),
            Swatch::Dot => doc.circle_titled((cx + 9.0, cy), 3.0, "", label),
            Swatch::Block(c) => doc.rect(cx + 4.0, cy - 7.0, 10.0, 14.0, &format!(r#"fill="{c}""#)),
            Swatch::Room => doc.rect(
                cx,
                cy - 6.0,
                18.0,
                12.0,
                &format!(r#"fill="{ORANGE}" fill-opacity="0.22""#),
            ),
        }
        doc.text((cx + 24.0, cy + 4.0), Anchor::Start, "", label);
    }
    doc.close();
    doc.text(
        (X0, HEIGHT - 8.0),
        Anchor::Start,
        r##"font-size="11" fill="#555""##,
        "The server may send only below the window limit; where the ACK line meets it, the window is zero and the sender must wait.",
    );
}
