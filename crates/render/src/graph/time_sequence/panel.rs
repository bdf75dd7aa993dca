//! The bottom panel (recv sizes and the advertised window) and the legend.

use super::*;

/// recv() sizes (bars, left axis) and the client's advertised window
/// (step line, right axis) on the shared time axis.
pub(super) fn bottom_panel(
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
pub(super) enum Swatch {
    Bar(&'static str),
    Line(&'static str),
    Triangle(&'static str, bool),
    Dot,
    Block(&'static str),
    Room,
}

/// Every series with its colour, four to a row under the graph.
pub(super) fn legend(doc: &mut Doc, wire: &Wire, with_app: bool) {
    let mut items: Vec<(Swatch, String)> = vec![
        (Swatch::Bar(BLUE), "data segment (server)".into()),
        (Swatch::Room, "room the server may fill".into()),
        (Swatch::Bar(PURPLE), "retransmission".into()),
        (Swatch::Line(GREEN), "ACK (bytes received)".into()),
        (Swatch::Line(ORANGE), "window limit (ACK + window)".into()),
        (
            Swatch::Triangle(VERMILLION, false),
            format!("{ZERO_WINDOW_SEGMENTS} ({})", wire.zero.len()),
        ),
        (
            Swatch::Triangle(YELLOW, true),
            format!("{WINDOW_UPDATES} ({})", wire.updates.len()),
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
