//! Knows when a connection's close has been seen on the wire: both FINs
//! and the ACK of the second, or a reset. The capture stops there.

use std::net::SocketAddr;

use crate::wire::{Segment, SeqNumber};

/// Follows FINs and ACKs of one connection.
pub(crate) struct CloseWatch {
    client: SocketAddr,
    /// Sequence number just after each side's FIN (0: client, 1: server).
    fin_end: [Option<SeqNumber>; 2],
}

impl CloseWatch {
    pub(crate) fn new(client: SocketAddr) -> CloseWatch {
        CloseWatch {
            client,
            fin_end: [None, None],
        }
    }

    /// True once the connection is fully closed.
    pub(crate) fn segment(&mut self, seg: &Segment<'_>) -> bool {
        if seg.flags.rst() {
            return true;
        }
        let dir = usize::from(seg.src != self.client);
        let done = seg.flags.ack()
            && self.fin_end[dir].is_some()
            && self.fin_end[1 - dir] == Some(seg.ack);
        if seg.flags.fin() {
            self.fin_end[dir] = Some(seg.seq + seg.payload_len as usize + 1);
        }
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use recvscope_testkit::{Pkt, Trace};

    fn closes(trace: &Trace) -> Vec<bool> {
        let segs = trace.segments();
        let mut watch = CloseWatch::new(segs[0].src);
        segs.iter().map(|s| watch.segment(s)).collect()
    }

    #[test]
    fn server_closes_first_then_client_and_the_last_ack_ends_it() {
        let mut t = Trace::new();
        t.push(Pkt::c2s(100, b"").syn());
        t.push(Pkt::s2c(500, b"").syn().ack(101));
        t.push(Pkt::s2c(501, b"hi").fin().ack(101));
        t.push(Pkt::c2s(101, b"").ack(504));
        t.push(Pkt::c2s(101, b"").fin().ack(504));
        t.push(Pkt::s2c(504, b"").ack(102));
        assert_eq!(closes(&t), [false, false, false, false, false, true]);
    }

    #[test]
    fn a_reset_ends_it_at_once() {
        let mut t = Trace::new();
        t.push(Pkt::c2s(100, b"").syn());
        t.push(Pkt::s2c(0, b"").rst().ack(101));
        assert_eq!(closes(&t), [false, true]);
    }
}
