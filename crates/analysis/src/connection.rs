//! One connection as reported: its TCP figures, the HTTP that rode on it,
//! its warnings and, when asked for, its packet records.

use serde::Serialize;

use recvscope_http::{HttpWarning, Transaction};
use recvscope_tcp::{Finished, PacketRecord, TcpSummary, TcpWarning};
use recvscope_wire::WireText;

use super::http_stream::{BodySink, HttpStream};

/// Everything reported about one connection.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionSummary {
    #[serde(flatten)]
    pub tcp: TcpSummary,
    pub http: Vec<HttpExchange>,
    /// The HTTP parser's warnings first, then TCP tracking's.
    pub warnings: Vec<ConnectionWarning>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packet_list: Option<Vec<PacketRecord>>,
}

/// Something the analysis of one connection could not do, by layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ConnectionWarning {
    Http(HttpWarning),
    Tcp(TcpWarning),
}

impl ConnectionSummary {
    /// Finishes the HTTP of a connection TCP tracking is done with (its
    /// last bodies end in `bodies`) and joins the two.
    pub(super) fn finish(done: Finished<HttpStream>, bodies: &mut dyn BodySink) -> Self {
        let http = done.stream.finish(done.tcp.id, bodies);
        let mut warnings: Vec<ConnectionWarning> = http
            .warnings
            .into_iter()
            .map(ConnectionWarning::Http)
            .collect();
        warnings.extend(done.warnings.into_iter().map(ConnectionWarning::Tcp));
        ConnectionSummary {
            tcp: done.tcp,
            http: http
                .transactions
                .into_iter()
                .map(HttpExchange::from)
                .collect(),
            warnings,
            packet_list: done.records,
        }
    }
}

/// One HTTP request/response pair, flattened for the report.
#[derive(Debug, Clone, Serialize)]
pub struct HttpExchange {
    pub index: usize,
    pub method: Option<WireText>,
    pub uri: Option<WireText>,
    pub version: Option<WireText>,
    pub status: Option<u16>,
    pub reason: Option<WireText>,
    pub response_version: Option<WireText>,
    /// Offset of the first blank line in the response, as the book prints it.
    pub header_length: Option<u64>,
    pub content_length: Option<u64>,
    pub content_type: Option<WireText>,
    pub content_encoding: Option<WireText>,
    pub chunked: bool,
    /// The response's body length, as on the wire.
    pub body_bytes: u64,
    /// Of them, bytes seen on the wire that the snaplen did not keep.
    pub not_captured_bytes: u64,
    /// Request and response seen to their ends, nothing lost.
    pub complete: bool,
    /// The server answered but its response's head is not in the capture
    /// (a capture gap): no response, and no time to first byte.
    pub response_head_missing: bool,
    pub request_ts_ns: Option<i64>,
    /// Request's first byte to the response's first byte.
    pub time_to_first_byte_ns: Option<i64>,
    /// Response's first byte to its last byte.
    pub transfer_ns: Option<i64>,
    pub request: Option<recvscope_http::Request>,
    pub response: Option<recvscope_http::Response>,
}

impl From<Transaction> for HttpExchange {
    fn from(t: Transaction) -> Self {
        let req = t.request.as_ref();
        let resp = t.response.as_ref();
        HttpExchange {
            index: t.index,
            method: req.map(|r| r.method.clone()),
            uri: req.map(|r| r.uri.clone()),
            version: req.map(|r| r.version.clone()),
            status: resp.map(|r| r.status),
            reason: resp.map(|r| r.reason.clone()),
            response_version: resp.map(|r| r.version.clone()),
            header_length: resp.map(|r| r.header_length),
            content_length: resp.and_then(|r| r.content_length),
            content_type: resp.and_then(|r| r.content_type.clone()),
            content_encoding: resp.and_then(|r| r.content_encoding.clone()),
            chunked: resp.is_some_and(|r| r.chunked),
            body_bytes: resp.map_or(0, |r| r.body_bytes),
            not_captured_bytes: resp.map_or(0, |r| r.not_captured_bytes),
            complete: req.is_none_or(|r| r.complete) && resp.is_some_and(|r| r.complete),
            response_head_missing: t.response_head_missing,
            request_ts_ns: req.map(|r| r.ts_start_ns),
            time_to_first_byte_ns: req
                .zip(resp)
                .map(|(q, r)| r.ts_first_byte_ns - q.ts_start_ns),
            transfer_ns: resp.map(|r| r.ts_last_byte_ns - r.ts_first_byte_ns),
            request: t.request,
            response: t.response,
        }
    }
}
