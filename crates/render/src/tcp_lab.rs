//! The lab answers as a terminal section, numbered by the lab's questions.

use std::io::{self, Write};

use recvscope_analysis::tcplab::{HandshakeSegment, TcpLabAnswers};

use crate::findings;
use crate::shown::shown;
use crate::units::{ms, secs};

fn raw(v: Option<u32>) -> String {
    v.map_or_else(
        || "unknown (no SYN captured)".to_string(),
        |v| v.to_string(),
    )
}

/// "IP a, TCP port p" from "a:p" (IPv6 addresses come bracketed).
fn endpoint(addr: &str) -> String {
    match addr.rsplit_once(':') {
        Some((ip, port)) => format!(
            "IP {}, TCP port {port}",
            ip.trim_start_matches('[').trim_end_matches(']')
        ),
        None => addr.to_string(),
    }
}

/// A rate in k, M or G units (powers of 1000), one decimal.
fn rate(per_s: f64, unit: &str) -> String {
    let (v, p) = [(1e9, "G"), (1e6, "M"), (1e3, "k")]
        .into_iter()
        .find(|(s, _)| per_s >= *s)
        .unwrap_or((1.0, ""));
    format!("{:.1} {p}{unit}", per_s / v)
}

fn histogram(buckets: &[recvscope_analysis::tcplab::Bucket], unit: &str) -> String {
    let mut parts: Vec<String> = buckets
        .iter()
        .take(6)
        .map(|b| format!("{}{unit} × {}", b.value, b.count))
        .collect();
    let rest: u64 = buckets.iter().skip(6).map(|b| b.count).sum();
    if rest > 0 {
        parts.push(format!("other values × {rest}"));
    }
    parts.join(", ")
}

/// Writes the numbered answers for one connection.
pub fn write(out: &mut dyn Write, a: &TcpLabAnswers) -> io::Result<()> {
    writeln!(
        out,
        "\nTCP lab answers, connection #{} (Kurose & Ross \"Wireshark Lab: TCP\": numbers are \
         the lab's questions; times are seconds since the capture's first frame)",
        a.connection
    )?;
    writeln!(
        out,
        "    Bulk sender: the {} ({} B); the {} sent {} B and is the receiver.",
        a.bulk_sender, a.bulk_bytes, a.receiver, a.receiver_bytes
    )?;
    writeln!(
        out,
        " 1. Client: {}. (Questions 3 and 14: run this on your own capture.)",
        endpoint(&a.client)
    )?;
    writeln!(out, " 2. Server: {}.", endpoint(&a.server))?;
    handshake(out, a)?;
    request(out, a)?;
    rtt(out, a)?;
    window(out, a)?;
    retransmissions(out, a)?;
    acks(out, a)?;
    throughput(out, a)?;
    rounds(out, a)
}

fn handshake(out: &mut dyn Write, a: &TcpLabAnswers) -> io::Result<()> {
    let seg = |h: &HandshakeSegment| {
        format!(
            "frame {}, seq {} (relative {})",
            h.frame,
            raw(h.raw_seq),
            h.rel_seq
        )
    };
    match &a.syn {
        Some(s) => writeln!(
            out,
            " 4. SYN: {}. It is the SYN because its SYN flag is set and its ACK flag is not \
             (flags {}).",
            seg(s),
            s.flags
        )?,
        None => writeln!(out, " 4. SYN: not in the capture.")?,
    }
    let Some(sa) = &a.syn_ack else {
        return writeln!(out, " 5. SYN-ACK: not in the capture.");
    };
    let why = match (a.syn.as_ref().and_then(|s| s.raw_seq), sa.raw_ack) {
        (Some(isn), Some(ack)) if ack == isn.wrapping_add(1) => format!(
            " = the client's ISN {isn} + 1: a SYN takes one sequence number, so the next \
             byte the server expects is ISN + 1"
        ),
        _ => ", the client's ISN + 1 (a SYN takes one sequence number)".to_string(),
    };
    writeln!(
        out,
        " 5. SYN-ACK: {}, ack {} (relative {}){why}. It is the SYN-ACK because both the SYN \
         and the ACK flag are set (flags {}).",
        seg(sa),
        raw(sa.raw_ack),
        sa.rel_ack
            .map_or_else(|| "-".to_string(), |v| v.to_string()),
        sa.flags
    )
}

fn request(out: &mut dyn Write, a: &TcpLabAnswers) -> io::Result<()> {
    match &a.request {
        Some(r) => {
            let what = match (&r.method, &r.uri) {
                (Some(m), Some(u)) => format!("{} {}", shown(m), shown(u)),
                _ => "first bytes from the client".to_string(),
            };
            writeln!(
                out,
                " 6. HTTP request ({what}): frame {}, seq {} (relative {}), {} B.",
                r.segment.frame,
                raw(r.segment.raw_seq),
                r.segment.rel_seq,
                r.segment.len
            )?;
        }
        None => writeln!(out, " 6. HTTP request: the client sent no data.")?,
    }
    if let Some(d) = &a.first_bulk_data {
        let same = a
            .request
            .as_ref()
            .is_some_and(|r| r.segment.frame == d.frame);
        writeln!(
            out,
            "    First segment of bulk data ({}): frame {}, seq {} (relative {}), {} B{}.",
            a.bulk_sender,
            d.frame,
            raw(d.raw_seq),
            d.rel_seq,
            d.len,
            if same { ", the request itself" } else { "" }
        )?;
    }
    Ok(())
}

fn rtt(out: &mut dyn Write, a: &TcpLabAnswers) -> io::Result<()> {
    let t = &a.rtt;
    if t.rows.is_empty() {
        return writeln!(
            out,
            " 7. RTT: the {0} sent no data segments, so there is none to measure.\n \
             8. Lengths of those segments: none (the {0} sent no data).",
            t.sender
        );
    }
    writeln!(
        out,
        " 7. RTT of the {}'s first {} data segments (α = {}; EstimatedRTT starts at the first \
         SampleRTT; an ACK measures the segment whose end it acknowledges exactly, as \
         Wireshark's tcp.analysis.ack_rtt; a segment sent twice is not sampled, per Karn):",
        t.sender,
        t.rows.len(),
        t.alpha
    )?;
    writeln!(
        out,
        "    {:>3} {:>7} {:>10} {:>6} {:>11} {:>9} {:>11} {:>13} {:>16}",
        "#",
        "frame",
        "rel seq",
        "len",
        "sent s",
        "ACK frame",
        "ACK s",
        "SampleRTT ms",
        "EstimatedRTT ms"
    )?;
    for r in &t.rows {
        writeln!(
            out,
            "    {:>3} {:>7} {:>10} {:>6} {:>11} {:>9} {:>11} {:>13} {:>16}",
            r.segment,
            r.frame,
            r.rel_seq,
            r.len,
            secs(r.sent_ns),
            r.ack_frame
                .map_or_else(|| "-".to_string(), |f| f.to_string()),
            r.ack_ns.map_or_else(|| "-".to_string(), secs),
            r.sample_rtt_ns
                .map_or_else(|| "-".to_string(), |s| ms(s as f64)),
            r.estimated_rtt_ns.map_or_else(|| "-".to_string(), ms)
        )?;
    }
    for r in t.rows.iter().filter(|r| r.note.is_some()) {
        writeln!(
            out,
            "    segment {} (frame {}): {}",
            r.segment,
            r.frame,
            r.note.map(findings::rtt_note).unwrap_or_default()
        )?;
    }
    let lengths: Vec<String> = t.rows.iter().map(|r| r.len.to_string()).collect();
    writeln!(
        out,
        " 8. Lengths of those segments: {} B.",
        lengths.join(", ")
    )
}

fn window(out: &mut dyn Write, a: &TcpLabAnswers) -> io::Result<()> {
    let w = &a.window;
    let at = |v: Option<u64>, f: Option<u64>| match (v, f) {
        (Some(v), Some(f)) => format!("{v} B (frame {f})"),
        _ => "unknown".to_string(),
    };
    let scaling = findings::window_scaling(w.scaling);
    let later = if w.min_frame == w.min_after_handshake_frame {
        String::new()
    } else {
        format!(
            " in its SYN; smallest after the handshake {}",
            at(w.min_after_handshake, w.min_after_handshake_frame)
        )
    };
    writeln!(
        out,
        " 9. The {}'s advertised receive window: smallest {}{later}, largest {} ({scaling}). \
         Throttled? {}",
        w.receiver,
        at(w.min, w.min_frame),
        at(w.max, w.max_frame),
        findings::receiver_window_answer(w)
    )
}

fn retransmissions(out: &mut dyn Write, a: &TcpLabAnswers) -> io::Result<()> {
    if a.retransmissions.is_empty() {
        return writeln!(
            out,
            "10. Retransmissions: none. No segment of either side matched Wireshark's \
             retransmission rules (tcp.analysis.retransmission, fast_retransmission, \
             spurious_retransmission): every data segment advanced its sender's sequence \
             numbers."
        );
    }
    writeln!(
        out,
        "10. Retransmissions: {} segment(s), recognised by Wireshark's rules:",
        a.retransmissions.len()
    )?;
    for r in &a.retransmissions {
        writeln!(
            out,
            "    frame {} ({}, relative seq {}, {} B): {}: {}",
            r.frame,
            r.from,
            r.rel_seq,
            r.len,
            r.kind.name(),
            findings::retransmission_rule(r.kind)
        )?;
    }
    Ok(())
}

fn acks(out: &mut dyn Write, a: &TcpLabAnswers) -> io::Result<()> {
    let c = &a.ack_coverage;
    if c.acks == 0 {
        return writeln!(
            out,
            "11. ACKs: the {} acknowledged none of the {}'s data in the capture.",
            a.receiver, a.bulk_sender
        );
    }
    writeln!(
        out,
        "11. {} ACKs from the {} acknowledged new data. Bytes newly acknowledged per ACK: {}. \
         Typically {} B{}. Segments per ACK: {}. {}",
        c.acks,
        a.receiver,
        histogram(&c.by_bytes, " B"),
        c.most_common_bytes.unwrap_or(0),
        c.typical_segment.map_or(String::new(), |s| format!(
            " (data segments are mostly {s} B)"
        )),
        histogram(&c.by_segments, ""),
        match c.two_segment_acks {
            0 => "No ACK covers exactly two segments: no delayed ACK for every other segment."
                .to_string(),
            n => format!(
                "{n} ACK(s) cover exactly two segments: a delayed ACK for every other segment."
            ),
        }
    )
}

fn throughput(out: &mut dyn Write, a: &TcpLabAnswers) -> io::Result<()> {
    let Some(t) = &a.throughput else {
        return writeln!(
            out,
            "12. Throughput: not measurable (no acknowledged data, or no time between the \
             first data and its ACK)."
        );
    };
    writeln!(
        out,
        "12. Throughput = bytes acknowledged ÷ (t_last_ack − t_first_data) = {} B ÷ ({} s \
         [frame {}] − {} s [frame {}]) = {} B ÷ {} s = {:.0} B/s ({}, {}). \
         The bytes run from the {}'s first data byte to the highest one the {} acknowledged; \
         t_first_data is when that first byte was sent and t_last_ack when its last byte was \
         acknowledged.",
        t.bytes,
        secs(t.last_ack_ns),
        t.last_ack_frame,
        secs(t.first_data_ns),
        t.first_data_frame,
        t.bytes,
        secs(t.duration_ns),
        t.bytes_per_second,
        rate(t.bytes_per_second, "B/s"),
        rate(t.bytes_per_second * 8.0, "bit/s"),
        a.bulk_sender,
        a.bulk_sender.peer()
    )
}

fn rounds(out: &mut dyn Write, a: &TcpLabAnswers) -> io::Result<()> {
    let s = &a.slow_start;
    writeln!(
        out,
        "13. The {}'s flights, one per round trip (a new round starts with the first send \
         after an ACK for the round's data{}):",
        s.sender,
        s.split_gap_ns.map_or(String::new(), |g| format!(
            ", or after a pause over {} ms, half the {}",
            ms(g as f64),
            s.split_gap_basis.map_or("RTT", findings::gap_basis)
        ))
    )?;
    writeln!(
        out,
        "    {:>5} {:>11} {:>11} {:>9} {:>9}",
        "round", "first frame", "start s", "segments", "bytes"
    )?;
    const SHOWN: usize = 30;
    for r in s.rounds.iter().take(SHOWN) {
        writeln!(
            out,
            "    {:>5} {:>11} {:>11} {:>9} {:>9}",
            r.index,
            r.first_frame,
            secs(r.start_ns),
            r.segments,
            r.bytes
        )?;
    }
    if s.rounds.len() > SHOWN {
        writeln!(
            out,
            "    … {} more rounds (all of them in --json)",
            s.rounds.len() - SHOWN
        )?;
    }
    writeln!(out, "    {}", findings::slow_start_reading(s))
}
