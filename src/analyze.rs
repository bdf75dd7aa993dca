//! The whole pure pipeline for one capture: frames in, a report out.

use serde::Serialize;

use crate::tcp::{BodySink, ConnectionSummary, FlagCounts, Limits, Tracker};
use crate::wire::{Decoded, FrameMeta, LinkType, decode};

/// Everything recvscope knows about one capture.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Frames in the capture.
    pub packets: u64,
    pub link_type: &'static str,
    pub link_type_code: i32,
    pub tcp_packets: u64,
    /// Frames that were not TCP (ARP, UDP, ICMP, ...).
    pub other_packets: u64,
    pub first_ts_ns: Option<i64>,
    pub last_ts_ns: Option<i64>,
    /// Flag counts over every connection.
    pub flags: FlagCounts,
    pub connections: Vec<ConnectionSummary>,
    pub warnings: Vec<String>,
}

/// Feeds frames through decoding and TCP tracking.
pub struct Analyzer {
    link: LinkType,
    tracker: Tracker,
    packets: u64,
    tcp_packets: u64,
    other: u64,
    fragments: u64,
    cut_headers: u64,
    cut_payloads: u64,
    first_ts: Option<i64>,
    last_ts: Option<i64>,
    backwards: u64,
}

impl Analyzer {
    /// `list` names the connection to list packet by packet, if any.
    pub fn new(link: LinkType, limits: Limits, list: Option<u64>) -> Analyzer {
        Analyzer {
            link,
            tracker: Tracker::new(limits, list),
            packets: 0,
            tcp_packets: 0,
            other: 0,
            fragments: 0,
            cut_headers: 0,
            cut_payloads: 0,
            first_ts: None,
            last_ts: None,
            backwards: 0,
        }
    }

    /// One captured frame, in capture order.
    pub fn frame(&mut self, meta: FrameMeta, bytes: &[u8], sink: &mut dyn BodySink) {
        self.packets += 1;
        self.first_ts.get_or_insert(meta.ts_ns);
        if self.last_ts.is_some_and(|t| meta.ts_ns < t) {
            self.backwards += 1;
        }
        self.last_ts = Some(meta.ts_ns);
        match decode(self.link, bytes, meta) {
            Decoded::Tcp(seg) => {
                self.tcp_packets += 1;
                if seg.payload_truncated() {
                    self.cut_payloads += 1;
                }
                self.tracker.segment(&seg, sink);
            }
            Decoded::NotTcp => self.other += 1,
            Decoded::Fragment => self.fragments += 1,
            Decoded::Truncated => self.cut_headers += 1,
        }
    }

    /// End of input: the report.
    pub fn finish(self, sink: &mut dyn BodySink) -> Report {
        let connections = self.tracker.finish(sink);
        let flags = connections
            .iter()
            .fold(FlagCounts::default(), |acc, c| acc.merged(&c.flags));
        let mut warnings = Vec::new();
        if self.cut_payloads > 0 {
            warnings.push(format!(
                "{} TCP segment(s) were cut short by the capture's snaplen: their lengths come from the IP header, the missing bytes are reported as gaps",
                self.cut_payloads
            ));
        }
        if self.cut_headers > 0 {
            warnings.push(format!(
                "{} frame(s) end before their TCP header does and were skipped",
                self.cut_headers
            ));
        }
        if self.fragments > 0 {
            warnings.push(format!(
                "{} IP fragment(s) skipped: TCP inside IP fragments is not reassembled",
                self.fragments
            ));
        }
        if self.backwards > 0 {
            warnings.push(format!(
                "{} timestamp(s) go backwards: analysis follows capture order",
                self.backwards
            ));
        }
        Report {
            packets: self.packets,
            link_type: self.link.name(),
            link_type_code: self.link.code(),
            tcp_packets: self.tcp_packets,
            other_packets: self.other + self.fragments + self.cut_headers,
            first_ts_ns: self.first_ts,
            last_ts_ns: self.last_ts,
            flags,
            connections,
            warnings,
        }
    }
}
