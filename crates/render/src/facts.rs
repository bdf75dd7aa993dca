//! The facts of one connection as labelled lines, the one list that the
//! text report and the HTML page both draw.

use recvscope_analysis::ConnectionSummary;
use recvscope_tcp::{PaceSetter, RoleRule, WindowScaling};
use recvscope_wire::Side;

use crate::findings;
use crate::units::ms;

/// How many evidence frames are named before "…".
const EVIDENCE_SHOWN: usize = 12;

/// One labelled fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fact {
    pub label: &'static str,
    pub value: String,
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

/// How the client was told from the server, when no handshake told it.
fn roles_words(rule: RoleRule) -> Option<&'static str> {
    match rule {
        RoleRule::Handshake => None,
        RoleRule::Content => {
            Some("no handshake: client and server told by the first request or status line")
        }
        RoleRule::WellKnownPort => {
            Some("no handshake: the end on the well-known port is taken as the server")
        }
        RoleRule::PortOrder => {
            Some("no handshake: the end on the higher port is taken as the client")
        }
    }
}

/// The handshake, bytes, windows, flow control and warnings of `c`, in order.
pub(crate) fn connection_facts(c: &ConnectionSummary) -> Vec<Fact> {
    let t = &c.tcp;
    let mut facts = Vec::new();
    let mut fact = |label, value| facts.push(Fact { label, value });
    if let Some(tunnel) = &t.tunnel {
        fact("tunnel", crate::tunnel_words::tunnel(tunnel));
    }
    let h = &t.handshake;
    fact(
        "handshake",
        if h.seen {
            let scale = if h.window_scaling == WindowScaling::Known {
                format!(
                    "window scale client {} / server {}",
                    opt(h.client_wscale),
                    opt(h.server_wscale)
                )
            } else {
                "window scaling not used".to_string()
            };
            format!(
                "RTT {}, MSS {}, {scale}, SACK {}",
                opt(h.rtt_ns.map(|ns| format!("{} ms", ms(ns as f64)))),
                opt(h.mss),
                if h.sack_permitted { "yes" } else { "no" }
            )
        } else {
            format!(
                "not fully captured; window scaling {}",
                findings::window_scaling_word(h.window_scaling)
            )
        },
    );
    if let Some(words) = roles_words(t.roles_from) {
        fact("roles", words.to_string());
    }
    let (missing, cut) = (&t.missing_bytes, &t.not_captured_bytes);
    let mut bytes = format!(
        "client->server {}, server->client {}",
        t.bytes.client_to_server, t.bytes.server_to_client
    );
    if missing.client_to_server + missing.server_to_client > 0 {
        bytes.push_str(&format!(
            " (missing from capture: {} / {})",
            missing.client_to_server, missing.server_to_client
        ));
    }
    if cut.client_to_server + cut.server_to_client > 0 {
        bytes.push_str(&format!(
            "; seen on the wire, not captured: {} / {} (snaplen {})",
            cut.client_to_server,
            cut.server_to_client,
            opt(t.snaplen)
        ));
    }
    fact("bytes", bytes);
    let w = &t.receiver_window;
    fact(
        "receive window",
        format!(
            "client {}..{}, server {}..{} bytes",
            opt(w.client.min),
            opt(w.client.max),
            opt(w.server.min),
            opt(w.server.max)
        ),
    );
    fact(
        "largest bytes in flight",
        format!(
            "client {}, server {}",
            t.max_bytes_in_flight.client, t.max_bytes_in_flight.server
        ),
    );
    let fc = &t.flow_control;
    fact("flow control", findings::flow_control_verdict(fc));
    let shown = |frames: &[u64]| {
        let named: Vec<String> = frames
            .iter()
            .take(EVIDENCE_SHOWN)
            .map(u64::to_string)
            .collect();
        let more = if frames.len() > EVIDENCE_SHOWN {
            ", …"
        } else {
            ""
        };
        format!("{}{more}", named.join(", "))
    };
    let paces = [
        (Side::Server, &fc.pace.server),
        (Side::Client, &fc.pace.client),
    ];
    for (_, pace) in paces {
        let frames = match &pace.set_by {
            PaceSetter::Receiver(w) => &w.frames,
            PaceSetter::Network { frames, .. } => frames,
            PaceSetter::Sender => continue,
        };
        if !frames.is_empty() {
            fact("shown by frames", shown(frames));
        }
    }
    for (sender, pace) in paces {
        if pace.retransmissions.segments > 0 {
            fact(
                "retransmissions",
                findings::retransmissions_sentence(sender, &pace.retransmissions),
            );
        }
    }
    for warning in &c.warnings {
        fact("warning", findings::connection_warning(warning, t.snaplen));
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;
    use recvscope_testkit::{Pkt, Trace};

    #[test]
    fn the_facts_name_each_figure_once_in_report_order() {
        let mut t = Trace::new();
        t.push(Pkt::c2s(1000, b"").syn().mss(1460).window(8192))
            .at(
                50,
                Pkt::s2c(5000, b"").syn().ack(1001).mss(1460).window(4000),
            )
            .push(Pkt::c2s(1001, b"").ack(5001).window(8192));
        let c = &crate::tests::report(&t).connections[0];
        let labels: Vec<&str> = connection_facts(c).iter().map(|f| f.label).collect();
        assert_eq!(
            labels,
            [
                "handshake",
                "bytes",
                "receive window",
                "largest bytes in flight",
                "flow control"
            ]
        );
        assert_eq!(
            connection_facts(c)[0].value,
            "RTT 1.050 ms, MSS 1460, window scaling not used, SACK no"
        );
    }

    #[test]
    fn a_retransmission_gets_a_fact_of_its_own_beside_the_verdict() {
        let mut t = Trace::new();
        t.at(1000, Pkt::c2s(1000, b"").syn().sack_perm())
            .at(100, Pkt::s2c(5000, b"").syn().sack_perm().ack(1001))
            .at(100, Pkt::c2s(1001, b"").ack(5001))
            .at(100, Pkt::s2c(5001, &[1; 1000]).ack(1001))
            .at(5000, Pkt::s2c(5001, &[1; 1000]).ack(1001))
            .at(100, Pkt::c2s(1001, b"").ack(6001).sack((5001, 6001), &[]));
        let c = &crate::tests::report(&t).connections[0];
        let facts = connection_facts(c);
        let value = |label| {
            facts
                .iter()
                .find(|f| f.label == label)
                .map(|f| f.value.as_str())
        };
        assert_eq!(
            value("flow control"),
            Some(
                "the server or its application set the pace: no zero window, no window-full \
                 segment with more data waiting, no retransmission that shows a loss"
            )
        );
        assert_eq!(
            value("retransmissions"),
            Some(
                "the server re-sent 1 segment, the last it had sent (the shape of a tail loss \
                 probe: Linux re-sends its last segment when an ACK is late); the client's \
                 D-SACK showed it arrived twice: nothing was lost"
            )
        );
        assert_eq!(value("shown by frames"), None);
    }
}
