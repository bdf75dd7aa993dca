//! The time grid and the axes with their ticks and labels.

use super::*;

#[derive(Clone, Copy, PartialEq)]
pub(super) enum AxisSide {
    Left,
    Right,
}

/// Vertical grid lines at the time ticks, and the panel's frame.
pub(super) fn time_grid(doc: &mut Doc, x: &Linear, ticks: &Ticks, (y0, y1): (f64, f64)) {
    doc.open(&format!(r#"stroke="{GRID}" stroke-width="1""#));
    for t in ticks.values() {
        let px = x.px(t);
        doc.line((px, y0), (px, y1), "");
    }
    doc.close();
    doc.rect(X0, y0, X1 - X0, y1 - y0, r##"fill="none" stroke="#888""##);
}

/// The shared time axis, labelled under the bottom panel.
pub(super) fn x_axis(doc: &mut Doc, x: &Linear, ticks: &Ticks, since_request: bool) {
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
pub(super) fn y_axis(
    doc: &mut Doc,
    y: &Linear,
    ticks: &Ticks,
    side: AxisSide,
    id: &str,
    colour: &str,
) {
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
