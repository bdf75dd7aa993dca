//! **Pipeline: in-order bytes → `recvscope-http` → HTTP exchanges.** Fed by
//! recvscope-analysis with each connection's reassembled streams.
//!
//! HTTP/1.x conversation parser over the two reassembled byte streams of
//! one TCP connection.
//!
//! Pure and incremental: the caller pushes in-order chunks ([`Conversation::data`]),
//! notices of bytes not in the capture ([`Conversation::gap`]: lost, or
//! seen on the wire and not kept by the snaplen, which still counts as
//! seen) and closes
//! ([`Conversation::close`]) for each [`Side`]; bodies stream out to a
//! [`BodySink`] and [`Conversation::finish`] returns the transactions.
//! Message framing follows RFC 9112 §6.3. Memory is bounded by [`Limits`]
//! (plus the records themselves): bodies are never buffered, and work is
//! linear in the input.
//!
//! The two sides are expected to be fed interleaved in capture (timestamp)
//! order, since responses pair with the requests seen before them.
//!
//! Resynchronisation: at the start of the capture, after a gap between
//! messages or inside a head or chunk framing, and after unparseable data,
//! a side skips whole chunks until one begins with a valid start line
//! (`HTTP/1.d ddd` from the server, `METHOD target HTTP/1.d` from the
//! client; a start line may continue into the following chunks). Skipped
//! bytes are counted in one warning per episode.
//!
//! Warnings are data ([`HttpWarning`]): the words for them are the renderer's.
//!
//! Layout: `types` holds the public records and the sink; `warning` the
//! warnings; `start_line`
//! recognises message starts; `head` parses a buffered head; `chunked`
//! decodes the chunked coding; `direction` is one side's state machine
//! (head phase, body phase); `conversation` pairs the two sides.

#![warn(unreachable_pub)]

mod chunked;
mod conversation;
mod direction;
mod head;
mod start_line;
#[cfg(test)]
mod tests;
mod types;
mod warning;

pub use conversation::Conversation;
pub use start_line::sender_role;
pub use types::{
    BodySink, Gap, HttpSummary, Limits, NoBodies, Request, Response, Side, Transaction,
};
pub use warning::{Broken, Cut, HttpWarning, SkipReason};
