//! The send log: one event per `write()` the server makes for a response, one record
//! per request answered and one per connection as it closes, with what the server's
//! kernel measured of its sending; kept in memory for tests and the labs, and written as
//! JSON Lines for `--log`.
//!
//! Times are CLOCK_REALTIME nanoseconds since the Unix epoch, the clock libpcap stamps
//! packets with on Linux, so sends line up with a capture of the same connection.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

use crate::analysis::lab_run::SenderTimes;

/// Which part of a response a write carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    /// The status line and headers.
    Head,
    /// Body bytes, including chunk framing for a chunked body.
    Body,
}

/// One `write()` on a connection's socket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SendEvent {
    /// Connection number, from 0 in order of accept.
    pub conn: u64,
    /// Request number on the connection, from 0.
    pub request: u64,
    pub part: Part,
    /// When the call started: nanoseconds since the Unix epoch (CLOCK_REALTIME).
    pub ts_ns: i64,
    /// Bytes handed to `write()`.
    pub asked: u64,
    /// Bytes it accepted (0 when it failed).
    pub written: u64,
    /// How long the call took: the time it blocked waiting for room in the send buffer.
    pub blocked_ns: u64,
    /// The error the call returned, if any (`EPIPE`, `ECONNRESET`, a timeout).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One request and how it was answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Exchange {
    pub conn: u64,
    pub request: u64,
    pub peer: SocketAddr,
    /// The request line as received.
    pub request_line: String,
    pub status: u16,
    /// `Content-Length` sent, or `None` for chunked and close-delimited bodies.
    pub content_length: Option<u64>,
    /// Body bytes written (chunk framing excluded).
    pub body_bytes: u64,
    /// Whether every body byte was written.
    pub complete: bool,
    /// Writes made for the body.
    pub sends: u64,
    /// Total time those writes blocked.
    pub blocked_ns: u64,
    /// When the response started and when its last write returned (CLOCK_REALTIME ns).
    pub start_ns: i64,
    pub end_ns: i64,
}

/// A connection as the server closes it, and what its kernel measured of the sending.
///
/// Read after the connection's last exchange, right before the socket is closed: for a
/// response that closes the connection, after the client's FIN (the server waits for it
/// up to the idle timeout). By then the client has acknowledged every byte, so the
/// kernel's chronographs have stopped and the figures are whole; read when the last
/// `write()` returns, they would miss what was still in the send buffer, often the whole
/// body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConnectionClose {
    pub conn: u64,
    pub peer: SocketAddr,
    /// When the connection was set up, as its `connection` line says (CLOCK_REALTIME ns).
    pub opened_ns: i64,
    /// When the figures were read (CLOCK_REALTIME ns).
    pub ts_ns: i64,
    /// `TCP_INFO`'s `tcpi_busy_time`, `tcpi_rwnd_limited` and `tcpi_sndbuf_limited`;
    /// `None` (`null`) from a kernel older than Linux 4.10.
    pub tcp_info: Option<SenderTimes>,
}

/// A line of the `--log` file.
#[derive(Debug, Serialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub(crate) enum Record<'a> {
    /// The first line: what this server run was.
    Server {
        version: &'static str,
        url: &'a str,
        root: Option<&'a Path>,
        rate_bytes_per_s: Option<u64>,
        sndbuf_asked: Option<usize>,
        /// What Linux sets for it on each connection.
        sndbuf_set: Option<usize>,
        clock: &'static str,
        ts_ns: i64,
    },
    /// A connection was accepted.
    Connection {
        conn: u64,
        peer: SocketAddr,
        local: SocketAddr,
        /// SO_SNDBUF as Linux set it (it doubles what is asked).
        sndbuf: usize,
        ts_ns: i64,
    },
    Send(&'a SendEvent),
    Response(&'a Exchange),
    Close(&'a ConnectionClose),
}

/// The `--log` file: JSON Lines, each line written whole and flushed, so a server killed
/// with Ctrl-C leaves no half line.
pub(crate) struct LogFile {
    out: Mutex<BufWriter<File>>,
}

impl LogFile {
    pub(crate) fn create(path: &Path) -> std::io::Result<LogFile> {
        Ok(LogFile {
            out: Mutex::new(BufWriter::new(crate::atomic_file::create_new(path)?)),
        })
    }

    /// Appends one record. A write error is reported once per call on stderr and the
    /// server goes on: losing the log must not stop the lab.
    pub(crate) fn write(&self, record: &Record<'_>) {
        let mut line = match serde_json::to_vec(record) {
            Ok(line) => line,
            Err(e) => {
                eprintln!("recvscope: cannot encode a log record: {e}");
                return;
            }
        };
        line.push(b'\n');
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = out.write_all(&line).and_then(|()| out.flush()) {
            eprintln!("recvscope: cannot write the send log: {e}");
        }
    }
}

/// The stderr line for one request, as in
/// `127.0.0.1:40312 "GET /cover3.jpg HTTP/1.0" 200 71234 bytes in 12 sends, blocked 1.8 s`.
pub(crate) fn summary(x: &Exchange) -> String {
    let sends = if x.sends == 1 { "send" } else { "sends" };
    let cut = if x.complete {
        ""
    } else {
        " (client left early)"
    };
    format!(
        "{} {:?} {} {} bytes{cut} in {} {sends}, blocked {}",
        x.peer,
        x.request_line,
        x.status,
        x.body_bytes,
        x.sends,
        human_duration(Duration::from_nanos(x.blocked_ns)),
    )
}

fn human_duration(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{:.1} s", d.as_secs_f64())
    } else if d >= Duration::from_millis(1) {
        format!("{:.1} ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{} µs", d.as_micros())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange() -> Exchange {
        Exchange {
            conn: 3,
            request: 0,
            peer: "127.0.0.1:40312".parse().unwrap(),
            request_line: "GET /cover3.jpg HTTP/1.0".into(),
            status: 200,
            content_length: Some(71234),
            body_bytes: 71234,
            complete: true,
            sends: 12,
            blocked_ns: 1_800_000_000,
            start_ns: 1,
            end_ns: 2,
        }
    }

    #[test]
    fn summary_line_reads_like_an_access_log() {
        assert_eq!(
            summary(&exchange()),
            r#"127.0.0.1:40312 "GET /cover3.jpg HTTP/1.0" 200 71234 bytes in 12 sends, blocked 1.8 s"#
        );
        let x = Exchange {
            sends: 1,
            blocked_ns: 2_345_000,
            complete: false,
            ..exchange()
        };
        assert!(summary(&x).ends_with("bytes (client left early) in 1 send, blocked 2.3 ms"));
        assert_eq!(human_duration(Duration::from_nanos(41_000)), "41 µs");
    }

    #[test]
    fn records_are_tagged_json_lines() {
        let ev = SendEvent {
            conn: 1,
            request: 2,
            part: Part::Body,
            ts_ns: 5,
            asked: 16384,
            written: 8192,
            blocked_ns: 7,
            error: None,
        };
        let json = serde_json::to_string(&Record::Send(&ev)).unwrap();
        assert_eq!(
            json,
            r#"{"event":"send","conn":1,"request":2,"part":"body","ts_ns":5,"asked":16384,"written":8192,"blocked_ns":7}"#
        );
        let x = exchange();
        let v: serde_json::Value = serde_json::to_value(Record::Response(&x)).unwrap();
        assert_eq!(v["event"], "response");
        assert_eq!(v["peer"], "127.0.0.1:40312");
        let close = ConnectionClose {
            conn: 3,
            peer: "127.0.0.1:40312".parse().unwrap(),
            opened_ns: 8,
            ts_ns: 9,
            tcp_info: Some(SenderTimes {
                busy_us: 250_000,
                rwnd_limited_us: 240_000,
                sndbuf_limited_us: 0,
            }),
        };
        assert_eq!(
            serde_json::to_string(&Record::Close(&close)).unwrap(),
            r#"{"event":"close","conn":3,"peer":"127.0.0.1:40312","opened_ns":8,"ts_ns":9,"tcp_info":{"busy_us":250000,"rwnd_limited_us":240000,"sndbuf_limited_us":0}}"#
        );
        let old_kernel = ConnectionClose {
            tcp_info: None,
            ..close
        };
        let v = serde_json::to_value(Record::Close(&old_kernel)).unwrap();
        assert_eq!(v["tcp_info"], serde_json::Value::Null);
    }

    #[test]
    fn log_file_holds_one_record_per_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("send.jsonl");
        let log = LogFile::create(&path).unwrap();
        let x = exchange();
        log.write(&Record::Response(&x));
        log.write(&Record::Response(&x));
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.ends_with('\n'));
    }
}
