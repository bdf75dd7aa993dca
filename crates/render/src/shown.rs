//! Text from the wire as a terminal may show it. Every string a peer
//! chose (a method, a target, a reason, a field value, the fetched head)
//! is a [`WireText`], which has no `Display`; this is the one way it
//! becomes words, so a capture or a server cannot drive the terminal
//! (`ESC ] 0 ; … BEL` sets its title, `ESC [ 2 J` clears it, a CR
//! overwrites the line). JSON and extracted bodies keep the bytes exact.

use std::fmt::{self, Display, Write};

use recvscope_wire::WireText;

/// `t` on one line: every control character escaped ([`escaped`]).
pub fn shown(t: &WireText) -> Shown<'_> {
    Shown {
        text: t.as_str(),
        lines: false,
    }
}

/// `t`, a head of lines: each line break (CR LF or LF) shown as one, every
/// other control character escaped, a lone CR included.
pub fn shown_lines(t: &WireText) -> Shown<'_> {
    Shown {
        text: t.as_str(),
        lines: true,
    }
}

/// `t` or `-` when there is none.
pub(crate) fn shown_or_dash(t: Option<&WireText>) -> String {
    t.map_or_else(|| "-".to_string(), |t| shown(t).to_string())
}

/// Wire text made safe to print.
pub struct Shown<'a> {
    text: &'a str,
    lines: bool,
}

impl Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.lines {
            return self.text.chars().try_for_each(|c| escaped(f, c));
        }
        let mut lines = self.text.split('\n').peekable();
        while let Some(line) = lines.next() {
            let last = lines.peek().is_none();
            let line = if last {
                line
            } else {
                line.strip_suffix('\r').unwrap_or(line)
            };
            line.chars().try_for_each(|c| escaped(f, c))?;
            if !last {
                f.write_char('\n')?;
            }
        }
        Ok(())
    }
}

/// Writes `c`, or for a control character its escape: C0 (but tab) and
/// DEL as `\x1b`, C1 as `\u{9b}`, and the bidirectional embeddings,
/// overrides and isolates (U+202A–U+202E, U+2066–U+2069) as `\u{202e}`,
/// since they reorder what follows them on the line.
fn escaped(f: &mut fmt::Formatter<'_>, c: char) -> fmt::Result {
    match u32::from(c) {
        0x09 => f.write_char(c),
        n @ (0x00..=0x1f | 0x7f) => write!(f, "\\x{n:02x}"),
        n @ (0x80..=0x9f | 0x202a..=0x202e | 0x2066..=0x2069) => write!(f, "\\u{{{n:x}}}"),
        _ => f.write_char(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidirectional_overrides_are_escaped_so_the_line_reads_in_order() {
        let t = WireText::from("evil\u{202e}gpj.exe\u{2066}x\u{2069}");
        assert_eq!(
            shown(&t).to_string(),
            "evil\\u{202e}gpj.exe\\u{2066}x\\u{2069}"
        );
        assert_eq!(
            shown(&WireText::from("a\u{200f}b")).to_string(),
            "a\u{200f}b"
        );
    }

    #[test]
    fn terminal_controls_are_escaped_and_other_text_is_kept() {
        let t = WireText::from("a\u{1b}]0;owned\u{7}b\u{1b}[2Jc\rd\u{7f}\u{9b}é\tz");
        assert_eq!(
            shown(&t).to_string(),
            "a\\x1b]0;owned\\x07b\\x1b[2Jc\\x0dd\\x7f\\u{9b}é\tz"
        );
    }

    #[test]
    fn a_head_keeps_its_line_breaks_and_escapes_the_rest() {
        let t = WireText::from("HTTP/1.1 200 OK\r\nX: \u{1b}[2J\r\nY: a\rb\nZ: c\r");
        assert_eq!(
            shown_lines(&t).to_string(),
            "HTTP/1.1 200 OK\nX: \\x1b[2J\nY: a\\x0db\nZ: c\\x0d"
        );
        assert_eq!(shown(&t).to_string().lines().count(), 1);
    }
}
