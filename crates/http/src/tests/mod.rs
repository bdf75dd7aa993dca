//! Behaviour of the HTTP/1.x conversation parser, one behaviour per test,
//! in files by theme; this module holds the shared helpers.

use std::collections::HashMap;

use super::{
    BodySink, Broken, Conversation, Cut, Gap, HttpSummary, HttpWarning, Limits, Request, Response,
    Side, SkipReason,
};

mod bodies;
mod exchanges;
mod heads;
mod invariants;
mod resync;

const C: Side = Side::Client;
const S: Side = Side::Server;

/// Collects what the parser streams out.
#[derive(Default, Debug, PartialEq)]
struct Collect {
    bodies: HashMap<(usize, Side), Vec<u8>>,
    ends: Vec<(usize, Side, bool)>,
}

impl BodySink for Collect {
    fn body(&mut self, txn: usize, side: Side, bytes: &[u8]) {
        self.bodies
            .entry((txn, side))
            .or_default()
            .extend_from_slice(bytes);
    }
    fn end(&mut self, txn: usize, side: Side, complete: bool) {
        self.ends.push((txn, side, complete));
    }
}

impl Collect {
    fn body_of(&self, txn: usize, side: Side) -> &[u8] {
        self.bodies.get(&(txn, side)).map_or(&[], Vec::as_slice)
    }
}

fn conv() -> Conversation {
    Conversation::new(Limits::default())
}

fn req(s: &HttpSummary, i: usize) -> &Request {
    s.transactions[i].request.as_ref().expect("request")
}

fn resp(s: &HttpSummary, i: usize) -> &Response {
    s.transactions[i].response.as_ref().expect("response")
}

/// The warning of a resynchronisation on `side` that skipped `bytes`.
fn skipped(side: Side, bytes: u64, why: SkipReason) -> HttpWarning {
    HttpWarning::Skipped { side, bytes, why }
}
