//! The terminal report: connections, their HTTP, flow control, flags.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use recvscope_analysis::{ConnectionSummary, HttpExchange, InterfaceLink, Report};
use recvscope_tcp::Flag;

use crate::facts::connection_facts;
use crate::shown::shown_or_dash;
use crate::units::secs;
use recvscope_wire::Side;

/// One body extraction wrote to disk, as the report lists it.
#[derive(Debug, Clone, Serialize)]
pub struct SavedBody {
    pub connection: u64,
    pub transaction: usize,
    pub side: Side,
    pub path: PathBuf,
    pub bytes: u64,
    pub complete: bool,
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

/// The first line of a capture's report, before its connections: its
/// link type, or each interface's when a pcapng's differ.
pub fn heading(
    out: &mut dyn Write,
    file: &Path,
    link_type: &str,
    interfaces: &[InterfaceLink],
) -> io::Result<()> {
    if interfaces.is_empty() {
        return writeln!(out, "{} (link type {link_type}):", file.display());
    }
    let each: Vec<String> = interfaces
        .iter()
        .map(|i| match i.link_type {
            Some(name) => format!("interface {} {name}", i.interface),
            None => format!(
                "interface {} {} (not supported)",
                i.interface, i.link_type_code
            ),
        })
        .collect();
    writeln!(out, "{} (link types: {}):", file.display(), each.join(", "))
}

/// The end of a capture's report, after its connections: counts,
/// warnings, flag totals, extracted bodies and the packet listing of
/// `list`, the connection `--conn` named.
pub fn tail(
    out: &mut dyn Write,
    r: &Report,
    connections: u64,
    list: Option<&ConnectionSummary>,
    saved: Option<&[SavedBody]>,
) -> io::Result<()> {
    writeln!(
        out,
        "\n{} packets ({} TCP), {connections} TCP connection(s)",
        r.packets, r.tcp_packets,
    )?;
    for w in &r.warnings {
        writeln!(out, "  {}", crate::findings::capture_warning_line(w))?;
    }
    flag_totals(out, r)?;
    if let Some(saved) = saved {
        writeln!(out, "\nExtracted {} HTTP bod(ies):", saved.len())?;
        for b in saved {
            writeln!(
                out,
                "  {}  {} bytes{}",
                b.path.display(),
                b.bytes,
                if b.complete { "" } else { "  (incomplete)" }
            )?;
        }
    }
    if let Some(c) = list {
        packets(out, c, r.first_ts_ns.unwrap_or(0))?;
    }
    Ok(())
}

/// The error of `--conn N` for a capture with `connections` TCP
/// connections (numbered from 0) and none numbered `asked`.
pub fn no_such_connection(file: &Path, connections: u64, asked: u64) -> String {
    let has = match connections {
        0 => "no TCP connection".to_string(),
        1 => "one connection, 0".to_string(),
        n => format!("connections 0–{}", n - 1),
    };
    format!("{} has {has}; there is no --conn {asked}", file.display())
}

pub fn connection(out: &mut dyn Write, c: &ConnectionSummary, t0: i64) -> io::Result<()> {
    writeln!(
        out,
        "\n#{}  {} -> {}  start {} s, {} s, packets {}/{}",
        c.tcp.id,
        c.tcp.client,
        c.tcp.server,
        secs(c.tcp.start_ns - t0),
        secs(c.tcp.duration_ns),
        c.tcp.packets.client,
        c.tcp.packets.server
    )?;
    let facts = connection_facts(c);
    let (warnings, facts): (Vec<_>, Vec<_>) = facts.iter().partition(|f| f.label == "warning");
    for f in facts {
        writeln!(out, "  {}: {}", f.label, f.value)?;
    }
    let flags: Vec<String> = Flag::ALL
        .iter()
        .filter(|f| c.tcp.flags.get(**f) > 0)
        .map(|f| format!("{} {}", f.name(), c.tcp.flags.get(*f)))
        .collect();
    if !flags.is_empty() {
        writeln!(out, "  flags: {}", flags.join(", "))?;
    }
    for x in &c.http {
        writeln!(
            out,
            "  HTTP {} {} {} -> {} {}  header {} B, {}",
            shown_or_dash(x.method.as_ref()),
            shown_or_dash(x.uri.as_ref()),
            shown_or_dash(x.version.as_ref()),
            opt(x.status),
            shown_or_dash(x.content_type.as_ref()),
            opt(x.header_length),
            body_words(x, c.tcp.snaplen)
        )?;
    }
    for w in warnings {
        writeln!(out, "  warning: {}", w.value)?;
    }
    Ok(())
}

/// The body of an exchange: its length, framing, what the snaplen did not
/// keep of it, and whether it was seen to its end.
fn body_words(x: &HttpExchange, snaplen: Option<u32>) -> String {
    let head_cut = x
        .response
        .as_ref()
        .is_some_and(|r| r.header_terminator == 0);
    let mut s = if x.response_head_missing {
        crate::http_words::RESPONSE_HEAD_MISSING.to_string()
    } else if head_cut {
        "body not read (the head was cut short)".to_string()
    } else {
        format!("body {} B", x.body_bytes)
    };
    if let Some(n) = x.content_length {
        s.push_str(&format!(" (Content-Length {n})"));
    }
    if x.chunked {
        s.push_str(", chunked");
    }
    if x.not_captured_bytes > 0 {
        s.push_str(&format!(
            ", {}",
            crate::findings::not_captured(x.not_captured_bytes, snaplen)
        ));
    }
    if !x.complete {
        s.push_str(", INCOMPLETE");
    }
    s
}

fn flag_totals(out: &mut dyn Write, r: &Report) -> io::Result<()> {
    writeln!(out, "\nAnalysis flags (Wireshark's tcp.analysis.*):")?;
    for f in Flag::ALL {
        writeln!(out, "  {:<24} {}", f.name(), r.flags.get(f))?;
    }
    Ok(())
}

fn packets(out: &mut dyn Write, c: &ConnectionSummary, t0: i64) -> io::Result<()> {
    let Some(rows) = &c.packet_list else {
        return Ok(());
    };
    writeln!(
        out,
        "\nConnection #{} packet by packet (relative seq/ack; window in bytes):",
        c.tcp.id
    )?;
    writeln!(
        out,
        "{:>7} {:>12} {:<6} {:<5} {:>10} {:>10} {:>6} {:>9}  analysis",
        "frame", "time", "from", "flags", "seq", "ack", "len", "window"
    )?;
    for p in rows {
        writeln!(
            out,
            "{:>7} {:>12} {:<6} {:<5} {:>10} {:>10} {:>6} {:>9}{}  {}",
            p.frame,
            secs(p.ts_ns - t0),
            p.from,
            p.flags.letters(),
            p.rel_seq,
            opt(p.rel_ack),
            p.len,
            p.window,
            if p.scale_known { " " } else { "?" },
            labels(p.analysis)
        )?;
    }
    Ok(())
}

/// The flags' Info-column labels, space-separated.
fn labels(flags: recvscope_tcp::FlagSet) -> String {
    let labels: Vec<&str> = flags.iter().map(recvscope_tcp::Flag::label).collect();
    labels.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use recvscope_testkit::{Pkt, Trace};

    #[test]
    fn a_conn_out_of_range_names_the_range_the_capture_has() {
        let f = Path::new("F.pcap");
        assert_eq!(
            no_such_connection(f, 4, 999),
            "F.pcap has connections 0–3; there is no --conn 999"
        );
        assert_eq!(
            no_such_connection(f, 1, 1),
            "F.pcap has one connection, 0; there is no --conn 1"
        );
        assert_eq!(
            no_such_connection(f, 0, 0),
            "F.pcap has no TCP connection; there is no --conn 0"
        );
    }

    /// A whole HTTP/1.0 download whose frames a capture kept to 120 bytes
    /// (20 of IP, 20 of TCP, 80 of payload): the head fits, the body not.
    fn header_only_download() -> Trace {
        let head = b"HTTP/1.0 200 OK\r\nContent-Length: 3000\r\n\r\n";
        let mut first = head.to_vec();
        first.resize(1000, b'j');
        let mut t = Trace::new();
        t.push(Pkt::c2s(1000, b"").syn())
            .push(Pkt::s2c(9000, b"").syn().ack(1001))
            .push(Pkt::c2s(1001, b"").ack(9001))
            .snaplen(120)
            .push(Pkt::c2s(1001, b"GET /a.jpg HTTP/1.0\r\n\r\n").ack(9001))
            .push(Pkt::s2c(9001, &first).ack(1024))
            .push(Pkt::s2c(10_001, &[b'j'; 1000]).ack(1024))
            .push(
                Pkt::s2c(11_001, &vec![b'j'; 1000 + head.len()])
                    .ack(1024)
                    .fin(),
            )
            .push(Pkt::c2s(1024, b"").ack(12_043).fin());
        t
    }

    #[test]
    fn a_download_the_snaplen_cut_reads_complete_with_its_bytes_not_captured_and_no_warning() {
        let c = &crate::tests::report(&header_only_download()).connections[0];
        let mut out = Vec::new();
        connection(&mut out, c, c.tcp.start_ns).expect("writes to memory");
        let text = String::from_utf8(out).expect("UTF-8");
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| {
                l.starts_with("  bytes") || l.starts_with("  HTTP") || l.contains("warning")
            })
            .collect();
        assert_eq!(
            lines,
            [
                "  bytes: client->server 23, server->client 3041; seen on the wire, not captured: 0 / 2801 (snaplen 120)",
                "  HTTP GET /a.jpg HTTP/1.0 -> 200 -  header 37 B, body 3000 B (Content-Length 3000), 2801 bytes not captured (snaplen 120)",
            ]
        );
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }
}
