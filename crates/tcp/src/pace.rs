//! What set the pace of one side's sending: the rule, the verdict it gives
//! with its evidence, and the two ledgers a connection keeps for it (the
//! window-full segments against each receiver, each sender's
//! retransmissions).

use std::collections::VecDeque;

use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use recvscope_wire::{SackBlock, SeqNumber};

/// How many frame numbers a verdict keeps as its evidence.
pub(crate) const MAX_EVIDENCE: usize = 64;

/// What set the pace of a sender, in one word: the kind of a [`PaceSetter`],
/// and the verdict the sender's kernel gives from its own clocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitedBy {
    /// The receiver's window held the sender back.
    Receiver,
    /// The network: segments were lost and sent again.
    Network,
    /// The sender or its application: it sent as fast as it was given data
    /// or as its own buffer allowed.
    Sender,
}

/// What set the pace of one side's sending, with its evidence. One rule
/// decides it ([`PaceSetter::judge`]), in this order:
///
/// 1. **The receiver**, when its window held the sender back: it advertised
///    a zero window (a zero-window stall), or a segment filled its window
///    exactly (Wireshark's window full) while the sender had more data
///    waiting. The sender had data waiting when its next new data followed
///    the window's opening promptly: within twice the handshake RTT and at
///    least 1 ms (at any time when the handshake RTT is unknown). A sender
///    that fills the window with its last bytes, or sends more only when its
///    application writes again, was not held back.
/// 2. Else **the network**, when some retransmission is not shown
///    unnecessary ([`Retransmissions::real`]): no D-SACK from the receiver
///    covers it and it did not re-send bytes already acknowledged, so as far
///    as the capture tells it repaired a loss.
/// 3. Else **the sender** or its application: nothing outside it held it
///    back.
///
/// The receiver's evidence wins over losses: a closed or full window is a
/// limit the sender met whatever else happened, while a retransmission no
/// D-SACK covers may still have been unnecessary (Linux re-sends its last
/// segment when an ACK is late, a tail loss probe, and does not always
/// D-SACK the copy).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "limited_by", rename_all = "snake_case")]
pub enum PaceSetter {
    /// The receiver's window held the sender back.
    Receiver(WindowEvidence),
    /// Retransmissions not shown unnecessary, and no receiver evidence.
    Network {
        /// [`Retransmissions::real`].
        real_retransmissions: u64,
        /// Frames of those retransmissions (the first few).
        frames: Vec<u64>,
    },
    /// Neither: the sender or its application set the pace.
    Sender,
}

/// What shows a receiver's window holding its sender back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WindowEvidence {
    /// Times the receiver advertised a zero window: zero-window stalls.
    pub zero_window_stalls: u64,
    /// How long those stalls lasted in all.
    pub stalled_ns: i64,
    /// Segments that filled the receiver's window exactly while the sender
    /// had more data waiting (see [`PaceSetter`]).
    pub window_full_with_data_waiting: u64,
    /// Frames that show it (the first few): where each stall began, and
    /// those window-full segments.
    pub frames: Vec<u64>,
}

impl WindowEvidence {
    /// True when the window held the sender back: a stall, or a
    /// window-full segment with data waiting.
    pub fn held_back(&self) -> bool {
        self.zero_window_stalls > 0 || self.window_full_with_data_waiting > 0
    }
}

/// One sender's retransmissions as Wireshark counts them, and which of them
/// the capture shows were not needed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Retransmissions {
    /// Segments Wireshark flags as retransmissions
    /// (`tcp.analysis.retransmission`, fast and spurious ones included).
    pub segments: u64,
    /// Of those, the ones that re-sent the last bytes sent so far: the
    /// shape of Linux's tail loss probe, sent when an ACK is late.
    pub tail: u64,
    /// Of those, the ones a later D-SACK from the receiver covers: it got
    /// their bytes twice.
    pub dsack_unnecessary: u64,
    /// Of the rest, the ones that re-sent bytes the receiver had already
    /// acknowledged (Wireshark's spurious retransmission).
    pub already_acknowledged: u64,
    /// The receiver's segments carrying a D-SACK block about this sender's
    /// bytes (Wireshark's "D-SACK Sequence").
    pub dsacks: u64,
}

impl Retransmissions {
    /// The retransmissions not shown unnecessary: no D-SACK covers them and
    /// their bytes had not been acknowledged. Losses, as far as the capture
    /// tells.
    pub fn real(&self) -> u64 {
        self.segments
            .saturating_sub(self.dsack_unnecessary)
            .saturating_sub(self.already_acknowledged)
    }
}

/// Serialises the figures and [`Retransmissions::real`].
impl Serialize for Retransmissions {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Retransmissions", 6)?;
        st.serialize_field("segments", &self.segments)?;
        st.serialize_field("tail", &self.tail)?;
        st.serialize_field("dsack_unnecessary", &self.dsack_unnecessary)?;
        st.serialize_field("already_acknowledged", &self.already_acknowledged)?;
        st.serialize_field("real", &self.real())?;
        st.serialize_field("dsacks", &self.dsacks)?;
        st.end()
    }
}

impl PaceSetter {
    /// The verdict on a sender whose receiver's window showed `window` and
    /// whose retransmissions were `resent`, with `real_frames` the frames of
    /// its real ones: the rule of [`PaceSetter`].
    pub fn judge(
        window: WindowEvidence,
        resent: &Retransmissions,
        real_frames: Vec<u64>,
    ) -> PaceSetter {
        if window.held_back() {
            PaceSetter::Receiver(window)
        } else if resent.real() > 0 {
            PaceSetter::Network {
                real_retransmissions: resent.real(),
                frames: real_frames,
            }
        } else {
            PaceSetter::Sender
        }
    }

    /// The verdict in one word.
    pub fn limited_by(&self) -> LimitedBy {
        match self {
            PaceSetter::Receiver(_) => LimitedBy::Receiver,
            PaceSetter::Network { .. } => LimitedBy::Network,
            PaceSetter::Sender => LimitedBy::Sender,
        }
    }
}

/// One side's sending: what set its pace, and its retransmissions, whatever
/// the verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Pace {
    #[serde(flatten)]
    pub set_by: PaceSetter,
    pub retransmissions: Retransmissions,
}

/// How soon after a window opens the sender's next new data must follow to
/// show it had data waiting: twice the handshake RTT, at least 1 ms; no
/// limit when the handshake RTT is unknown.
pub(crate) fn prompt_ns(initial_rtt_ns: Option<i64>) -> Option<i64> {
    const FLOOR_NS: i64 = 1_000_000;
    initial_rtt_ns.map(|rtt| rtt.saturating_mul(2).max(FLOOR_NS))
}

/// Window-full segments against one receiver, held until the sender's next
/// new data shows whether it had more waiting.
#[derive(Clone, Debug, Default)]
pub(crate) struct WindowFullWatch {
    pending: Option<Filled>,
    /// Window-full segments the sender had more data waiting behind.
    pub(crate) with_data_waiting: u64,
}

/// Segments that filled the window up to `edge`, not yet judged.
#[derive(Clone, Debug)]
struct Filled {
    edge: SeqNumber,
    segments: u64,
    frames: Vec<u64>,
    /// When the receiver first advertised a window reaching past `edge`.
    opened_ns: Option<i64>,
}

impl WindowFullWatch {
    /// A segment of frame `frame` filled the window exactly, up to `edge`.
    pub(crate) fn filled(&mut self, edge: SeqNumber, frame: u64) {
        let f = match &mut self.pending {
            Some(f) if f.edge == edge => f,
            other => other.insert(Filled {
                edge,
                segments: 0,
                frames: Vec::new(),
                opened_ns: None,
            }),
        };
        f.segments += 1;
        if f.frames.len() < MAX_EVIDENCE {
            f.frames.push(frame);
        }
    }

    /// The receiver advertised, at `ts`, a window reaching up to `edge`.
    pub(crate) fn advertised(&mut self, edge: SeqNumber, ts: i64) {
        if let Some(f) = &mut self.pending
            && f.opened_ns.is_none()
            && edge.gt_seq(f.edge)
        {
            f.opened_ns = Some(ts);
        }
    }

    /// The sender sent, at `ts`, data up to `end`. Data past the filled
    /// edge judges the pending segments: they had data waiting when the
    /// window had opened and this data followed within `prompt_ns`. Their
    /// frames go to `evidence` then.
    pub(crate) fn sent(
        &mut self,
        end: SeqNumber,
        ts: i64,
        prompt_ns: Option<i64>,
        evidence: &mut Vec<u64>,
    ) {
        let Some(f) = self.pending.take_if(|f| end.gt_seq(f.edge)) else {
            return;
        };
        let waiting = f
            .opened_ns
            .is_some_and(|open| prompt_ns.is_none_or(|limit| ts - open <= limit));
        if waiting {
            self.with_data_waiting += f.segments;
            let room = MAX_EVIDENCE.saturating_sub(evidence.len());
            evidence.extend(f.frames.into_iter().take(room));
        }
    }
}

/// Retransmissions kept waiting for a D-SACK before they are settled as
/// not covered; beyond this many the oldest is settled first.
const MAX_UNSETTLED: usize = 1024;
/// Retransmissions one D-SACK block can cover.
const MAX_COVERED: usize = 64;

/// One sender's retransmissions, each matched against the D-SACK blocks
/// its receiver sends.
#[derive(Clone, Debug, Default)]
pub(crate) struct RetransmissionLedger {
    unsettled: VecDeque<Resent>,
    segments: u64,
    tail: u64,
    dsack_unnecessary: u64,
    dsacks: u64,
    /// Settled without a D-SACK: re-sent bytes already acknowledged.
    already_acknowledged: u64,
    /// Settled without a D-SACK, the rest: frames of the first few.
    real_frames: Vec<u64>,
}

/// A retransmission no D-SACK has covered yet.
#[derive(Clone, Copy, Debug)]
struct Resent {
    start: SeqNumber,
    end: SeqNumber,
    frame: u64,
    already_acknowledged: bool,
}

impl Resent {
    fn overlaps(&self, start: SeqNumber, end: SeqNumber) -> bool {
        self.start.lt_seq(end) && start.lt_seq(self.end)
    }
}

impl RetransmissionLedger {
    /// A retransmission in frame `frame` of the bytes from `start` to
    /// `end`; `already_acknowledged` when Wireshark calls it spurious,
    /// `tail` when it re-sent the last bytes sent so far.
    pub(crate) fn resent(
        &mut self,
        start: SeqNumber,
        end: SeqNumber,
        frame: u64,
        already_acknowledged: bool,
        tail: bool,
    ) {
        self.segments += 1;
        self.tail += u64::from(tail);
        if self.unsettled.len() == MAX_UNSETTLED
            && let Some(oldest) = self.unsettled.pop_front()
        {
            self.settle(oldest);
        }
        self.unsettled.push_back(Resent {
            start,
            end,
            frame,
            already_acknowledged,
        });
    }

    /// The receiver's D-SACK `block`: it got those bytes twice. The block
    /// covers the retransmissions it overlaps, the latest first; of several
    /// re-sending the same bytes it covers only the latest, since each
    /// duplicate the receiver gets is D-SACKed once.
    pub(crate) fn dsack(&mut self, block: SackBlock) {
        self.dsacks += 1;
        let mut covered: Vec<Resent> = Vec::new();
        let mut i = self.unsettled.len();
        while i > 0 && covered.len() < MAX_COVERED {
            i -= 1;
            let r = self.unsettled[i];
            if r.overlaps(block.left, block.right)
                && !covered.iter().any(|c| c.overlaps(r.start, r.end))
            {
                covered.push(r);
                self.unsettled.remove(i);
            }
        }
        self.dsack_unnecessary += covered.len() as u64;
    }

    /// A retransmission no D-SACK will cover now.
    fn settle(&mut self, r: Resent) {
        if r.already_acknowledged {
            self.already_acknowledged += 1;
        } else if self.real_frames.len() < MAX_EVIDENCE {
            self.real_frames.push(r.frame);
        }
    }

    /// The figures, every retransmission not covered by now settled, and
    /// the frames of the real ones (the first few).
    pub(crate) fn figures(&self) -> (Retransmissions, Vec<u64>) {
        let mut settled = self.clone();
        while let Some(r) = settled.unsettled.pop_front() {
            settled.settle(r);
        }
        let figures = Retransmissions {
            segments: settled.segments,
            tail: settled.tail,
            dsack_unnecessary: settled.dsack_unnecessary,
            already_acknowledged: settled.already_acknowledged,
            dsacks: settled.dsacks,
        };
        (figures, settled.real_frames)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(n: u32) -> SeqNumber {
        SeqNumber(n)
    }

    fn dsack(left: u32, right: u32) -> SackBlock {
        SackBlock {
            left: seq(left),
            right: seq(right),
        }
    }

    fn resent(segments: u64, dsack_unnecessary: u64, already_acknowledged: u64) -> Retransmissions {
        Retransmissions {
            segments,
            dsack_unnecessary,
            already_acknowledged,
            ..Retransmissions::default()
        }
    }

    #[test]
    fn a_stall_or_a_full_window_with_data_waiting_names_the_receiver_before_any_loss() {
        let stalls = WindowEvidence {
            zero_window_stalls: 2,
            stalled_ns: 3_105_000_000,
            window_full_with_data_waiting: 0,
            frames: vec![18, 22],
        };
        assert_eq!(
            PaceSetter::judge(stalls.clone(), &resent(3, 2, 0), vec![13]),
            PaceSetter::Receiver(stalls)
        );
        let full = WindowEvidence {
            window_full_with_data_waiting: 1,
            frames: vec![14],
            ..WindowEvidence::default()
        };
        assert_eq!(
            PaceSetter::judge(full.clone(), &resent(0, 0, 0), vec![]).limited_by(),
            LimitedBy::Receiver
        );
    }

    #[test]
    fn retransmissions_not_shown_unnecessary_name_the_network() {
        assert_eq!(
            PaceSetter::judge(WindowEvidence::default(), &resent(5, 2, 1), vec![7, 9]),
            PaceSetter::Network {
                real_retransmissions: 2,
                frames: vec![7, 9]
            }
        );
    }

    #[test]
    fn unnecessary_retransmissions_alone_leave_the_sender() {
        assert_eq!(
            PaceSetter::judge(WindowEvidence::default(), &resent(3, 2, 1), vec![]),
            PaceSetter::Sender
        );
        assert_eq!(
            PaceSetter::judge(WindowEvidence::default(), &resent(0, 0, 0), vec![]),
            PaceSetter::Sender
        );
    }

    #[test]
    fn the_verdict_serialises_its_word_beside_its_evidence() {
        let pace = Pace {
            set_by: PaceSetter::Receiver(WindowEvidence {
                zero_window_stalls: 2,
                stalled_ns: 5,
                window_full_with_data_waiting: 5,
                frames: vec![14, 18],
            }),
            retransmissions: Retransmissions {
                segments: 3,
                tail: 3,
                dsack_unnecessary: 2,
                already_acknowledged: 0,
                dsacks: 2,
            },
        };
        assert_eq!(
            serde_json::to_string(&pace).expect("serialise"),
            r#"{"limited_by":"receiver","zero_window_stalls":2,"stalled_ns":5,"window_full_with_data_waiting":5,"frames":[14,18],"retransmissions":{"segments":3,"tail":3,"dsack_unnecessary":2,"already_acknowledged":0,"real":1,"dsacks":2}}"#
        );
        let sender = Pace {
            set_by: PaceSetter::Sender,
            retransmissions: Retransmissions::default(),
        };
        assert_eq!(
            serde_json::to_value(&sender).expect("serialise")["limited_by"],
            "sender"
        );
    }

    #[test]
    fn data_waiting_means_new_data_soon_after_the_window_opened() {
        let mut w = WindowFullWatch::default();
        let mut evidence = Vec::new();
        w.filled(seq(59369), 14);
        w.advertised(seq(59369), 20_000_000);
        w.sent(seq(59369), 20_000_100, Some(1_000_000), &mut evidence);
        assert_eq!(w.with_data_waiting, 0, "a retransmission is no new data");
        w.advertised(seq(62265), 61_421_500);
        w.sent(seq(62265), 61_471_965, Some(1_000_000), &mut evidence);
        assert_eq!((w.with_data_waiting, evidence), (1, vec![14]));
    }

    #[test]
    fn new_data_long_after_the_window_opened_had_not_been_waiting() {
        let mut w = WindowFullWatch::default();
        let mut evidence = Vec::new();
        w.filled(seq(1000), 5);
        w.advertised(seq(5000), 10_000_000);
        w.sent(seq(2000), 30_000_000, Some(1_000_000), &mut evidence);
        assert_eq!((w.with_data_waiting, evidence.len()), (0, 0));
        w.filled(seq(3000), 9);
        w.advertised(seq(8000), 40_000_000);
        w.sent(seq(4000), 70_000_000, None, &mut evidence);
        assert_eq!(
            (w.with_data_waiting, evidence),
            (1, vec![9]),
            "without a handshake RTT any later data counts"
        );
    }

    #[test]
    fn segments_filling_the_same_edge_are_judged_together() {
        let mut w = WindowFullWatch::default();
        let mut evidence = Vec::new();
        w.filled(seq(62265), 16);
        w.filled(seq(62265), 17);
        w.advertised(seq(62265), 105_000_000);
        w.advertised(seq(69505), 250_453_508);
        w.sent(seq(69505), 250_490_873, Some(1_000_000), &mut evidence);
        assert_eq!((w.with_data_waiting, evidence), (2, vec![16, 17]));
    }

    #[test]
    fn a_dsack_covers_the_latest_retransmission_of_its_bytes() {
        let mut l = RetransmissionLedger::default();
        l.resent(seq(41993), seq(43441), 13, false, true);
        l.resent(seq(60817), seq(62265), 17, false, true);
        l.dsack(dsack(60817, 62265));
        l.resent(seq(68057), seq(69505), 21, false, true);
        l.resent(seq(68057), seq(69505), 25, false, false);
        l.dsack(dsack(68057, 69505));
        let (figures, real) = l.figures();
        assert_eq!(
            figures,
            Retransmissions {
                segments: 4,
                tail: 3,
                dsack_unnecessary: 2,
                already_acknowledged: 0,
                dsacks: 2,
            }
        );
        assert_eq!((figures.real(), real), (2, vec![13, 21]));
    }

    #[test]
    fn one_dsack_block_covers_every_distinct_segment_it_spans() {
        let mut l = RetransmissionLedger::default();
        l.resent(seq(1000), seq(2000), 4, false, false);
        l.resent(seq(2000), seq(3000), 5, false, false);
        l.dsack(dsack(1000, 3000));
        assert_eq!(l.figures().0.dsack_unnecessary, 2);
    }

    #[test]
    fn a_spurious_retransmission_no_dsack_covers_is_already_acknowledged() {
        let mut l = RetransmissionLedger::default();
        l.resent(seq(100), seq(200), 3, true, false);
        l.resent(seq(300), seq(400), 6, true, false);
        l.dsack(dsack(300, 400));
        let (figures, real) = l.figures();
        assert_eq!(
            (figures.dsack_unnecessary, figures.already_acknowledged),
            (1, 1)
        );
        assert_eq!((figures.real(), real), (0, vec![]));
    }

    #[test]
    fn retransmissions_past_the_bound_are_settled_oldest_first() {
        let mut l = RetransmissionLedger::default();
        for i in 0..MAX_UNSETTLED as u32 + 2 {
            l.resent(seq(i * 10), seq(i * 10 + 10), u64::from(i), false, false);
        }
        l.dsack(dsack(0, 10));
        let (figures, real) = l.figures();
        assert_eq!(figures.segments, MAX_UNSETTLED as u64 + 2);
        assert_eq!(figures.dsack_unnecessary, 0, "frame 0 was settled");
        assert_eq!(real.len(), MAX_EVIDENCE);
        assert_eq!(real[..3], [0, 1, 2]);
    }

    #[test]
    fn the_prompt_limit_is_twice_the_handshake_rtt_and_at_least_a_millisecond() {
        assert_eq!(prompt_ns(Some(33_000)), Some(1_000_000));
        assert_eq!(prompt_ns(Some(20_000_000)), Some(40_000_000));
        assert_eq!(prompt_ns(None), None);
    }
}
