//! The finished figures of one connection, shaped for the reports.

use recvscope_wire::Side;
use recvscope_wire::Tunnel;
use serde::Serialize;

use super::analysis::WindowScale;
use super::conn::{Connection, Direction};
use super::flags::{Flag, FlagCounts};
use super::pace::{Pace, PaceSetter, WindowEvidence};
use super::record::PacketRecord;
use super::roles::RoleRule;
use super::stream::StreamSink;

#[derive(Debug, Clone, Serialize)]
pub struct Handshake {
    /// SYN, SYN-ACK and the client's first ACK were all captured.
    pub seen: bool,
    pub client_isn: Option<u32>,
    pub server_isn: Option<u32>,
    /// Shift each side announced; `null` when not announced or not seen.
    pub client_wscale: Option<u8>,
    pub server_wscale: Option<u8>,
    pub window_scaling: WindowScaling,
    /// The smaller of the MSS values the two sides announced.
    pub mss: Option<u16>,
    pub client_mss: Option<u16>,
    pub server_mss: Option<u16>,
    pub sack_permitted: bool,
    /// Wireshark's initial RTT: the SYN to the first pure ACK after it
    /// (the client's ACK of the SYN-ACK, in a normal handshake).
    pub rtt_ns: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bytes {
    /// Stream bytes (unique, by sequence space) each way.
    pub client_to_server: u64,
    pub server_to_client: u64,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct MinMax {
    pub min: Option<u64>,
    pub max: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ByDirection<T> {
    pub client: T,
    pub server: T,
}

/// What held each sender back, and the window figures behind it.
#[derive(Debug, Clone, Serialize)]
pub struct FlowControl {
    /// What set the pace of each side's sending (`client`: the client's
    /// data to the server), by the rule of [`PaceSetter`].
    pub pace: ByDirection<Pace>,
    /// Zero-window stalls of the server: times the client's window closed
    /// to zero, each counted once from its first zero-window segment until
    /// the window reopened (its zero-window segments are in the flags).
    #[serde(rename = "client_zero_window_stalls")]
    pub client_zero_windows: u64,
    /// Zero-window stalls of the client, by the server's window.
    #[serde(rename = "server_zero_window_stalls")]
    pub server_zero_windows: u64,
    /// How long the client's and the server's zero-window stalls lasted in all.
    pub client_zero_window_stall_ns: i64,
    pub server_zero_window_stall_ns: i64,
    /// Segments that filled the receiving side's window exactly.
    pub window_full_to_client: u64,
    pub window_full_to_server: u64,
}

/// Whether window sizes could be scaled as the two sides agreed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum WindowScaling {
    /// Both sides' shifts were seen in the handshake.
    #[serde(rename = "known")]
    Known,
    /// The handshake was seen and a side did not offer scaling.
    #[serde(rename = "not used")]
    NotUsed,
    /// No handshake: windows are shown unscaled, as Wireshark does.
    #[serde(rename = "unknown")]
    Unknown,
}

/// What TCP tracking could not do for one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TcpWarning {
    /// The out-of-order buffer filled: some held data was reported missing.
    ReassemblyLimit,
    /// No handshake: the window scale is unknown, windows are unscaled.
    HandshakeNotCaptured,
    /// Reported before its end: more than `max_live` connections were open
    /// at once and this was among the least recently active.
    TrackingStoppedEarly { max_live: usize },
    /// `segments` of `sender`'s segments carried bytes that differ from the
    /// copy of them captured first (the first at `first_frame`); the copy
    /// captured first is the one reassembled.
    ConflictingCopies {
        sender: Side,
        segments: u64,
        first_frame: u64,
    },
}

/// A connection tracking is done with: its figures, what it warns of, its
/// packet records when they were kept, and its stream sink.
pub struct Finished<S> {
    pub tcp: TcpSummary,
    pub warnings: Vec<TcpWarning>,
    pub records: Option<Vec<PacketRecord>>,
    pub stream: S,
}

/// Everything TCP tracking reports about one connection.
#[derive(Debug, Clone, Serialize)]
pub struct TcpSummary {
    pub id: u64,
    pub client: String,
    pub server: String,
    /// The rule that decided which end is the client.
    pub roles_from: RoleRule,
    /// The encapsulations its segments came through, outermost first;
    /// `None` for a connection seen directly.
    pub tunnel: Option<Tunnel>,
    pub first_frame: u64,
    pub start_ns: i64,
    pub duration_ns: i64,
    pub packets: ByDirection<u64>,
    pub handshake: Handshake,
    pub bytes: Bytes,
    /// Bytes of each stream never seen on the wire: sequence holes (lost
    /// before the capture point, or dropped by the capture).
    pub missing_bytes: Bytes,
    /// Bytes of each stream seen on the wire but not kept by the capture's
    /// snaplen (a header-only capture keeps no payload on purpose); each
    /// stream byte counted once.
    pub not_captured_bytes: Bytes,
    /// The snaplen that cut them: the captured length of the longest cut
    /// frame; `null` when no frame was cut.
    pub snaplen: Option<u32>,
    pub flags: FlagCounts,
    pub flags_by_direction: ByDirection<FlagCounts>,
    /// Window each side advertised as a receiver, in bytes.
    pub receiver_window: ByDirection<MinMax>,
    pub max_bytes_in_flight: ByDirection<u64>,
    pub zero_window_stall_ns: i64,
    pub flow_control: FlowControl,
}

/// Stream bytes reassembly handed on as gaps, by kind, indexed by direction.
pub(super) struct Gaps {
    pub(super) lost: [u64; 2],
    pub(super) not_captured: [u64; 2],
}

impl TcpSummary {
    /// The figures of `conn`, and its warnings.
    pub(super) fn new<S: StreamSink>(
        conn: &Connection<S>,
        stream_bytes: [u64; 2],
        gaps: Gaps,
        overflowed: bool,
        conflicts: [u64; 2],
    ) -> (TcpSummary, Vec<TcpWarning>) {
        let (c, roles_from) = conn.roles();
        let s = c.peer();
        let (cd, sd): (&Direction, &Direction) = (&conn.dirs[c], &conn.dirs[s]);
        let scaling = match (conn.analysis.scale(c), conn.analysis.scale(s)) {
            (WindowScale::Unknown, _) | (_, WindowScale::Unknown) => WindowScaling::Unknown,
            (WindowScale::NotUsed, _) | (_, WindowScale::NotUsed) => WindowScaling::NotUsed,
            _ => WindowScaling::Known,
        };
        let mss = match (cd.mss, sd.mss) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let flow_control = flow_control(cd, sd);
        let mut warnings = Vec::new();
        if overflowed {
            warnings.push(TcpWarning::ReassemblyLimit);
        }
        for (dir, sender) in [(c, Side::Client), (s, Side::Server)] {
            if let Some(first_frame) = conn.dirs[dir].first_conflict {
                warnings.push(TcpWarning::ConflictingCopies {
                    sender,
                    segments: conflicts[dir],
                    first_frame,
                });
            }
        }
        if scaling == WindowScaling::Unknown {
            warnings.push(TcpWarning::HandshakeNotCaptured);
        }
        let summary = TcpSummary {
            id: conn.id,
            client: conn.addrs[c].to_string(),
            server: conn.addrs[s].to_string(),
            roles_from,
            tunnel: (!conn.tunnel.is_empty()).then_some(conn.tunnel),
            first_frame: conn.first_frame,
            start_ns: conn.first_ts,
            duration_ns: conn.last_ts - conn.first_ts,
            packets: ByDirection {
                client: cd.packets,
                server: sd.packets,
            },
            handshake: Handshake {
                seen: cd.syn && sd.syn && conn.analysis.initial_rtt_ns().is_some(),
                client_isn: cd.isn.map(u32::from),
                server_isn: sd.isn.map(u32::from),
                client_wscale: cd.wscale,
                server_wscale: sd.wscale,
                window_scaling: scaling,
                mss,
                client_mss: cd.mss,
                server_mss: sd.mss,
                sack_permitted: cd.sack_permitted && sd.sack_permitted,
                rtt_ns: conn.analysis.initial_rtt_ns(),
            },
            bytes: Bytes {
                client_to_server: stream_bytes[c],
                server_to_client: stream_bytes[s],
            },
            missing_bytes: Bytes {
                client_to_server: gaps.lost[c],
                server_to_client: gaps.lost[s],
            },
            not_captured_bytes: Bytes {
                client_to_server: gaps.not_captured[c],
                server_to_client: gaps.not_captured[s],
            },
            snaplen: conn.snaplen,
            flags: cd.flags.merged(&sd.flags),
            flags_by_direction: ByDirection {
                client: cd.flags,
                server: sd.flags,
            },
            receiver_window: ByDirection {
                client: MinMax {
                    min: cd.win_min,
                    max: cd.win_max,
                },
                server: MinMax {
                    min: sd.win_min,
                    max: sd.win_max,
                },
            },
            max_bytes_in_flight: ByDirection {
                client: cd.max_in_flight,
                server: sd.max_in_flight,
            },
            zero_window_stall_ns: cd.zero_window_stall_ns + sd.zero_window_stall_ns,
            flow_control,
        };
        (summary, warnings)
    }
}

fn flow_control(client: &Direction, server: &Direction) -> FlowControl {
    FlowControl {
        pace: ByDirection {
            client: pace(server, client),
            server: pace(client, server),
        },
        client_zero_windows: client.zero_window_stalls,
        server_zero_windows: server.zero_window_stalls,
        client_zero_window_stall_ns: client.zero_window_stall_ns,
        server_zero_window_stall_ns: server.zero_window_stall_ns,
        window_full_to_client: server.flags.get(Flag::WindowFull),
        window_full_to_server: client.flags.get(Flag::WindowFull),
    }
}

/// The pace of `sender`'s sending to `receiver`.
fn pace(receiver: &Direction, sender: &Direction) -> Pace {
    let mut frames = receiver.evidence.clone();
    frames.sort_unstable();
    let window = WindowEvidence {
        zero_window_stalls: receiver.zero_window_stalls,
        stalled_ns: receiver.zero_window_stall_ns,
        window_full_with_data_waiting: receiver.window_full.with_data_waiting,
        frames,
    };
    let (retransmissions, real_frames) = sender.resent.figures();
    Pace {
        set_by: PaceSetter::judge(window, &retransmissions, real_frames),
        retransmissions,
    }
}
