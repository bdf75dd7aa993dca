//! A small SVG writer: elements as text, every string escaped, numbers
//! rounded to a tenth of a pixel so big graphs stay small.

use std::fmt::{self, Write};

/// Text made safe for XML content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// A pixel coordinate printed with at most one decimal.
#[derive(Clone, Copy)]
pub(super) struct Px(pub f64);

impl fmt::Display for Px {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tenths = (self.0 * 10.0).round();
        let tenths = if tenths == 0.0 { 0.0 } else { tenths };
        if tenths % 10.0 == 0.0 {
            write!(f, "{}", tenths / 10.0)
        } else {
            write!(f, "{:.1}", tenths / 10.0)
        }
    }
}

/// Horizontal anchor of a text element.
#[derive(Clone, Copy)]
pub(super) enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn name(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// An SVG document being written.
pub(super) struct Doc {
    out: String,
}

impl Doc {
    /// Opens a `width`×`height` document that scales with its viewBox.
    pub(super) fn new(width: f64, height: f64, title: &str) -> Doc {
        let mut out = String::new();
        let _ = write!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="DejaVu Sans, Verdana, sans-serif" font-size="12" role="img"><title>{t}</title>"#,
            w = Px(width),
            h = Px(height),
            t = escape(title)
        );
        out.push('\n');
        let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
        Doc { out }
    }

    /// Opens a group; `attrs` is written as given (callers pass constants).
    pub(super) fn open(&mut self, attrs: &str) {
        let _ = writeln!(self.out, "<g {attrs}>");
    }

    pub(super) fn close(&mut self) {
        self.out.push_str("</g>\n");
    }

    /// Markup built by the caller from escaped parts.
    pub(super) fn raw(&mut self, markup: &str) {
        self.out.push_str(markup);
        self.out.push('\n');
    }

    pub(super) fn line(&mut self, a: (f64, f64), b: (f64, f64), attrs: &str) {
        let _ = writeln!(
            self.out,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" {attrs}/>"#,
            Px(a.0),
            Px(a.1),
            Px(b.0),
            Px(b.1)
        );
    }

    /// A line with a hover tooltip.
    pub(super) fn line_titled(&mut self, a: (f64, f64), b: (f64, f64), attrs: &str, tip: &str) {
        let _ = writeln!(
            self.out,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" {attrs}><title>{}</title></line>"#,
            Px(a.0),
            Px(a.1),
            Px(b.0),
            Px(b.1),
            escape(tip)
        );
    }

    pub(super) fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, attrs: &str) {
        let _ = writeln!(
            self.out,
            r#"<rect x="{}" y="{}" width="{}" height="{}" {attrs}/>"#,
            Px(x),
            Px(y),
            Px(w.max(0.0)),
            Px(h.max(0.0))
        );
    }

    pub(super) fn rect_titled(
        &mut self,
        (x, y, w, h): (f64, f64, f64, f64),
        attrs: &str,
        tip: &str,
    ) {
        let _ = writeln!(
            self.out,
            r#"<rect x="{}" y="{}" width="{}" height="{}" {attrs}><title>{}</title></rect>"#,
            Px(x),
            Px(y),
            Px(w.max(0.0)),
            Px(h.max(0.0)),
            escape(tip)
        );
    }

    pub(super) fn circle_titled(&mut self, (x, y): (f64, f64), r: f64, attrs: &str, tip: &str) {
        let _ = writeln!(
            self.out,
            r#"<circle cx="{}" cy="{}" r="{}" {attrs}><title>{}</title></circle>"#,
            Px(x),
            Px(y),
            Px(r),
            escape(tip)
        );
    }

    /// A triangle centred on `(x, y)`, pointing up or down.
    pub(super) fn triangle_titled(&mut self, (x, y): (f64, f64), up: bool, attrs: &str, tip: &str) {
        let (tip_dy, base_dy) = if up { (-5.0, 4.0) } else { (5.0, -4.0) };
        let _ = writeln!(
            self.out,
            r#"<path d="M{} {}L{} {}L{} {}Z" {attrs}><title>{}</title></path>"#,
            Px(x),
            Px(y + tip_dy),
            Px(x + 4.5),
            Px(y + base_dy),
            Px(x - 4.5),
            Px(y + base_dy),
            escape(tip)
        );
    }

    pub(super) fn path(&mut self, d: &str, attrs: &str) {
        let _ = writeln!(self.out, r#"<path d="{d}" {attrs}/>"#);
    }

    /// Text at `(x, y)`, escaped.
    pub(super) fn text(&mut self, (x, y): (f64, f64), anchor: Anchor, attrs: &str, text: &str) {
        let _ = writeln!(
            self.out,
            r#"<text x="{}" y="{}" text-anchor="{}" {attrs}>{}</text>"#,
            Px(x),
            Px(y),
            anchor.name(),
            escape(text)
        );
    }

    /// Text turned a quarter to read bottom to top, centred on `(x, y)`.
    pub(super) fn vertical_text(&mut self, (x, y): (f64, f64), attrs: &str, text: &str) {
        let _ = writeln!(
            self.out,
            r#"<text x="{x}" y="{y}" text-anchor="middle" transform="rotate(-90 {x} {y})" {attrs}>{}</text>"#,
            escape(text),
            x = Px(x),
            y = Px(y),
        );
    }

    pub(super) fn finish(mut self) -> String {
        self.out.push_str("</svg>\n");
        self.out
    }
}

/// A step line (the value holds until the next point), thinned to at most
/// a few vertical moves per pixel column so a million points stay small.
#[derive(Default)]
pub(super) struct StepPath {
    d: String,
    column: Option<Column>,
    started: bool,
    /// Where the path has got to, horizontally.
    at_x: f64,
}

/// The points that fell into one pixel column.
struct Column {
    x: f64,
    first: f64,
    min: f64,
    max: f64,
    last: f64,
}

impl StepPath {
    /// The value becomes `y` at `x`; points come in increasing `x`.
    pub(super) fn to(&mut self, x: f64, y: f64) {
        if !(x.is_finite() && y.is_finite()) {
            return;
        }
        match &mut self.column {
            Some(c) if x.round() == c.x.round() => {
                c.min = c.min.min(y);
                c.max = c.max.max(y);
                c.last = y;
            }
            _ => {
                self.flush();
                self.column = Some(Column {
                    x,
                    first: y,
                    min: y,
                    max: y,
                    last: y,
                });
            }
        }
    }

    fn flush(&mut self) {
        let Some(c) = self.column.take() else {
            return;
        };
        self.at_x = c.x;
        let mut at = if self.started {
            let _ = write!(self.d, "H{}", Px(c.x));
            f64::NAN
        } else {
            let _ = write!(self.d, "M{} {}", Px(c.x), Px(c.first));
            self.started = true;
            c.first
        };
        let order = if c.last == c.min {
            [c.max, c.min, c.last]
        } else {
            [c.min, c.max, c.last]
        };
        for y in order {
            if y != at {
                let _ = write!(self.d, "V{}", Px(y));
                at = y;
            }
        }
    }

    /// The path data, held flat to `end_x`; empty when no point was given.
    pub(super) fn finish(mut self, end_x: f64) -> String {
        self.flush();
        if self.started && Px(end_x).to_string() != Px(self.at_x).to_string() {
            let _ = write!(self.d, "H{}", Px(end_x));
        }
        self.d
    }
}

/// A closed band between two step lines given as `(x, lower y, upper y)`
/// points in increasing `x`, held flat to `end_x`; empty for no points.
pub(super) fn band(edges: &[(f64, f64, f64)], end_x: f64) -> String {
    let (Some(first), Some(last)) = (edges.first(), edges.last()) else {
        return String::new();
    };
    let mut d = format!("M{} {}", Px(first.0), Px(first.2));
    for e in &edges[1..] {
        let _ = write!(d, "H{}V{}", Px(e.0), Px(e.2));
    }
    let _ = write!(d, "H{}V{}", Px(end_x), Px(last.1));
    for pair in edges.windows(2).rev() {
        let _ = write!(d, "H{}V{}", Px(pair[1].0), Px(pair[0].1));
    }
    let _ = write!(d, "H{}Z", Px(first.0));
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_are_escaped() {
        assert_eq!(
            escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
        );
        assert_eq!(escape("a\u{1}b"), "a\u{fffd}b");
    }

    #[test]
    fn pixels_print_short() {
        assert_eq!(Px(12.0).to_string(), "12");
        assert_eq!(Px(12.34).to_string(), "12.3");
        assert_eq!(Px(-0.01).to_string(), "0");
    }

    #[test]
    fn step_paths_hold_each_value_and_thin_each_column() {
        let mut p = StepPath::default();
        p.to(10.0, 100.0);
        p.to(20.0, 80.0);
        assert_eq!(p.finish(30.0), "M10 100H20V80H30");
        let mut p = StepPath::default();
        p.to(10.0, 100.0);
        for i in 0..1000 {
            p.to(20.0 + f64::from(i) / 5000.0, 90.0 - f64::from(i % 7));
        }
        assert_eq!(p.finish(30.0), "M10 100H20V84V90V85H30");
        let mut p = StepPath::default();
        for (x, y) in [(10.0, 100.0), (10.2, 90.0), (10.3, 80.0), (20.0, 70.0)] {
            p.to(x, y);
        }
        assert_eq!(p.finish(20.0), "M10 100V80H20V70", "falling: never back up");
        assert_eq!(StepPath::default().finish(5.0), "");
    }

    #[test]
    fn a_band_runs_along_the_upper_line_and_back_along_the_lower() {
        let edges = [(10.0, 100.0, 80.0), (20.0, 90.0, 90.0)];
        assert_eq!(band(&edges, 30.0), "M10 80H20V90H30V90H20V100H10Z");
        assert_eq!(band(&[], 30.0), "");
    }
}
