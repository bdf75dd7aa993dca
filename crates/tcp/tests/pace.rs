//! What set the pace of a connection's sending, on built conversations:
//! the receiver's window, the network, or the sender.

use recvscope_tcp::{
    Flag, LimitedBy, Limits, Pace, PaceSetter, Retransmissions, TcpSummary, Tracker, WindowEvidence,
};
use recvscope_testkit::{Pkt, Trace};

fn summary(t: &Trace) -> TcpSummary {
    let mut tracker = Tracker::<()>::new(Limits::default(), (), None);
    for s in t.segments() {
        tracker.segment(&s, &mut ());
    }
    let (mut done, _) = tracker.finish(&mut ());
    assert_eq!(done.len(), 1);
    done.remove(0).tcp
}

/// Client ISN 1000 with a `window`-byte window, server ISN 5000, no window
/// scaling, 100 µs apart (a 200 µs handshake RTT), and the request.
fn request(t: &mut Trace, window: u16) {
    t.at(1000, Pkt::c2s(1000, b"").syn().sack_perm().window(window))
        .at(100, Pkt::s2c(5000, b"").syn().sack_perm().ack(1001))
        .at(100, Pkt::c2s(1001, b"").ack(5001).window(window))
        .at(
            100,
            Pkt::c2s(1001, b"GET / HTTP/1.0\r\n\r\n")
                .ack(5001)
                .window(window),
        );
}

#[test]
fn a_slow_reader_whose_window_closed_on_waiting_data_sets_the_pace_despite_a_tail_probe() {
    let mut t = Trace::new();
    request(&mut t, 4000);
    t.at(100, Pkt::s2c(5001, &[1; 2000]).ack(1019))
        // Frame 6 fills the window; frame 7 re-sends its tail 5 ms later.
        .at(10, Pkt::s2c(7001, &[2; 2000]).ack(1019))
        .at(5000, Pkt::s2c(8001, &[2; 1000]).ack(1019))
        // The client's zero window, D-SACKing the copy it got twice.
        .at(
            100,
            Pkt::c2s(1019, b"")
                .ack(9001)
                .window(0)
                .sack((8001, 9001), &[]),
        )
        // 250 ms later a recv reopens it and the server sends at once.
        .at(250_000, Pkt::c2s(1019, b"").ack(9001).window(4000))
        .at(50, Pkt::s2c(9001, &[3; 1000]).ack(1019).fin())
        .at(100, Pkt::c2s(1019, b"").ack(10_002).window(3000).fin());
    let tcp = summary(&t);
    assert_eq!(tcp.flags.get(Flag::WindowFull), 2);
    assert_eq!(tcp.flags.get(Flag::Retransmission), 1);
    assert_eq!(
        tcp.flow_control.pace.server,
        Pace {
            set_by: PaceSetter::Receiver(WindowEvidence {
                zero_window_stalls: 1,
                stalled_ns: 250_000_000,
                window_full_with_data_waiting: 2,
                frames: vec![6, 7, 8],
            }),
            retransmissions: Retransmissions {
                segments: 1,
                tail: 1,
                dsack_unnecessary: 1,
                already_acknowledged: 0,
                dsacks: 1,
            },
        }
    );
    assert_eq!(tcp.flow_control.pace.client.set_by, PaceSetter::Sender);
}

#[test]
fn a_full_window_the_sender_had_nothing_more_behind_leaves_the_pace_to_the_sender() {
    let mut t = Trace::new();
    request(&mut t, 4000);
    // A server writing a round every 20 ms fills the window with its round;
    // the window opens at once, the next round comes 20 ms later.
    t.at(100, Pkt::s2c(5001, &[1; 4000]).ack(1019))
        .at(50, Pkt::c2s(1019, b"").ack(9001).window(4000))
        .at(20_000, Pkt::s2c(9001, &[2; 4000]).ack(1019))
        .at(50, Pkt::c2s(1019, b"").ack(13_001).window(4000));
    let tcp = summary(&t);
    assert_eq!(tcp.flags.get(Flag::WindowFull), 2);
    assert_eq!(tcp.flow_control.window_full_to_client, 2);
    assert_eq!(tcp.flow_control.pace.server.set_by, PaceSetter::Sender);
}

#[test]
fn new_data_within_twice_the_handshake_rtt_of_the_opening_had_been_waiting() {
    let verdict = |after_us: i64| {
        let mut t = Trace::new();
        t.at(1000, Pkt::c2s(1000, b"").syn().window(4000))
            .at(10_000, Pkt::s2c(5000, b"").syn().ack(1001))
            .at(10_000, Pkt::c2s(1001, b"").ack(5001).window(4000))
            .at(100, Pkt::s2c(5001, &[1; 4000]).ack(1001))
            .at(50, Pkt::c2s(1001, b"").ack(9001).window(4000))
            .at(after_us, Pkt::s2c(9001, &[2; 100]).ack(1001));
        summary(&t).flow_control.pace.server.set_by
    };
    // 40 ms: twice the 20 ms handshake RTT.
    assert_eq!(
        verdict(40_000),
        PaceSetter::Receiver(WindowEvidence {
            zero_window_stalls: 0,
            stalled_ns: 0,
            window_full_with_data_waiting: 1,
            frames: vec![4],
        })
    );
    assert_eq!(verdict(40_001), PaceSetter::Sender);
}

#[test]
fn without_a_handshake_rtt_any_later_new_data_shows_data_waiting() {
    // The capture starts at the SYN-ACK: no window scaling, no RTT.
    let mut t = Trace::new();
    t.at(1000, Pkt::s2c(5000, b"").syn().ack(1001))
        .at(100, Pkt::c2s(1001, b"").ack(5001).window(4000))
        .at(100, Pkt::s2c(5001, &[1; 4000]).ack(1001))
        .at(50, Pkt::c2s(1001, b"").ack(9001).window(4000))
        .at(500_000, Pkt::s2c(9001, &[2; 100]).ack(1001));
    let tcp = summary(&t);
    assert_eq!(tcp.flags.get(Flag::WindowFull), 1);
    assert_eq!(
        tcp.flow_control.pace.server.set_by.limited_by(),
        LimitedBy::Receiver
    );
}

#[test]
fn a_loss_repaired_by_a_retransmission_no_dsack_covers_sets_the_pace_on_the_network() {
    let mut t = Trace::new();
    request(&mut t, 60000);
    // 5001..6001 is lost past the capture point: the client SACKs the
    // segment after it, and the server re-sends the lost one.
    t.at(100, Pkt::s2c(5001, &[1; 1000]).ack(1019))
        .at(10, Pkt::s2c(6001, &[2; 1000]).ack(1019))
        .at(
            100,
            Pkt::c2s(1019, b"")
                .ack(5001)
                .window(60000)
                .sack((6001, 7001), &[]),
        )
        .at(200_000, Pkt::s2c(5001, &[1; 1000]).ack(1019))
        .at(100, Pkt::c2s(1019, b"").ack(7001).window(60000));
    let tcp = summary(&t);
    assert_eq!(tcp.flags.get(Flag::Retransmission), 1);
    assert_eq!(
        tcp.flow_control.pace.server,
        Pace {
            set_by: PaceSetter::Network {
                real_retransmissions: 1,
                frames: vec![8],
            },
            retransmissions: Retransmissions {
                segments: 1,
                tail: 0,
                dsack_unnecessary: 0,
                already_acknowledged: 0,
                dsacks: 0,
            },
        }
    );
}

#[test]
fn a_retransmission_the_receiver_dsacks_is_no_loss() {
    let mut t = Trace::new();
    request(&mut t, 60000);
    t.at(100, Pkt::s2c(5001, &[1; 1000]).ack(1019))
        .at(5000, Pkt::s2c(5001, &[1; 1000]).ack(1019))
        .at(
            100,
            Pkt::c2s(1019, b"")
                .ack(6001)
                .window(60000)
                .sack((5001, 6001), &[]),
        );
    let tcp = summary(&t);
    let pace = &tcp.flow_control.pace.server;
    assert_eq!(pace.set_by, PaceSetter::Sender);
    assert_eq!(
        (
            pace.retransmissions.segments,
            pace.retransmissions.tail,
            pace.retransmissions.dsack_unnecessary,
            pace.retransmissions.real()
        ),
        (1, 1, 1, 0)
    );
}
