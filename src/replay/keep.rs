//! The connections the end of a replay needs again (`--conn`, the recv
//! log's, the graph's, the TCP lab's), kept while the rest stream past, with
//! their packet records from the same pass.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use crate::analysis::ConnectionSummary;

use super::ReplayConfig;

/// What one pass over a capture keeps besides its streamed report.
pub(super) struct Keep<'a> {
    cfg: &'a ReplayConfig,
    /// The recv log's client and server, when a readable log is beside the capture.
    endpoints: Option<(String, String)>,
    /// Ids kept by role: listed, recv log's, most server bytes, most payload.
    slots: [Option<u64>; 4],
    /// The connections some slot names, by id; at most one per slot.
    kept: BTreeMap<u64, ConnectionSummary>,
}

impl<'a> Keep<'a> {
    pub(super) fn new(cfg: &'a ReplayConfig, endpoints: Option<(String, String)>) -> Keep<'a> {
        Keep {
            cfg,
            endpoints,
            slots: [None; 4],
            kept: BTreeMap::new(),
        }
    }

    /// True when a connection is chosen only at the end (the recv log's by
    /// its endpoints, the biggest for the graph or the TCP lab): the pass
    /// then lists every connection and keeps the lists of the chosen ones.
    /// Otherwise only `--conn` is listed, by id.
    pub(super) fn lists_every_connection(&self) -> bool {
        self.endpoints.is_some()
            || ((self.cfg.pictures.wanted() || self.cfg.tcp_lab) && self.cfg.conn.is_none())
    }

    /// A connection that has ended: kept if some role wants it, and what
    /// it no longer wants is dropped.
    pub(super) fn offer(&mut self, c: ConnectionSummary) {
        let payload =
            |c: &ConnectionSummary| c.tcp.bytes.client_to_server + c.tcp.bytes.server_to_client;
        let holder = |slot: Option<u64>| slot.and_then(|id| self.kept.get(&id));
        let wanted = [
            self.cfg.conn == Some(c.tcp.id),
            self.endpoints
                .as_ref()
                .is_some_and(|(client, server)| c.tcp.client == *client && c.tcp.server == *server),
            self.cfg.pictures.wanted()
                && holder(self.slots[2]).is_none_or(|k| {
                    (c.tcp.bytes.server_to_client, Reverse(c.tcp.id))
                        > (k.tcp.bytes.server_to_client, Reverse(k.tcp.id))
                }),
            self.cfg.tcp_lab
                && holder(self.slots[3]).is_none_or(|k| {
                    (payload(&c), Reverse(c.tcp.id)) > (payload(k), Reverse(k.tcp.id))
                }),
        ];
        if !wanted.contains(&true) {
            return;
        }
        for (slot, want) in self.slots.iter_mut().zip(wanted) {
            if want {
                *slot = Some(c.tcp.id);
            }
        }
        self.kept.insert(c.tcp.id, c);
        let slots = self.slots;
        self.kept.retain(|id, _| slots.contains(&Some(*id)));
    }

    /// The kept connections, each once, in id order.
    pub(super) fn into_connections(self) -> Vec<ConnectionSummary> {
        self.kept.into_values().collect()
    }
}
