//! The analysis flags on small hand-made traces.

use super::*;
use crate::flags::Flag;
use recvscope_testkit::{CLIENT, Pkt, Trace};

/// Client segments go the original way, as the traces start with one.
fn dir_of(s: &Segment<'_>) -> Dir {
    if s.src.port() == CLIENT.1 {
        Dir::Original
    } else {
        Dir::Reply
    }
}

/// Flags of every segment of `t`, in order.
fn analyse(t: &Trace) -> Vec<FlagSet> {
    let mut a = Analysis::new();
    t.segments()
        .iter()
        .map(|s| a.segment(dir_of(s), s))
        .collect()
}

fn names(set: FlagSet) -> Vec<&'static str> {
    set.iter().map(Flag::name).collect()
}

/// Client ISN 1000, server ISN 5000, no window scaling.
fn handshake(t: &mut Trace) {
    t.push(Pkt::c2s(1000, b"").syn().window(8192))
        .push(Pkt::s2c(5000, b"").syn().ack(1001).window(8192))
        .push(Pkt::c2s(1001, b"").ack(5001).window(8192));
}

fn last(t: &Trace) -> Vec<&'static str> {
    names(*analyse(t).last().expect("segments"))
}

#[test]
fn a_clean_exchange_has_no_flags() {
    let mut t = Trace::new();
    handshake(&mut t);
    t.push(
        Pkt::c2s(1001, b"GET / HTTP/1.0\r\n\r\n")
            .ack(5001)
            .window(8192),
    )
    .push(Pkt::s2c(5001, &[1; 100]).ack(1019).window(8192))
    .push(Pkt::c2s(1019, b"").ack(5101).window(8192));
    assert!(analyse(&t).iter().all(|f| f.is_empty()));
}

#[test]
fn zero_window_is_a_zero_window_field_without_syn_fin_rst() {
    let mut t = Trace::new();
    handshake(&mut t);
    t.push(Pkt::s2c(5001, &[1; 100]).ack(1001).window(8192))
        .push(Pkt::c2s(1001, b"").ack(5101).window(0));
    assert_eq!(last(&t), ["zero_window"]);
    t.push(Pkt::c2s(1001, b"").ack(5101).window(0).rst());
    assert_eq!(last(&t), Vec::<&str>::new());
}

#[test]
fn one_byte_at_next_seq_into_a_zero_window_is_a_probe_and_its_answer_a_probe_ack() {
    let mut t = Trace::new();
    handshake(&mut t);
    t.push(Pkt::s2c(5001, &[1; 100]).ack(1001).window(8192))
        .push(Pkt::c2s(1001, b"").ack(5101).window(0))
        .push(Pkt::s2c(5101, b"x").ack(1001).window(8192))
        .push(Pkt::c2s(1001, b"").ack(5101).window(0));
    let flags = analyse(&t);
    assert_eq!(names(flags[5]), ["zero_window_probe"]);
    assert_eq!(names(flags[6]), ["zero_window", "zero_window_probe_ack"]);
}

#[test]
fn a_linux_persist_probe_is_a_keep_alive_and_a_persist_probe() {
    let mut t = Trace::new();
    handshake(&mut t);
    t.push(Pkt::s2c(5001, &[1; 100]).ack(1001).window(8192))
        .push(Pkt::c2s(1001, b"").ack(5101).window(0))
        .push(Pkt::s2c(5100, b"").ack(1001).window(8192));
    assert_eq!(last(&t), ["keep_alive", "persist_probe"]);
}

#[test]
fn keep_alive_and_its_ack() {
    let mut t = Trace::new();
    handshake(&mut t);
    t.push(Pkt::c2s(1000, b"").ack(5001).window(8192))
        .push(Pkt::s2c(5001, b"").ack(1001).window(8192));
    let flags = analyse(&t);
    assert_eq!(names(flags[3]), ["keep_alive"]);
    assert_eq!(names(flags[4]), ["keep_alive_ack"]);
}

#[test]
fn window_full_ends_exactly_at_the_receivers_right_edge() {
    let mut t = Trace::new();
    handshake(&mut t);
    t.push(Pkt::c2s(1001, b"").ack(5001).window(300))
        .push(Pkt::s2c(5001, &[1; 200]).ack(1001).window(8192))
        .push(Pkt::s2c(5201, &[1; 100]).ack(1001).window(8192));
    let flags = analyse(&t);
    assert!(flags[4].is_empty());
    assert_eq!(names(flags[5]), ["window_full"]);
}

#[test]
fn window_full_is_not_judged_while_the_receivers_scale_is_unknown() {
    let mut t = Trace::new();
    t.push(Pkt::c2s(1001, b"").ack(5001).window(300))
        .push(Pkt::s2c(5001, &[1; 300]).ack(1001).window(8192));
    assert_eq!(last(&t), Vec::<&str>::new());
}

#[test]
fn window_full_uses_the_scale_after_the_first_plain_ack() {
    let mut t = Trace::new();
    t.push(Pkt::c2s(1000, b"").syn().wscale(2).window(8192))
        .push(Pkt::s2c(5000, b"").syn().wscale(0).ack(1001).window(8192))
        .push(Pkt::c2s(1001, b"").ack(5001).window(100))
        .push(Pkt::s2c(5001, &[1; 400]).ack(1001).window(8192));
    assert_eq!(last(&t), ["window_full"]);
}

#[test]
fn window_update_changes_only_the_window() {
    let mut t = Trace::new();
    handshake(&mut t);
    t.push(Pkt::c2s(1001, b"").ack(5001).window(9000));
    assert_eq!(last(&t), ["window_update"]);
}

#[test]
fn duplicate_acks_repeat_seq_ack_and_window() {
    let mut t = Trace::new();
    handshake(&mut t);
    t.push(Pkt::c2s(1001, b"").ack(5001).window(8192))
        .push(Pkt::c2s(1001, b"").ack(5001).window(8192));
    let flags = analyse(&t);
    assert_eq!(names(flags[3]), ["duplicate_ack"]);
    assert_eq!(names(flags[4]), ["duplicate_ack"]);
}

#[test]
fn fast_retransmission_follows_two_dup_acks_within_20ms() {
    let mut t = Trace::new();
    handshake(&mut t);
    t.push(Pkt::s2c(5001, &[1; 100]).ack(1001).window(8192))
        .push(Pkt::s2c(5101, &[1; 100]).ack(1001).window(8192))
        .push(Pkt::c2s(1001, b"").ack(5001).window(8192))
        .push(Pkt::c2s(1001, b"").ack(5001).window(8192))
        .at(5000, Pkt::s2c(5001, &[1; 100]).ack(1001).window(8192));
    assert_eq!(last(&t), ["retransmission", "fast_retransmission"]);
}

#[test]
fn resending_unacknowledged_data_is_a_retransmission() {
    let mut t = Trace::new();
    handshake(&mut t);
    t.push(Pkt::s2c(5001, &[1; 100]).ack(1001).window(8192))
        .at(200_000, Pkt::s2c(5001, &[1; 100]).ack(1001).window(8192));
    assert_eq!(last(&t), ["retransmission"]);
}

#[test]
fn resending_acknowledged_data_is_spurious() {
    let mut t = Trace::new();
    handshake(&mut t);
    t.push(Pkt::s2c(5001, &[1; 100]).ack(1001).window(8192))
        .push(Pkt::c2s(1001, b"").ack(5101).window(8192))
        .at(200_000, Pkt::s2c(5001, &[1; 100]).ack(1001).window(8192));
    assert_eq!(last(&t), ["retransmission", "spurious_retransmission"]);
}

#[test]
fn an_early_segment_arriving_late_within_the_rtt_is_out_of_order() {
    let mut t = Trace::new();
    t.at(0, Pkt::c2s(1000, b"").syn().window(8192))
        .at(10_000, Pkt::s2c(5000, b"").syn().ack(1001).window(8192))
        .at(10_000, Pkt::c2s(1001, b"").ack(5001).window(8192))
        .at(1000, Pkt::s2c(5101, &[1; 100]).ack(1001).window(8192))
        .at(1000, Pkt::s2c(5001, &[1; 100]).ack(1001).window(8192));
    let flags = analyse(&t);
    assert_eq!(names(flags[3]), ["lost_segment"]);
    assert_eq!(names(flags[4]), ["out_of_order"]);
}

#[test]
fn a_segment_beyond_next_seq_means_one_was_not_captured() {
    let mut t = Trace::new();
    handshake(&mut t);
    t.push(Pkt::s2c(5101, &[1; 100]).ack(1001).window(8192));
    assert_eq!(last(&t), ["lost_segment"]);
}

#[test]
fn acking_data_never_seen_is_ack_lost_segment() {
    let mut t = Trace::new();
    handshake(&mut t);
    t.push(Pkt::s2c(5001, &[1; 100]).ack(1001).window(8192))
        .push(Pkt::c2s(1001, b"").ack(5301).window(8192));
    assert_eq!(last(&t), ["ack_lost_segment"]);
}

#[test]
fn wireshark_quirk_ack_lost_arms_a_fast_retransmission_without_dup_acks() {
    // 4.0.17 stores -1 in the peer's unsigned dup-ACK counter when an ACK
    // covers data the peer never sent in the capture; the acker's next
    // retransmission then passes the "two dup ACKs" test.
    let mut t = Trace::new();
    handshake(&mut t);
    t.push(Pkt::c2s(1001, &[1; 100]).ack(5001).window(8192))
        .push(Pkt::c2s(1101, b"").ack(5101).window(8192))
        .at(2000, Pkt::c2s(1001, &[1; 100]).ack(5101).window(8192));
    let flags = analyse(&t);
    assert_eq!(names(flags[4]), ["ack_lost_segment"]);
    assert_eq!(names(flags[5]), ["retransmission", "fast_retransmission"]);
}

#[test]
fn handshake_sets_scale_and_initial_rtt() {
    let mut t = Trace::new();
    t.at(1000, Pkt::c2s(1000, b"").syn().wscale(7))
        .at(250, Pkt::s2c(5000, b"").syn().wscale(9).ack(1001))
        .at(250, Pkt::c2s(1001, b"").ack(5001));
    let mut a = Analysis::new();
    for s in &t.segments() {
        a.segment(dir_of(s), s);
    }
    assert_eq!(a.scale(Dir::Original), WindowScale::Shift(7));
    assert_eq!(a.scale(Dir::Reply), WindowScale::Shift(9));
    assert_eq!(a.initial_rtt_ns, 500_000);
}

#[test]
fn a_syn_without_window_scale_turns_scaling_off_both_ways() {
    let mut t = Trace::new();
    t.push(Pkt::c2s(1000, b"").syn())
        .push(Pkt::s2c(5000, b"").syn().wscale(9).ack(1001));
    let mut a = Analysis::new();
    for s in &t.segments() {
        a.segment(dir_of(s), s);
    }
    assert_eq!(a.scale(Dir::Original), WindowScale::NotUsed);
    assert_eq!(a.scale(Dir::Reply), WindowScale::NotUsed);
}
