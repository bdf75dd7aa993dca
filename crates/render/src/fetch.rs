//! `recvscope fetch`'s words: the line before the download, the book's
//! `size total` line per recv, the header and the capture's lines after
//! it, and the warning about an answer that is not a success.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use recvscope_analysis::correlate::RecvRow;
use recvscope_analysis::lab_guide::HeadArithmetic;
use recvscope_analysis::{ConnectionSummary, Rcvbuf};
use recvscope_http::Broken;
use recvscope_wire::WireText;

use crate::shown::{shown, shown_lines};

/// A finished download, as the report after the book's lines tells it.
pub struct Download<'a> {
    /// Bytes before the blank line, as the book prints it.
    pub header_length: u64,
    /// The header, as the server sent it.
    pub header: &'a WireText,
    /// Where the body went, when it was kept.
    pub saved_to: Option<&'a Path>,
    pub body_bytes: u64,
    pub rows: &'a [RecvRow],
    pub connection: Option<&'a ConnectionSummary>,
    pub explanation: &'a [String],
    /// `None` without a capture.
    pub capture: Option<Capture<'a>>,
}

/// What the capture of a download did.
pub struct Capture<'a> {
    /// Frames captured.
    pub packets: u64,
    pub interface: &'a str,
    /// Frames the kernel dropped (`None`: unknown).
    pub dropped: Option<u32>,
    /// Bytes kept of each frame; 0: whole frames.
    pub snaplen: u32,
    /// The first thing that went wrong while the capture ran, if any.
    pub trouble: Option<CaptureTrouble<'a>>,
    /// The saved capture and recv log, when saved.
    pub saved: Option<(&'a Path, &'a Path)>,
}

/// What went wrong in a capture that started, with libpcap's reason.
pub enum CaptureTrouble<'a> {
    /// Writing the capture file failed: the file ends early; the report,
    /// made from every frame, is whole.
    FileWrite { path: &'a Path, error: &'a str },
    /// libpcap stopped delivering frames: the wire view ends there.
    Stopped { error: &'a str },
}

/// The warning line for `t`: what failed, and what it means for the run.
pub fn capture_trouble(t: &CaptureTrouble<'_>) -> String {
    match t {
        CaptureTrouble::FileWrite { path, error } => format!(
            "warning: writing the capture file {} failed ({error}): the file stops early, so `recvscope replay` of it shows less than this report, which saw every frame",
            path.display()
        ),
        CaptureTrouble::Stopped { error } => format!(
            "warning: the capture stopped early ({error}): the wire view above ends there; the download itself went on"
        ),
    }
}

/// Without a URL: where the built-in image comes from.
pub fn no_url(server: SocketAddr) -> String {
    format!(
        "No URL given: fetching the built-in image from a lab server on {server} (like `recvscope serve`)."
    )
}

/// The line before the download: the endpoints, the recv size and delay,
/// the receive buffer.
pub fn opening(
    out: &mut dyn Write,
    client: SocketAddr,
    peer: SocketAddr,
    recv_size: u32,
    delay: Option<Duration>,
    rcvbuf: Rcvbuf,
) -> io::Result<()> {
    writeln!(
        out,
        "{client} -> {peer}  recv({recv_size}){}, receive buffer {}",
        delay.map_or(String::new(), |d| format!(" every {} ms", d.as_millis())),
        describe_rcvbuf(rcvbuf)
    )
}

/// The book's line for one recv that returned data: its size and the
/// running total.
pub fn book_line(out: &mut dyn Write, bytes: usize, total: u64) -> io::Result<()> {
    writeln!(out, "{bytes} {total}")
}

/// The book's arithmetic, and whether it meets the last running total.
pub fn head_arithmetic(a: &HeadArithmetic) -> String {
    let total = if a.holds() {
        "the last running total".to_string()
    } else {
        format!("but the last running total is {}", a.last_total)
    };
    let blank = if a.blank_line == 4 {
        "\\r\\n\\r\\n"
    } else {
        "\\n\\n"
    };
    format!(
        "Header Length {} + {} (the {blank} that ends the head) + body {} = {}, {total}.",
        a.header_length,
        a.blank_line,
        a.body_bytes,
        a.sum()
    )
}

/// The text report after the book's lines.
pub fn report(out: &mut dyn Write, d: &Download<'_>) -> io::Result<()> {
    writeln!(out, "\n{}", book_header(d.header_length, d.header))?;
    if let Some(p) = d.saved_to {
        writeln!(
            out,
            "\nSaved {} body bytes to {}",
            d.body_bytes,
            p.display()
        )?;
    }
    crate::recvs::write(out, d.rows, d.connection, d.explanation)?;
    if let Some(c) = &d.capture {
        capture_lines(out, c)?;
    }
    Ok(())
}

/// The book's `Header Length N` line and the header under it, a line
/// per header line.
pub(crate) fn book_header(header_length: u64, header: &WireText) -> String {
    format!("Header Length {header_length}\n{}", shown_lines(header))
}

/// The warning after a fetch the server did not answer with a success.
pub fn status_warning(status: u16, reason: &WireText) -> String {
    format!(
        "recvscope: warning: the server answered {status} {}",
        shown(reason)
    )
}

/// The error of a body shorter than its Content-Length: how much came,
/// and where the partial body is (`None`: nothing was kept).
pub fn short_body(body_bytes: u64, content_length: u64, saved_to: Option<&Path>) -> String {
    format!(
        "the body is shorter than its Content-Length: {body_bytes} of {content_length} bytes{}",
        kept(saved_to)
    )
}

/// The error of a chunked body that did not reach its last chunk: where
/// the framing broke (`why`, when the parser says), or that the server
/// closed first, and where the partial body is.
pub fn broken_chunks(why: Option<&Broken>, body_bytes: u64, saved_to: Option<&Path>) -> String {
    let what = match why {
        Some(b) => format!(
            "the chunked framing is broken after {body_bytes} body bytes: {}",
            crate::http_words::broken(b, None)
        ),
        None => format!(
            "the chunked body stops after {body_bytes} bytes: the server closed the connection before the last (zero-size) chunk"
        ),
    };
    format!("{what}{}", kept(saved_to))
}

/// The warning after a reply that went on past its body's end: `extra`
/// bytes after the Content-Length (`None`: after the last chunk).
pub fn extra_bytes_warning(extra: u64, content_length: Option<u64>) -> String {
    let past = match content_length {
        Some(n) => format!("more than its Content-Length of {n}"),
        None => "after the last chunk".to_string(),
    };
    format!(
        "recvscope: warning: the server sent {extra} bytes {past}; they are not part of the body and were not saved"
    )
}

/// Where a partial body is, after an error that ends the run.
pub fn partial_kept(path: &Path) -> String {
    format!("; the partial body is in {}", path.display())
}

/// Where the wire of a run that failed is, after the error: the capture
/// file, unless writing it failed too (`write_error`), when it holds less.
pub fn wire_kept(path: &Path, write_error: Option<&str>) -> String {
    match write_error {
        None => format!(
            "; the wire so far is in {} (recvscope replay shows it)",
            path.display()
        ),
        Some(error) => format!(
            "; writing the capture {} failed too ({error}): it holds less of the wire than was seen, perhaps none",
            path.display()
        ),
    }
}

fn kept(saved_to: Option<&Path>) -> String {
    saved_to.map_or_else(String::new, partial_kept)
}

fn describe_rcvbuf(r: Rcvbuf) -> String {
    match r.asked {
        Some(asked) => format!("{asked} asked, {} given by Linux", r.given),
        None => format!("{} (kernel default, autotuned)", r.given),
    }
}

fn capture_lines(out: &mut dyn Write, c: &Capture<'_>) -> io::Result<()> {
    let dropped = match c.dropped {
        Some(0) => "0 dropped by the kernel".to_string(),
        Some(n) => format!("{n} DROPPED by the kernel: the wire view is incomplete"),
        None => "kernel drops unknown".to_string(),
    };
    writeln!(
        out,
        "\ncapture: {} packets on {}, {dropped}",
        c.packets, c.interface
    )?;
    if c.snaplen != 0 {
        writeln!(
            out,
            "  frames were kept to {} bytes: payload past that is counted as not captured (the body above is the application's); --snaplen 0 keeps whole frames",
            c.snaplen
        )?;
    }
    if let Some(t) = &c.trouble {
        writeln!(out, "  {}", capture_trouble(t))?;
    }
    if let Some((pcap, log)) = c.saved {
        let again = match c.trouble {
            Some(CaptureTrouble::FileWrite { .. }) => "the part of this run the file holds",
            _ => "this run again",
        };
        writeln!(
            out,
            "saved {} and {}; `recvscope replay {}` shows {again}",
            pcap.display(),
            log.display(),
            pcap.display()
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_head_arithmetic_says_whether_it_meets_the_last_total() {
        let book = HeadArithmetic {
            header_length: 242,
            blank_line: 4,
            body_bytes: 70057,
            last_total: 70303,
        };
        assert_eq!(
            head_arithmetic(&book),
            "Header Length 242 + 4 (the \\r\\n\\r\\n that ends the head) + body 70057 = 70303, the last running total."
        );
        assert!(
            head_arithmetic(&HeadArithmetic {
                body_bytes: 70000,
                ..book
            })
            .ends_with("= 70246, but the last running total is 70303.")
        );
    }

    use super::*;

    fn text(f: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        f(&mut out).expect("writes to memory");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn the_opening_line_says_what_the_kernel_chose() {
        let client: SocketAddr = "127.0.0.1:40000".parse().expect("addr");
        let peer: SocketAddr = "127.0.0.1:8080".parse().expect("addr");
        let asked = Rcvbuf {
            asked: Some(4096),
            given: 8192,
        };
        assert_eq!(
            text(|o| opening(
                o,
                client,
                peer,
                5120,
                Some(Duration::from_millis(250)),
                asked
            )),
            "127.0.0.1:40000 -> 127.0.0.1:8080  recv(5120) every 250 ms, receive buffer 4096 asked, 8192 given by Linux\n"
        );
        let default = Rcvbuf {
            asked: None,
            given: 131072,
        };
        assert_eq!(
            text(|o| opening(o, client, peer, 5120, None, default)),
            "127.0.0.1:40000 -> 127.0.0.1:8080  recv(5120), receive buffer 131072 (kernel default, autotuned)\n"
        );
    }

    #[test]
    fn a_short_body_says_where_the_part_that_came_is() {
        assert_eq!(
            short_body(10, 20, Some(Path::new("x.jpg.partial"))),
            "the body is shorter than its Content-Length: 10 of 20 bytes; the partial body is in x.jpg.partial"
        );
        assert_eq!(
            short_body(0, 20, None),
            "the body is shorter than its Content-Length: 0 of 20 bytes"
        );
    }

    #[test]
    fn capture_trouble_says_what_failed_and_what_it_means_for_the_run() {
        assert_eq!(
            capture_trouble(&CaptureTrouble::FileWrite {
                path: Path::new("runs/x.pcap"),
                error: "No space left on device"
            }),
            "warning: writing the capture file runs/x.pcap failed (No space left on device): the file stops early, so `recvscope replay` of it shows less than this report, which saw every frame"
        );
        assert_eq!(
            capture_trouble(&CaptureTrouble::Stopped {
                error: "The interface disappeared"
            }),
            "warning: the capture stopped early (The interface disappeared): the wire view above ends there; the download itself went on"
        );
    }

    #[test]
    fn broken_chunks_say_where_the_framing_broke() {
        assert_eq!(
            broken_chunks(
                Some(&Broken::InvalidChunkSize),
                5,
                Some(Path::new("c.partial"))
            ),
            "the chunked framing is broken after 5 body bytes: invalid chunk size; the partial body is in c.partial"
        );
        assert_eq!(
            broken_chunks(None, 7, None),
            "the chunked body stops after 7 bytes: the server closed the connection before the last (zero-size) chunk"
        );
    }

    #[test]
    fn bytes_past_the_body_are_a_warning_that_counts_them() {
        assert_eq!(
            extra_bytes_warning(3, Some(2)),
            "recvscope: warning: the server sent 3 bytes more than its Content-Length of 2; they are not part of the body and were not saved"
        );
        assert_eq!(
            extra_bytes_warning(4, None),
            "recvscope: warning: the server sent 4 bytes after the last chunk; they are not part of the body and were not saved"
        );
    }

    #[test]
    fn capture_lines_say_whether_the_wire_view_is_whole() {
        let c = Capture {
            packets: 12,
            interface: "lo",
            dropped: Some(3),
            snaplen: 96,
            trouble: None,
            saved: Some((Path::new("a.pcap"), Path::new("a.recv.jsonl"))),
        };
        let t = text(|o| capture_lines(o, &c));
        assert!(
            t.starts_with(
                "\ncapture: 12 packets on lo, 3 DROPPED by the kernel: the wire view is incomplete\n  frames were kept to 96 bytes"
            ),
            "{t}"
        );
        assert!(
            t.ends_with(
                "saved a.pcap and a.recv.jsonl; `recvscope replay a.pcap` shows this run again\n"
            ),
            "{t}"
        );
    }
}
