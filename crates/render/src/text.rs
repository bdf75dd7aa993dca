//! The terminal report: connections, their HTTP, flow control, flags.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use recvscope_analysis::{ConnectionSummary, Report};
use recvscope_tcp::Flag;

use crate::facts::connection_facts;
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

/// The first line of a capture's report, before its connections.
pub fn heading(out: &mut dyn Write, file: &Path, link_type: &str) -> io::Result<()> {
    writeln!(out, "{} (link type {link_type}):", file.display())
}

/// The end of a capture's report, after its connections: counts,
/// warnings, flag totals, extracted bodies and the packet listing of
/// connection `list` (found among `r.connections`, the ones kept).
pub fn tail(
    out: &mut dyn Write,
    r: &Report,
    connections: u64,
    list: Option<u64>,
    saved: Option<&[SavedBody]>,
) -> io::Result<()> {
    writeln!(
        out,
        "\n{} packets ({} TCP), {connections} TCP connection(s)",
        r.packets, r.tcp_packets,
    )?;
    for w in &r.warnings {
        writeln!(out, "  warning: {}", crate::findings::capture_warning(w))?;
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
    if let Some(n) = list {
        match r.connections.iter().find(|c| c.tcp.id == n) {
            Some(c) => packets(out, c, r.first_ts_ns.unwrap_or(0))?,
            None => writeln!(out, "\nno connection {n} in this capture")?,
        }
    }
    Ok(())
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
            "  HTTP {} {} {} -> {} {}  header {} B, body {} B{}{}{}",
            opt(x.method.as_deref()),
            opt(x.uri.as_deref()),
            opt(x.version.as_deref()),
            opt(x.status),
            opt(x.content_type.as_deref()),
            opt(x.header_length),
            x.body_bytes,
            x.content_length
                .map_or(String::new(), |n| format!(" (Content-Length {n})")),
            if x.chunked { ", chunked" } else { "" },
            if x.complete {
                ""
            } else if c.tcp.snaplen_cut_bytes.server_to_client
                + c.tcp.snaplen_cut_bytes.client_to_server
                > 0
            {
                ", payload not captured (snaplen)"
            } else {
                ", INCOMPLETE"
            }
        )?;
    }
    for w in warnings {
        writeln!(out, "  warning: {}", w.value)?;
    }
    Ok(())
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
