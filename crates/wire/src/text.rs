//! Text a peer sent: an HTTP method, target, reason or field value, any
//! bytes the other end chose, control characters included.

use serde::Serialize;

/// Text taken from the wire. It has no `Display`, so it cannot reach a
/// terminal by accident: a report shows it through render's `shown`,
/// which escapes its control characters (a capture could otherwise set
/// the terminal's title or clear its screen). JSON has it exact.
#[derive(Serialize, Debug, Clone, Default, PartialEq, Eq, Hash)]
#[serde(transparent)]
pub struct WireText(String);

impl WireText {
    /// The text as the peer sent it (invalid UTF-8 already replaced): for
    /// comparing and parsing, never for printing.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for WireText {
    fn from(s: &str) -> WireText {
        WireText(s.to_string())
    }
}

impl From<String> for WireText {
    fn from(s: String) -> WireText {
        WireText(s)
    }
}

impl PartialEq<str> for WireText {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for WireText {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}
