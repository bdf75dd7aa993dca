//! Stream bytes a capture does not hold, typed by why: never seen on the
//! wire, or seen there and cut off by the capture's snaplen.

/// A run of one direction's stream bytes that the capture does not hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gap {
    /// This many bytes were never seen: a hole in the sequence space (lost
    /// before the capture point, dropped by the capture, or given up on).
    Lost(u64),
    /// This many bytes were seen on the wire (the IP header gives their
    /// segment's length) but the snaplen did not keep them.
    NotCaptured(u64),
}

impl Gap {
    /// The run's length in bytes.
    pub fn bytes(self) -> u64 {
        match self {
            Gap::Lost(n) | Gap::NotCaptured(n) => n,
        }
    }
}
