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

use crate::terms::{WINDOW_UPDATES, ZERO_WINDOW_SEGMENTS};

mod axes;
mod marks;
mod panel;
mod wire;

use super::scale::{self, Linear, Ticks};
use super::svg::{Anchor, Doc, StepPath, band};

use axes::*;
use marks::*;
use panel::*;
use wire::*;

/// The whole picture, in pixels; the SVG scales through its viewBox.
pub(super) const WIDTH: f64 = 1000.0;
pub(super) const HEIGHT: f64 = 720.0;
/// Above this many segments (or recvs, or markers) one mark is drawn per
/// pixel column instead of one per item, so a 1 GB transfer stays small.
pub(super) const MAX_MARKS: usize = 2000;

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
        "; {ZERO_WINDOW_SEGMENTS} {}, {WINDOW_UPDATES} {}",
        wire.zero.len(),
        wire.updates.len()
    ));
    if wire.scale_unknown {
        s.push_str("; window scale unknown: windows unscaled");
    }
    s
}
