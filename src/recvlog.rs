//! The recv log: what the application saw, one JSON line per `recv()`,
//! saved beside the capture as `NAME.recv.jsonl` so replay can correlate
//! it again. The first line describes the run.
//!
//! Times are CLOCK_REALTIME nanoseconds since the Unix epoch, the clock
//! libpcap stamps packets with on Linux, so recvs and frames share one axis.
//!
//! A log is checked as it is read (indices in order, bytes within what was
//! asked, totals that add up, a return after the call) and against its
//! capture's span ([`RecvLog::check_span`]), so a hostile or damaged log is
//! refused with the line at fault instead of correlated into nonsense.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::analysis::{CaptureSpan, CaptureWarning, LogTime, RecvFault, RecvLogProblem};
pub use crate::analysis::{Rcvbuf, RecvEvent, TcpInfo};

/// Marks the first line of a recv log.
pub const KIND: &str = "recvscope recv log";

/// The first line: how the run was made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInfo {
    pub kind: String,
    /// recvscope version that wrote it.
    pub version: String,
    pub url: String,
    /// The request as sent (text).
    pub request: String,
    /// Local and remote endpoints, `addr:port`.
    pub client: String,
    pub server: String,
    /// Bytes asked of each recv().
    pub recv_size: usize,
    /// Sleep before each recv() after the first.
    pub delay_ns: u64,
    pub rcvbuf: Rcvbuf,
    /// Always `CLOCK_REALTIME`.
    pub clock: String,
    /// When the request was sent.
    pub request_ts_ns: i64,
}

/// A complete recv log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecvLog {
    pub run: RunInfo,
    pub recvs: Vec<RecvEvent>,
}

/// Why a recv log could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: line {line}: not a recvscope recv log line ({why})")]
    Format {
        path: PathBuf,
        line: usize,
        why: String,
    },
    #[error("{}: line {line}: {}", path.display(), crate::report::findings::recv_fault(fault))]
    Invalid {
        path: PathBuf,
        line: usize,
        fault: RecvFault,
    },
    #[error("{}: it is {what}, not a recv log file", path.display())]
    NotAFile { path: PathBuf, what: &'static str },
    #[error("{}: line {line}: longer than {MAX_LINE} bytes, which no recv log line is", path.display())]
    LineTooLong { path: PathBuf, line: usize },
}

/// The longest line a recv log may have: a recv line is about 300 bytes,
/// the run line under 1 KiB; a longer one is not a recv log, and is never
/// read whole.
pub const MAX_LINE: usize = 64 * 1024;

impl LogError {
    /// The warning a replay gives for a log it leaves out for this error.
    pub fn warning(&self) -> CaptureWarning {
        let (path, line, problem) = match self {
            LogError::Io { path, source } => (
                path,
                None,
                RecvLogProblem::Unreadable {
                    reason: source.to_string(),
                },
            ),
            LogError::Format { path, line, why } => (
                path,
                Some(*line),
                RecvLogProblem::NotARecvLog {
                    reason: why.clone(),
                },
            ),
            LogError::Invalid { path, line, fault } => {
                (path, Some(*line), RecvLogProblem::Invalid { fault: *fault })
            }
            LogError::NotAFile { path, what } => (path, None, RecvLogProblem::NotAFile { what }),
            LogError::LineTooLong { path, line } => (
                path,
                Some(*line),
                RecvLogProblem::LineTooLong { limit: MAX_LINE },
            ),
        };
        CaptureWarning::RecvLogIgnored {
            file: path.display().to_string(),
            line,
            problem,
        }
    }
}

/// The recv log that belongs to a capture: `NAME.recv.jsonl` for `NAME.pcap`.
pub fn path_for(capture: &Path) -> PathBuf {
    let stem = capture.file_stem().unwrap_or_default().to_string_lossy();
    capture.with_file_name(format!("{stem}.recv.jsonl"))
}

/// Reads a recv log line by line, each checked as it comes; a last line
/// cut short by an interrupted run (no line break, its JSON unfinished) is
/// dropped. Only a regular file is read (a pipe or a device, even behind a
/// link, is refused before a byte is read), and no line past [`MAX_LINE`].
pub fn read(path: &Path) -> Result<RecvLog, LogError> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let io = |source| LogError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(io)?;
    let kind = file.metadata().map_err(io)?.file_type();
    if let Some(what) = crate::file_kind::not_a_file(kind) {
        return Err(LogError::NotAFile {
            path: path.to_path_buf(),
            what,
        });
    }
    let format = |line: usize, why: String| LogError::Format {
        path: path.to_path_buf(),
        line,
        why,
    };
    let mut reader = std::io::BufReader::new(file);
    let mut buf = Vec::new();
    let mut next_line = |buf: &mut Vec<u8>, line: usize| -> Result<Option<bool>, LogError> {
        buf.clear();
        let n = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', buf)
            .map_err(io)?;
        let ended = buf.last() == Some(&b'\n');
        if ended {
            buf.pop();
        } else if n > MAX_LINE {
            return Err(LogError::LineTooLong {
                path: path.to_path_buf(),
                line,
            });
        }
        Ok((n > 0).then_some(ended))
    };
    if next_line(&mut buf, 1)?.is_none() {
        return Err(format(1, "empty file".into()));
    }
    let run: RunInfo = serde_json::from_slice(&buf).map_err(|e| format(1, e.to_string()))?;
    if run.kind != KIND {
        return Err(format(1, format!("kind is {:?}", run.kind)));
    }
    let mut recvs: Vec<RecvEvent> = Vec::new();
    let mut line = 1;
    loop {
        line += 1;
        let Some(ended) = next_line(&mut buf, line)? else {
            break;
        };
        match serde_json::from_slice::<RecvEvent>(&buf) {
            Ok(ev) => {
                if let Some(fault) = ev.fault(recvs.last()) {
                    return Err(LogError::Invalid {
                        path: path.to_path_buf(),
                        line,
                        fault,
                    });
                }
                recvs.push(ev);
            }
            Err(e) if !ended && e.is_eof() => break,
            Err(e) => return Err(format(line, e.to_string())),
        }
    }
    Ok(RecvLog { run, recvs })
}

impl RecvLog {
    /// Checks the log's times against the capture's first and last frame:
    /// the request and every recv within [`crate::analysis::CAPTURE_MARGIN_NS`]
    /// of them. `path` is the log's, for the error.
    pub fn check_span(&self, path: &Path, span: CaptureSpan) -> Result<(), LogError> {
        let request = (1, LogTime::Request, self.run.request_ts_ns);
        let recvs = self.recvs.iter().enumerate().flat_map(|(k, r)| {
            [
                (k + 2, LogTime::Start, r.start_ns),
                (k + 2, LogTime::End, r.end_ns),
            ]
        });
        std::iter::once(request)
            .chain(recvs)
            .find_map(|(line, which, ts)| span.fault(which, ts).map(|fault| (line, fault)))
            .map_or(Ok(()), |(line, fault)| {
                Err(LogError::Invalid {
                    path: path.to_path_buf(),
                    line,
                    fault,
                })
            })
    }
}

/// Writes a recv log line by line, flushing each, so an interrupted run
/// leaves every recv made so far.
pub struct LogWriter {
    out: std::fs::File,
}

impl LogWriter {
    /// Creates the file, never over an existing one (a recv log belongs
    /// beside its own run's capture only), and writes the run line.
    pub fn create(path: &Path, run: &RunInfo) -> std::io::Result<LogWriter> {
        let mut w = LogWriter {
            out: crate::atomic_file::create_new(path)?,
        };
        w.line(run)?;
        Ok(w)
    }

    pub fn recv(&mut self, ev: &RecvEvent) -> std::io::Result<()> {
        self.line(ev)
    }

    fn line<T: Serialize>(&mut self, v: &T) -> std::io::Result<()> {
        let mut buf = serde_json::to_vec(v)?;
        buf.push(b'\n');
        self.out.write_all(&buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn run_info() -> RunInfo {
        RunInfo {
            kind: KIND.into(),
            version: "0".into(),
            url: "http://127.0.0.1:8080/cover3.jpg".into(),
            request: "GET http://127.0.0.1:8080/cover3.jpg HTTP/1.0\r\n\r\n".into(),
            client: "127.0.0.1:40000".into(),
            server: "127.0.0.1:8080".into(),
            recv_size: 5120,
            delay_ns: 250_000_000,
            rcvbuf: Rcvbuf {
                asked: Some(4096),
                given: 8192,
            },
            clock: "CLOCK_REALTIME".into(),
            request_ts_ns: 1_000,
        }
    }

    fn ev(index: u64) -> RecvEvent {
        RecvEvent {
            index,
            start_ns: 2_000 + index as i64,
            end_ns: 3_000 + index as i64,
            asked: 5120,
            bytes: 5120,
            total: 5120 * (index + 1),
            queued_before: Some(8000),
            tcp_info: None,
        }
    }

    #[test]
    fn log_round_trips_and_sits_beside_its_capture() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_for(&dir.path().join("run.pcap"));
        assert_eq!(path, dir.path().join("run.recv.jsonl"));
        let mut w = LogWriter::create(&path, &run_info()).unwrap();
        w.recv(&ev(0)).unwrap();
        w.recv(&ev(1)).unwrap();
        let log = read(&path).unwrap();
        assert_eq!(log.run, run_info());
        assert_eq!(log.recvs, vec![ev(0), ev(1)]);
    }

    #[test]
    fn a_log_is_never_written_over_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.recv.jsonl");
        std::fs::write(&path, "another run's log\n").unwrap();
        let e = LogWriter::create(&path, &run_info()).err().unwrap();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "another run's log\n"
        );
    }

    #[test]
    fn a_last_line_cut_by_an_interrupt_is_dropped_but_garbage_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.recv.jsonl");
        let mut text = serde_json::to_string(&run_info()).unwrap();
        text.push('\n');
        text.push_str(&serde_json::to_string(&ev(0)).unwrap());
        text.push_str("\n{\"index\":1,\"sta");
        std::fs::write(&path, &text).unwrap();
        assert_eq!(read(&path).unwrap().recvs, vec![ev(0)]);
        std::fs::write(&path, "hello\n").unwrap();
        let e = read(&path).unwrap_err().to_string();
        assert!(e.contains("line 1: not a recvscope recv log line"), "{e}");
    }

    #[test]
    fn the_run_line_names_the_receive_buffer_asked_and_given_and_reads_the_older_names() {
        let line = serde_json::to_value(run_info()).unwrap();
        assert_eq!(
            line["rcvbuf"],
            serde_json::json!({"asked": 4096, "given": 8192})
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.recv.jsonl");
        let old = serde_json::to_string(&run_info()).unwrap().replace(
            r#""asked":4096,"given":8192"#,
            r#""requested":4096,"effective":8192"#,
        );
        assert!(old.contains(r#""effective":8192"#), "{old}");
        std::fs::write(&path, old + "\n").unwrap();
        assert_eq!(read(&path).unwrap().run.rcvbuf, run_info().rcvbuf);
    }
}
