//! Reports: the JSON document and the terminal text.

pub mod recvs;
pub mod text;

use std::path::Path;

use serde::Serialize;

use crate::analyze::Report;
use crate::correlate::RecvRow;
use crate::extract::SavedBody;

/// The `replay --json` document for one file.
#[derive(Serialize)]
pub struct JsonReport<'a> {
    pub file: String,
    #[serde(flatten)]
    pub report: &'a Report,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extracted: Option<&'a [SavedBody]>,
    /// The recv log found beside the capture, and its correlation.
    #[serde(skip_serializing_if = "Option::is_none", flatten)]
    pub recvs: Option<&'a Recvs>,
}

/// A capture's recv log, correlated with its connection.
#[derive(Serialize)]
pub struct Recvs {
    pub recv_log: String,
    /// When the request was sent: the origin of every recv's `t_ns`.
    #[serde(skip)]
    pub request_ts_ns: i64,
    /// The connection the log belongs to.
    pub recv_connection: Option<u64>,
    pub recvs: Vec<RecvRow>,
    pub explanation: Vec<String>,
}

pub fn json<'a>(
    file: &Path,
    report: &'a Report,
    saved: Option<&'a [SavedBody]>,
    recvs: Option<&'a Recvs>,
) -> JsonReport<'a> {
    JsonReport {
        file: file.display().to_string(),
        report,
        extracted: saved,
        recvs,
    }
}
