//! The sentences for what the analysis found: warnings, the flow-control
//! verdict (what set the pace) and its word, retransmissions, and the TCP
//! lab's readings. Each is made from the typed values
//! alone, so a sentence can say no more than the figures beside it.

use recvscope_analysis::tcplab::{
    AfterSlowStart, FlightCap, GapBasis, ReceiverWindow, RttNote, SlowStart, SlowStartReading,
};
use recvscope_analysis::{CAPTURE_MARGIN_NS, CaptureWarning, ConnectionWarning};
use recvscope_analysis::{LogTime, RecvFault, RecvLogProblem};
use recvscope_tcp::{Flag, FlowControl, LimitedBy, PaceSetter, Retransmissions};
use recvscope_tcp::{TcpWarning, WindowScaling};
use recvscope_wire::Side;

use crate::units::{secs, secs_to_ms};

/// One warning about a connection, whose frames the snaplen cut to
/// `snaplen` bytes, if it cut any.
pub(crate) fn connection_warning(w: &ConnectionWarning, snaplen: Option<u32>) -> String {
    match w {
        ConnectionWarning::Http(w) => crate::http_words::http_warning(w, snaplen),
        ConnectionWarning::Tcp(w) => tcp_warning(*w),
    }
}

/// Bytes seen on the wire that the snaplen did not keep: never "missing"
/// or "lost", which are for bytes the wire never showed.
pub(crate) fn not_captured(bytes: u64, snaplen: Option<u32>) -> String {
    match snaplen {
        Some(n) => format!("{bytes} bytes not captured (snaplen {n})"),
        None => format!("{bytes} bytes not captured (snaplen)"),
    }
}

/// What is wrong with a line of a recv log, with its figures: the words
/// after `FILE: line N: `.
pub fn recv_fault(f: &RecvFault) -> String {
    match *f {
        RecvFault::Index { index, expected } => {
            format!("index {index} where {expected} is due (recvs are numbered from 0, in order)")
        }
        RecvFault::BytesOverAsked { bytes, asked } => {
            format!("bytes {bytes} is more than the {asked} asked")
        }
        RecvFault::EndBeforeStart { start_ns, end_ns } => {
            format!("end_ns {end_ns} is before start_ns {start_ns}")
        }
        RecvFault::TotalFell { total, before } => {
            format!("total {total} is less than the line before's {before}")
        }
        RecvFault::TotalNotSum {
            total,
            before,
            bytes,
        } => format!("total {total} is not the {before} before plus bytes {bytes}"),
        RecvFault::OutsideCapture {
            which,
            ts_ns,
            first_ns,
            last_ns,
        } => {
            let field = match which {
                LogTime::Request => "request_ts_ns",
                LogTime::Start => "start_ns",
                LogTime::End => "end_ns",
            };
            format!(
                "{field} {ts_ns} is more than {} s outside the capture, \
                 whose frames run from {first_ns} to {last_ns}",
                CAPTURE_MARGIN_NS / 1_000_000_000
            )
        }
    }
}

/// [`capture_warning`] as a report line, `note: …` or `warning: …`: frames
/// kept to the snaplen are how a header-only capture works, not a fault.
pub fn capture_warning_line(w: &CaptureWarning) -> String {
    let label = match w {
        CaptureWarning::SnaplenCut { .. } => "note",
        _ => "warning",
    };
    format!("{label}: {}", capture_warning(w))
}

/// A warning about the capture as a whole, or an output asked of it.
pub fn capture_warning(w: &CaptureWarning) -> String {
    match w {
        CaptureWarning::ConnectionsEvicted {
            connections,
            max_live,
        } => format!(
            "{connections} connection(s) were reported before their end: more than {max_live} were open at once"
        ),
        CaptureWarning::SnaplenCut { segments, snaplen } => format!(
            "{segments} TCP segment(s) were kept to the capture's snaplen of {snaplen} bytes: their lengths come from the IP header, and the bytes not kept are counted as not captured, apart from bytes lost"
        ),
        CaptureWarning::HeadersCut { frames } => {
            format!("{frames} frame(s) end before their TCP header does and were skipped")
        }
        CaptureWarning::MalformedIp { frames } => format!(
            "{frames} frame(s) have a malformed IPv4 header (an option too short for its kind) and were skipped, as Wireshark skips their TCP"
        ),
        CaptureWarning::UndecodedEncapsulation { frames, first } => format!(
            "{frames} frame(s) are in an encapsulation recvscope does not decode (the first: {}): their TCP, if any, is not analysed",
            crate::tunnel_words::undecoded(*first)
        ),
        CaptureWarning::SeenInTunnelAndDirectly {
            connections,
            first: (a, b),
        } => format!(
            "{connections} connection(s) have the addresses of another seen in a different tunnel or directly (the first: #{a} and #{b}): one TCP connection captured at two points, kept apart, not merged"
        ),
        CaptureWarning::Fragments { frames } => {
            format!("{frames} IP fragment(s) skipped: TCP inside IP fragments is not reassembled")
        }
        CaptureWarning::TimestampsBackwards { frames } => {
            format!("{frames} timestamp(s) go backwards: analysis follows capture order")
        }
        CaptureWarning::LinkTypeNotSupported {
            interface,
            link_type_code,
            frames,
        } => format!(
            "{frames} frame(s) on interface {interface} not analysed: its link type {link_type_code} is not supported; supported: {}",
            recvscope_wire::SUPPORTED
        ),
        CaptureWarning::Damaged { why } => why.clone(),
        CaptureWarning::RecvLogIgnored {
            file,
            line,
            problem,
        } => {
            let at = line.map_or(String::new(), |l| format!(" line {l}:"));
            let why = match problem {
                RecvLogProblem::Unreadable { reason } => reason.clone(),
                RecvLogProblem::NotARecvLog { reason } => {
                    format!("not a recvscope recv log line ({reason})")
                }
                RecvLogProblem::Invalid { fault } => recv_fault(fault),
                RecvLogProblem::NotAFile { what } => format!("it is {what}, not a recv log file"),
                RecvLogProblem::LineTooLong { limit } => {
                    format!("longer than {limit} bytes, which no recv log line is")
                }
            };
            format!("recv log ignored: {file}:{at} {why}")
        }
        CaptureWarning::TcpLabNoConnection { id: Some(id) } => {
            format!("TCP lab: no connection {id} in this capture")
        }
        CaptureWarning::TcpLabNoConnection { id: None } => {
            "TCP lab: no TCP connection in this capture".to_string()
        }
        CaptureWarning::TcpLabNotListed { id } => {
            format!("TCP lab: connection {id} was not listed packet by packet")
        }
    }
}

/// What TCP tracking could not do.
pub(crate) fn tcp_warning(w: TcpWarning) -> String {
    match w {
        TcpWarning::ReassemblyLimit => {
            "reassembly buffer limit reached: some out-of-order data was reported as missing"
                .to_string()
        }
        TcpWarning::HandshakeNotCaptured => {
            "handshake not captured: window scale unknown, windows shown unscaled (as Wireshark)"
                .to_string()
        }
        TcpWarning::TrackingStoppedEarly { max_live } => format!(
            "tracking stopped early: more than {max_live} connections were open at once and this was one of the least recently active"
        ),
        TcpWarning::ConflictingCopies {
            sender,
            segments,
            first_frame,
        } => format!(
            "{segments} segment{s} from the {sender} carried bytes that differ from the copy captured first (first at frame {first_frame}): the stream keeps the copy captured first, as Wireshark's reassembly does, so a body may not be what the receiver got",
            s = if segments == 1 { "" } else { "s" }
        ),
    }
}

/// What set the pace of the connection's sending: the server's always, the
/// client's too when something other than the client held it back.
pub fn flow_control_verdict(fc: &FlowControl) -> String {
    let server = pace_verdict(Side::Server, &fc.pace.server.set_by);
    match fc.pace.client.set_by {
        PaceSetter::Sender => server,
        ref client => format!("{server}; {}", pace_verdict(Side::Client, client)),
    }
}

/// What set the pace of `sender`'s sending, with the evidence.
fn pace_verdict(sender: Side, pace: &PaceSetter) -> String {
    let receiver = sender.peer();
    match pace {
        PaceSetter::Receiver(w) => format!(
            "the {sender} was limited by the {receiver}'s receive window: {} zero-window stall(s) \
             lasting {} s in total, {} window-full segment(s) with more data waiting",
            w.zero_window_stalls,
            secs_to_ms(w.stalled_ns),
            w.window_full_with_data_waiting
        ),
        PaceSetter::Network {
            real_retransmissions,
            ..
        } => format!(
            "the {sender} was limited by the network: {} retransmission(s) that no D-SACK from the \
             {receiver} shows unnecessary, and no zero window or window-full segment with more data \
             waiting",
            real_retransmissions
        ),
        PaceSetter::Sender => format!(
            "the {sender} or its application set the pace: no zero window, no window-full segment \
             with more data waiting, no retransmission that shows a loss"
        ),
    }
}

/// A verdict in one word, the wire's or a kernel's.
pub fn limited_by(l: LimitedBy) -> &'static str {
    match l {
        LimitedBy::Receiver => "receiver",
        LimitedBy::Network => "network",
        LimitedBy::Sender => "sender",
    }
}

/// What `sender`'s retransmissions were: how many (as Wireshark counts
/// them), how many had a tail loss probe's shape, which of them the
/// receiver's D-SACK or an earlier ACK shows unnecessary, and how many
/// remain losses.
pub fn retransmissions_sentence(sender: Side, r: &Retransmissions) -> String {
    let (receiver, n) = (sender.peer(), r.segments);
    if n == 0 {
        return format!("the {sender} sent every segment once: no retransmissions");
    }
    let mut text = format!(
        "the {sender} re-sent {n} segment{}",
        if n == 1 { "" } else { "s" }
    );
    if r.tail > 0 {
        let which = match (r.tail == n, n) {
            (true, 1) => "the last it had sent".to_string(),
            (true, _) => "each the last it had sent then".to_string(),
            (false, _) => format!("{} the last it had sent then", of_them(r.tail, n)),
        };
        text.push_str(&format!(
            ", {which} (the shape of a tail loss probe: Linux re-sends its last segment when an ACK is late)"
        ));
    }
    if r.dsack_unnecessary > 0 {
        text.push_str(&format!(
            "; the {receiver}'s D-SACK showed {} arrived twice",
            of_them(r.dsack_unnecessary, n)
        ));
    }
    if r.already_acknowledged > 0 {
        text.push_str(&format!(
            "; {} re-sent bytes the {receiver} had already acknowledged",
            of_them(r.already_acknowledged, n)
        ));
    }
    let real = r.real();
    let loss = if real == 1 { "a loss" } else { "losses" };
    text.push_str(&match real {
        0 => ": nothing was lost".to_string(),
        _ if real == n && n == 1 => {
            format!("; no D-SACK covers it: {loss}, as far as the capture tells")
        }
        _ if real == n => format!("; no D-SACK covers them: {loss}, as far as the capture tells"),
        1 => format!("; no D-SACK covers the other one: {loss}, as far as the capture tells"),
        _ => format!("; no D-SACK covers the other {real}: {loss}, as far as the capture tells"),
    });
    text
}

/// `part` of `whole` things named before: "it", "both", "all 3", "2 of them".
fn of_them(part: u64, whole: u64) -> String {
    match (part == whole, whole) {
        (true, 1) => "it".to_string(),
        (true, 2) => "both".to_string(),
        (true, _) => format!("all {whole}"),
        (false, _) => format!("{part} of them"),
    }
}

/// How the windows were scaled, as the TCP lab's question 9 says it.
pub(crate) fn window_scaling(s: WindowScaling) -> &'static str {
    match s {
        WindowScaling::Known => "window scaling applied",
        WindowScaling::NotUsed => "no window scaling",
        WindowScaling::Unknown => {
            "raw values: the handshake was not captured, so the scale is unknown"
        }
    }
}

/// The word the summary uses for a window-scaling state.
pub(crate) fn window_scaling_word(s: WindowScaling) -> &'static str {
    match s {
        WindowScaling::Known => "known",
        WindowScaling::NotUsed => "not used",
        WindowScaling::Unknown => "unknown",
    }
}

/// The answer to "did the receiver's window throttle the sender?".
pub(crate) fn receiver_window_answer(w: &ReceiverWindow) -> String {
    let (receiver, sender) = (w.receiver, w.receiver.peer());
    if !w.throttled {
        return format!(
            "No: no {sender} segment ever filled the {receiver}'s window (window_full 0) and the \
             {receiver} sent no zero-window segment; the {sender} had at most {} B in flight.",
            w.sender_max_in_flight
        );
    }
    let mut parts = Vec::new();
    if w.window_full_segments > 0 {
        let frames: Vec<String> = w
            .window_filled
            .iter()
            .take(6)
            .map(|f| {
                format!(
                    "frame {} at {} s{}",
                    f.frame,
                    secs(f.at_ns),
                    f.window
                        .map_or(String::new(), |w| format!(", window {w} B"))
                )
            })
            .collect();
        parts.push(format!(
            "{} {sender} segment(s) filled the {receiver}'s advertised window exactly \
             (Wireshark's window_full: {}{})",
            w.window_full_segments,
            frames.join("; "),
            if w.window_filled.len() > frames.len() {
                "; …"
            } else {
                ""
            }
        ));
    }
    if w.zero_window_segments > 0 || w.zero_window_stalls > 0 {
        parts.push(format!(
            "the {receiver} sent {} zero-window segment(s) (Wireshark's zero_window): {} \
             zero-window stall(s) of the {sender}, {} s in all",
            w.zero_window_segments,
            w.zero_window_stalls,
            secs_to_ms(w.zero_window_stall_ns)
        ));
    } else {
        parts.push(format!("the {receiver} sent no zero-window segment"));
    }
    format!("Yes: {}.", parts.join("; "))
}

/// What a round split is half of.
pub(crate) fn gap_basis(b: GapBasis) -> &'static str {
    match b {
        GapBasis::MedianSampleRtt => "median SampleRTT",
        GapBasis::HandshakeRtt => "handshake RTT",
    }
}

/// What the rounds say about slow start, and where to see it.
pub(crate) fn slow_start_reading(s: &SlowStart) -> String {
    let graph = "The time-sequence graph (Stevens) shows it best: recvscope replay --graph.";
    let (sender, receiver) = (s.sender, s.sender.peer());
    match &s.reading {
        SlowStartReading::TooShort { rounds } => {
            format!("Only {rounds} round(s) of data: too short to show slow start. {graph}")
        }
        SlowStartReading::NoGrowth { first_round_bytes } => format!(
            "The flight never grew by half from one round to the next (round 1 already \
             carried {first_round_bytes} B): no slow start is visible. {graph}"
        ),
        SlowStartReading::Ends {
            first_round_bytes,
            top_bytes,
            round,
            at_ns,
            after,
        } => {
            let mut text = format!(
                "Slow start: the flight grew from {first_round_bytes} B in round 1 to {top_bytes} B in round {round} ({:.1}×); \
                 it appears to end there, at {} s, since no later round grew it by half.",
                *top_bytes as f64 / (*first_round_bytes).max(1) as f64,
                secs(*at_ns)
            );
            if let Some(after) = after {
                text.push(' ');
                text.push_str(&match after {
                    AfterSlowStart::Flat {
                        lo,
                        hi,
                        rounds,
                        cap,
                        receiver_max_window: max,
                    } => format!(
                        "After it the flight stays at {lo}–{hi} B for {rounds} rounds instead of growing \
                         by a segment per round (congestion avoidance), so something else caps it: {}",
                        match cap {
                            FlightCap::ReceiverWindow => format!("the {receiver}'s window ({max} B)."),
                            FlightCap::Sender => format!(
                                "not the {receiver}'s window, which offered up to {max} B, but the {sender} \
                                 itself (its send buffer or the application)."
                            ),
                        }
                    ),
                    AfterSlowStart::Grows {
                        bytes_per_round,
                        segments_per_round,
                    } => format!(
                        "After it the flight grows by about {bytes_per_round:.0} B ({segments_per_round:.1} segments) per round: \
                         congestion avoidance, whose ideal is one segment per round."
                    ),
                    AfterSlowStart::Shrinks { bytes_per_round } => format!(
                        "After it the flight shrinks by about {bytes_per_round:.0} B per round (losses, or a closing \
                         receiver window)."
                    ),
                });
            }
            format!("{text} {graph}")
        }
    }
}

/// Why an RTT table row has no sample of its own.
pub(crate) fn rtt_note(n: RttNote) -> String {
    match n {
        RttNote::NotAcknowledged => "not acknowledged in the capture".to_string(),
        RttNote::SentMoreThanOnce => "sent more than once: not sampled (Karn)".to_string(),
        RttNote::CumulativeAck { ack_frame, ack } => format!(
            "cumulative ACK (frame {ack_frame}, ack {ack}) ends past this segment: \
             it measures the segment ending there, as Wireshark's ack_rtt"
        ),
    }
}

/// The Wireshark rule that recognised a retransmission of this kind.
pub(crate) fn retransmission_rule(kind: Flag) -> &'static str {
    match kind {
        Flag::SpuriousRetransmission => "re-sends bytes the receiver had already acknowledged",
        Flag::FastRetransmission => {
            "re-sends the segment two or more duplicate ACKs asked for, within 20 ms of the last"
        }
        _ => {
            "re-sends bytes below the highest sequence number sent, and is neither a keep-alive nor out of order"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_kept_to_the_snaplen_are_a_note_and_damage_a_warning() {
        let cut = CaptureWarning::SnaplenCut {
            segments: 1,
            snaplen: 188,
        };
        assert!(capture_warning_line(&cut).starts_with("note: 1 TCP segment(s) were kept"));
        let skipped = CaptureWarning::Fragments { frames: 3 };
        assert!(capture_warning_line(&skipped).starts_with("warning: 3 IP fragment(s)"));
    }

    #[test]
    fn a_recv_log_fault_names_the_field_and_both_figures() {
        assert_eq!(
            recv_fault(&RecvFault::TotalFell {
                total: 5000,
                before: 6000
            }),
            "total 5000 is less than the line before's 6000"
        );
        assert_eq!(
            recv_fault(&RecvFault::OutsideCapture {
                which: LogTime::End,
                ts_ns: i64::MIN,
                first_ns: 10,
                last_ns: 20
            }),
            "end_ns -9223372036854775808 is more than 60 s outside the capture, \
             whose frames run from 10 to 20"
        );
    }
    use recvscope_analysis::tcplab::WindowFilled;
    use recvscope_tcp::{ByDirection, Pace, WindowEvidence};

    fn pace(set_by: PaceSetter) -> Pace {
        Pace {
            set_by,
            retransmissions: Retransmissions::default(),
        }
    }

    fn flow_control(server: PaceSetter, client: PaceSetter) -> FlowControl {
        FlowControl {
            pace: ByDirection {
                client: pace(client),
                server: pace(server),
            },
            client_zero_windows: 2,
            server_zero_windows: 0,
            client_zero_window_stall_ns: 3_105_014_000,
            server_zero_window_stall_ns: 0,
            window_full_to_client: 5,
            window_full_to_server: 0,
        }
    }

    fn slow_client() -> PaceSetter {
        PaceSetter::Receiver(WindowEvidence {
            zero_window_stalls: 2,
            stalled_ns: 3_105_014_000,
            window_full_with_data_waiting: 5,
            frames: vec![14, 16, 17, 18, 20, 21, 22],
        })
    }

    #[test]
    fn the_verdict_names_what_set_the_pace_with_its_evidence() {
        assert_eq!(
            flow_control_verdict(&flow_control(slow_client(), PaceSetter::Sender)),
            "the server was limited by the client's receive window: 2 zero-window stall(s) \
             lasting 3.105 s in total, 5 window-full segment(s) with more data waiting"
        );
        assert_eq!(
            flow_control_verdict(&flow_control(PaceSetter::Sender, PaceSetter::Sender)),
            "the server or its application set the pace: no zero window, no window-full segment \
             with more data waiting, no retransmission that shows a loss"
        );
        let lossy = PaceSetter::Network {
            real_retransmissions: 4,
            frames: vec![9, 12, 30, 31],
        };
        assert_eq!(
            flow_control_verdict(&flow_control(PaceSetter::Sender, lossy)),
            "the server or its application set the pace: no zero window, no window-full segment \
             with more data waiting, no retransmission that shows a loss; the client was limited \
             by the network: 4 retransmission(s) that no D-SACK from the server shows unnecessary, \
             and no zero window or window-full segment with more data waiting"
        );
    }

    #[test]
    fn each_verdict_has_one_word() {
        let words = [LimitedBy::Receiver, LimitedBy::Network, LimitedBy::Sender].map(limited_by);
        assert_eq!(words, ["receiver", "network", "sender"]);
        assert_eq!(limited_by(slow_client().limited_by()), "receiver");
    }

    fn resent(segments: u64, tail: u64, dsack: u64, acked: u64) -> Retransmissions {
        Retransmissions {
            segments,
            tail,
            dsack_unnecessary: dsack,
            already_acknowledged: acked,
            dsacks: dsack,
        }
    }

    #[test]
    fn the_retransmission_sentence_says_which_were_unnecessary() {
        assert_eq!(
            retransmissions_sentence(Side::Server, &resent(2, 2, 2, 0)),
            "the server re-sent 2 segments, each the last it had sent then (the shape of a tail \
             loss probe: Linux re-sends its last segment when an ACK is late); the client's D-SACK \
             showed both arrived twice: nothing was lost"
        );
        assert_eq!(
            retransmissions_sentence(Side::Server, &resent(3, 3, 2, 0)),
            "the server re-sent 3 segments, each the last it had sent then (the shape of a tail \
             loss probe: Linux re-sends its last segment when an ACK is late); the client's D-SACK \
             showed 2 of them arrived twice; no D-SACK covers the other one: a loss, as far as \
             the capture tells"
        );
        assert_eq!(
            retransmissions_sentence(Side::Server, &resent(1, 1, 1, 0)),
            "the server re-sent 1 segment, the last it had sent (the shape of a tail loss probe: \
             Linux re-sends its last segment when an ACK is late); the client's D-SACK showed it arrived \
             twice: nothing was lost"
        );
    }

    #[test]
    fn the_retransmission_sentence_counts_losses_and_early_acks_from_the_figures() {
        assert_eq!(
            retransmissions_sentence(Side::Client, &resent(0, 0, 0, 0)),
            "the client sent every segment once: no retransmissions"
        );
        assert_eq!(
            retransmissions_sentence(Side::Server, &resent(1, 0, 0, 0)),
            "the server re-sent 1 segment; no D-SACK covers it: a loss, as far as the capture tells"
        );
        assert_eq!(
            retransmissions_sentence(Side::Server, &resent(47, 4, 0, 5)),
            "the server re-sent 47 segments, 4 of them the last it had sent then (the shape of a tail \
             loss probe: Linux re-sends its last segment when an ACK is late); 5 of them re-sent \
             bytes the client had already acknowledged; no D-SACK covers the other 42: losses, as \
             far as the capture tells"
        );
        assert_eq!(
            retransmissions_sentence(Side::Client, &resent(3, 0, 3, 0)),
            "the client re-sent 3 segments; the server's D-SACK showed all 3 arrived twice: \
             nothing was lost"
        );
    }

    #[test]
    fn capture_warnings_give_their_counts() {
        assert_eq!(
            capture_warning(&CaptureWarning::Fragments { frames: 3 }),
            "3 IP fragment(s) skipped: TCP inside IP fragments is not reassembled"
        );
        assert_eq!(
            capture_warning(&CaptureWarning::TcpLabNoConnection { id: Some(4) }),
            "TCP lab: no connection 4 in this capture"
        );
        assert_eq!(
            capture_warning(&CaptureWarning::SnaplenCut {
                segments: 12,
                snaplen: 256
            }),
            "12 TCP segment(s) were kept to the capture's snaplen of 256 bytes: their lengths come from the IP header, and the bytes not kept are counted as not captured, apart from bytes lost"
        );
    }

    #[test]
    fn tcp_warnings_say_what_was_lost() {
        assert_eq!(
            tcp_warning(TcpWarning::TrackingStoppedEarly { max_live: 16384 }),
            "tracking stopped early: more than 16384 connections were open at once and this was one of the least recently active"
        );
        assert_eq!(
            connection_warning(
                &ConnectionWarning::Tcp(TcpWarning::HandshakeNotCaptured),
                None
            ),
            "handshake not captured: window scale unknown, windows shown unscaled (as Wireshark)"
        );
    }

    fn window(throttled: bool) -> ReceiverWindow {
        ReceiverWindow {
            receiver: Side::Server,
            min: Some(1000),
            min_frame: Some(5),
            min_after_handshake: Some(1000),
            min_after_handshake_frame: Some(5),
            max: Some(8192),
            max_frame: Some(3),
            scaling: WindowScaling::NotUsed,
            throttled,
            window_full_segments: u64::from(throttled),
            window_filled: if throttled {
                vec![WindowFilled {
                    frame: 6,
                    at_ns: 14_010_000,
                    window: Some(1000),
                }]
            } else {
                vec![]
            },
            zero_window_segments: 0,
            zero_window_stalls: 0,
            zero_window_stall_ns: 0,
            sender_max_in_flight: 1000,
        }
    }

    #[test]
    fn the_window_answer_lists_the_segments_that_filled_it_and_tells_zero_window_segments_from_stalls()
     {
        assert_eq!(
            receiver_window_answer(&window(true)),
            "Yes: 1 client segment(s) filled the server's advertised window exactly \
             (Wireshark's window_full: frame 6 at 0.014010 s, window 1000 B); \
             the server sent no zero-window segment."
        );
        let closed = ReceiverWindow {
            zero_window_segments: 20,
            zero_window_stalls: 11,
            zero_window_stall_ns: 4_541_000_000,
            ..window(true)
        };
        assert_eq!(
            receiver_window_answer(&closed),
            "Yes: 1 client segment(s) filled the server's advertised window exactly \
             (Wireshark's window_full: frame 6 at 0.014010 s, window 1000 B); \
             the server sent 20 zero-window segment(s) (Wireshark's zero_window): \
             11 zero-window stall(s) of the client, 4.541 s in all."
        );
        assert_eq!(
            receiver_window_answer(&window(false)),
            "No: no client segment ever filled the server's window (window_full 0) and the \
             server sent no zero-window segment; the client had at most 1000 B in flight."
        );
    }

    fn slow_start(reading: SlowStartReading) -> SlowStart {
        SlowStart {
            sender: Side::Client,
            split_gap_ns: Some(5_000_000),
            split_gap_basis: Some(GapBasis::HandshakeRtt),
            rounds: vec![],
            slow_start_ends_after: Some(4),
            reading,
        }
    }

    #[test]
    fn a_flat_flight_below_the_window_is_blamed_on_the_sender() {
        let s = slow_start(SlowStartReading::Ends {
            first_round_bytes: 100,
            top_bytes: 800,
            round: 4,
            at_ns: 40_000_000,
            after: Some(AfterSlowStart::Flat {
                lo: 800,
                hi: 800,
                rounds: 2,
                cap: FlightCap::Sender,
                receiver_max_window: 60000,
            }),
        });
        assert_eq!(
            slow_start_reading(&s),
            "Slow start: the flight grew from 100 B in round 1 to 800 B in round 4 (8.0×); \
             it appears to end there, at 0.040000 s, since no later round grew it by half. \
             After it the flight stays at 800–800 B for 2 rounds instead of growing by a segment \
             per round (congestion avoidance), so something else caps it: not the server's window, \
             which offered up to 60000 B, but the client itself (its send buffer or the application). \
             The time-sequence graph (Stevens) shows it best: recvscope replay --graph."
        );
        assert_eq!(
            slow_start_reading(&slow_start(SlowStartReading::TooShort { rounds: 1 })),
            "Only 1 round(s) of data: too short to show slow start. \
             The time-sequence graph (Stevens) shows it best: recvscope replay --graph."
        );
    }

    #[test]
    fn rtt_notes_and_retransmission_rules_name_their_reason() {
        assert_eq!(
            rtt_note(RttNote::CumulativeAck {
                ack_frame: 6,
                ack: 201
            }),
            "cumulative ACK (frame 6, ack 201) ends past this segment: it measures the segment \
             ending there, as Wireshark's ack_rtt"
        );
        assert_eq!(
            retransmission_rule(Flag::SpuriousRetransmission),
            "re-sends bytes the receiver had already acknowledged"
        );
    }
}
