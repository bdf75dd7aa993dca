//! The guided experiments: what each runs and what it is meant to show,
//! the lab's own text (its names, summaries and what to look for) with the
//! parameters of its runs.

/// One fetch of an experiment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunSpec {
    /// Column heading, e.g. "0.25 s delay".
    pub label: &'static str,
    /// The saved files' name in the lab's directory: `delay.pcap`.
    pub slug: &'static str,
    pub recv_size: u32,
    pub delay_ms: u64,
    /// SO_RCVBUF asked for; `None`: the kernel's autotuned default.
    pub rcvbuf: Option<u64>,
    /// The server paces its body to this many bytes per second.
    pub server_rate: Option<u64>,
    /// The server sends its body as an internet path with this round-trip time
    /// delivers it (`recvscope serve --rtt`).
    pub server_rtt_ms: Option<u64>,
}

/// A guided experiment.
#[derive(Clone, Copy, Debug)]
pub struct Experiment {
    pub name: &'static str,
    /// One line for `lab --list`.
    pub summary: &'static str,
    /// What to look for in the output, a few sentences.
    pub look_for: &'static [&'static str],
    pub runs: &'static [RunSpec],
}

/// The book lab's receive buffer, picked by measurement: with it the delayed run gets
/// 5120 bytes on every recv but the last two and two zero-window stalls, and the
/// undelayed run none (smaller buffers stall more often and break more recvs short;
/// 36 KiB and up hold the whole body and never stall).
const BOOK_RCVBUF: Option<u64> = Some(32 * 1024);

/// Round-trip time of the internet path the book lab's server imitates.
const BOOK_RTT_MS: Option<u64> = Some(20);

/// The buffer of the labs that show many stalls.
const SMALL_RCVBUF: Option<u64> = Some(4096);

/// Every experiment, `book` first.
pub const EXPERIMENTS: &[Experiment] = &[
    Experiment {
        name: "book",
        summary: "the chapter's experiment: recv(5120) without and with a 0.25 s sleep, from a server sending as a 20 ms internet path does, through a 32 KiB receive buffer",
        look_for: &[
            "Without the delay the reader keeps up: recv sizes vary with what has arrived, and the window never reaches zero.",
            "With the delay every recv but the last returns all the buffer holds, the receive window falls to zero and the server stops sending until a recv makes room: that is flow control.",
        ],
        runs: &[
            RunSpec {
                label: "no delay",
                slug: "nodelay",
                recv_size: 5120,
                delay_ms: 0,
                rcvbuf: BOOK_RCVBUF,
                server_rate: None,
                server_rtt_ms: BOOK_RTT_MS,
            },
            RunSpec {
                label: "0.25 s delay",
                slug: "delay",
                recv_size: 5120,
                delay_ms: 250,
                rcvbuf: BOOK_RCVBUF,
                server_rate: None,
                server_rtt_ms: BOOK_RTT_MS,
            },
        ],
    },
    Experiment {
        name: "slow-reader",
        summary: "a reader sleeping 0.5 s between recvs: zero-window stalls, persist probes, window updates",
        look_for: &[
            "Each zero window stops the server; while it waits, Linux sends zero-window probes (Wireshark labels them keep-alives; recvscope counts them as persist probes).",
            "Each recv that frees enough space makes the kernel send a window update at once: look for 'window 0 -> ...' in the rows.",
        ],
        runs: &[RunSpec {
            label: "0.5 s delay",
            slug: "slow",
            recv_size: 5120,
            delay_ms: 500,
            rcvbuf: SMALL_RCVBUF,
            server_rate: None,
            server_rtt_ms: None,
        }],
    },
    Experiment {
        name: "buffer-size",
        summary: "the same slow reader (0.25 s) with receive buffers of 4 KiB, 16 KiB, 64 KiB and the default",
        look_for: &[
            "The bigger the receive buffer, the fewer the zero-window stalls: a 70 KB body fits in the default buffer, so the sender never waits for the reader.",
            "Linux doubles the SO_RCVBUF you ask for; the 'effective' column shows what it chose.",
        ],
        runs: &[
            RunSpec {
                label: "4 KiB",
                slug: "4k",
                recv_size: 5120,
                delay_ms: 250,
                rcvbuf: Some(4096),
                server_rate: None,
                server_rtt_ms: None,
            },
            RunSpec {
                label: "16 KiB",
                slug: "16k",
                recv_size: 5120,
                delay_ms: 250,
                rcvbuf: Some(16384),
                server_rate: None,
                server_rtt_ms: None,
            },
            RunSpec {
                label: "64 KiB",
                slug: "64k",
                recv_size: 5120,
                delay_ms: 250,
                rcvbuf: Some(65536),
                server_rate: None,
                server_rtt_ms: None,
            },
            RunSpec {
                label: "default",
                slug: "default",
                recv_size: 5120,
                delay_ms: 250,
                rcvbuf: None,
                server_rate: None,
                server_rtt_ms: None,
            },
        ],
    },
    Experiment {
        name: "slow-sender",
        summary: "the server paced to 64 KiB/s against a fast reader, next to a slow reader: sender-limited vs receiver-limited",
        look_for: &[
            "With the slow sender the window never fills and never reaches zero: recv returns as soon as a little data arrives, so the sizes are small. The sender, not the receiver, sets the pace.",
            "With the slow reader the window fills and closes: the receiver sets the pace.",
        ],
        runs: &[
            RunSpec {
                label: "slow sender",
                slug: "sender",
                recv_size: 5120,
                delay_ms: 0,
                rcvbuf: None,
                server_rate: Some(64 * 1024),
                server_rtt_ms: None,
            },
            RunSpec {
                label: "slow reader",
                slug: "reader",
                recv_size: 5120,
                delay_ms: 250,
                rcvbuf: SMALL_RCVBUF,
                server_rate: None,
                server_rtt_ms: None,
            },
        ],
    },
];

/// The experiment called `name`.
pub fn find(name: &str) -> Option<&'static Experiment> {
    EXPERIMENTS.iter().find(|e| e.name == name)
}

/// The `recvscope` commands a student types to repeat one run by hand. The
/// fetch discards the body, as the lab does, and saves its run under a name
/// of its own, so the commands work however often they are pasted.
pub fn commands(run: &RunSpec, port: u16) -> [String; 2] {
    let mut serve = format!("recvscope serve --port {port}");
    if let Some(rate) = run.server_rate {
        serve.push_str(&format!(" --rate {rate}"));
    }
    if let Some(rtt) = run.server_rtt_ms {
        serve.push_str(&format!(" --rtt {rtt}ms"));
    }
    let mut fetch = format!("sudo recvscope fetch http://127.0.0.1:{port}/cover3.jpg");
    if run.recv_size != 5120 {
        fetch.push_str(&format!(" --recv-size {}", run.recv_size));
    }
    if let Some(b) = run.rcvbuf {
        fetch.push_str(&format!(" --rcvbuf {b}"));
    }
    if run.delay_ms > 0 {
        fetch.push_str(&format!(" --delay {}ms", run.delay_ms));
    }
    fetch.push_str(" --snaplen 0 --discard-body");
    [serve, fetch]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_book_comes_first() {
        assert_eq!(EXPERIMENTS[0].name, "book");
        for (i, e) in EXPERIMENTS.iter().enumerate() {
            assert!(EXPERIMENTS[i + 1..].iter().all(|o| o.name != e.name));
            assert!(!e.runs.is_empty());
            assert!(find(e.name).is_some());
        }
        assert!(find("nope").is_none());
    }

    #[test]
    fn commands_repeat_the_run_by_hand() {
        let run = &find("book").map(|e| e.runs[1]).unwrap();
        assert_eq!(
            commands(run, 8080),
            [
                "recvscope serve --port 8080 --rtt 20ms".to_string(),
                "sudo recvscope fetch http://127.0.0.1:8080/cover3.jpg --rcvbuf 32768 --delay 250ms --snaplen 0 --discard-body".to_string()
            ]
        );
        let sender = &find("slow-sender").map(|e| e.runs[0]).unwrap();
        assert!(commands(sender, 8080)[0].ends_with("--rate 65536"));
    }
}
