//! Reports: the JSON document and the terminal text.

pub mod text;

use std::path::Path;

use serde::Serialize;

use crate::analyze::Report;
use crate::extract::SavedBody;

/// The `replay --json` document for one file.
#[derive(Serialize)]
pub struct JsonReport<'a> {
    pub file: String,
    #[serde(flatten)]
    pub report: &'a Report,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extracted: Option<&'a [SavedBody]>,
}

pub fn json<'a>(file: &Path, report: &'a Report, saved: Option<&'a [SavedBody]>) -> JsonReport<'a> {
    JsonReport {
        file: file.display().to_string(),
        report,
        extracted: saved,
    }
}
