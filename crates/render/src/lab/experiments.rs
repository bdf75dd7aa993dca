//! The guided experiments: what each runs and what it is meant to show,
//! the lab's own text (its names, summaries and what to look for) with the
//! parameters of its runs, and the claims in that text, checked against
//! each run's figures.

use recvscope_analysis::lab_run::{LimitedBy, RunSummary};
use recvscope_analysis::lesson::Lesson;

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
    pub look_for: &'static [LookFor],
    pub runs: &'static [RunSpec],
}

/// One thing to look for: a sentence and the claims in it that the runs'
/// figures must bear out.
#[derive(Clone, Copy, Debug)]
pub struct LookFor {
    /// The run it is about (an index into the experiment's runs); `None`:
    /// the runs taken together.
    pub run: Option<usize>,
    pub text: &'static str,
    pub claims: &'static [Claim],
}

/// A claim a sentence makes about a run's figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The reader kept up ([`Lesson::kept_up`]).
    KeptUp,
    /// At most this many recvs came back short of what they asked.
    AllFullBut(usize),
    /// More than half of the recvs came back short.
    MostShort,
    /// At least one zero-window stall.
    Stalls,
    /// No zero-window segment.
    NoZeroWindow,
    /// No window-full segment.
    NoWindowFull,
    /// At least one persist probe.
    PersistProbes,
    /// At least one recv reopened a zero window.
    ReopenedByRecv,
    /// The wire's verdict.
    LimitedBy(LimitedBy),
    /// Across the runs: zero-window stalls never grow from one run to the
    /// next, and the last run has none.
    StallsFallAsBufferGrows,
    /// Across the runs: Linux gave twice each receive buffer asked for.
    BufferDoubled,
}

/// How a claim failed, with the figures that show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Miss {
    /// The reader did not keep up: the window reached zero this often, or
    /// (0) every recv found all it asked for waiting.
    NotKeptUp {
        zero_window_segments: u64,
    },
    ShortRecvs {
        short: usize,
    },
    FullRecvs {
        full: usize,
        recvs: usize,
    },
    NoStall,
    ZeroWindowSegments(u64),
    WindowFullSegments(u64),
    NoPersistProbe,
    NoReopening,
    LimitedBy(LimitedBy),
    /// Zero-window stalls by run.
    Stalls(Vec<u64>),
    /// Receive buffer asked and given by run.
    NotDoubled(Vec<(Option<u64>, u64)>),
}

/// One run's figures, as the claims read them.
#[derive(Clone, Copy)]
pub struct RunFigures<'a> {
    pub summary: &'a RunSummary,
    pub lesson: &'a Lesson,
}

impl Claim {
    /// `Some(Ok)` when `runs` bear the claim out, `Some(Err)` with the
    /// figures when they do not, `None` when they lack the figures (no
    /// capture). `runs` is the one run a run's claim is about, or all.
    pub fn check(self, runs: &[RunFigures<'_>]) -> Option<Result<(), Miss>> {
        let ok = |held: bool, miss: Miss| if held { Ok(()) } else { Err(miss) };
        let one = runs.first()?;
        let (s, l) = (one.summary, one.lesson);
        let short = s.recvs - s.full_recvs;
        Some(match self {
            Claim::KeptUp => ok(
                l.kept_up,
                Miss::NotKeptUp {
                    zero_window_segments: l.wire.as_ref()?.zero_window_segments,
                },
            ),
            Claim::AllFullBut(n) => ok(short <= n, Miss::ShortRecvs { short }),
            Claim::MostShort => ok(
                short * 2 > s.recvs,
                Miss::FullRecvs {
                    full: s.full_recvs,
                    recvs: s.recvs,
                },
            ),
            Claim::Stalls => ok(s.wire.as_ref()?.zero_window_stalls > 0, Miss::NoStall),
            Claim::NoZeroWindow => {
                let n = l.wire.as_ref()?.zero_window_segments;
                ok(n == 0, Miss::ZeroWindowSegments(n))
            }
            Claim::NoWindowFull => {
                let n = s.wire.as_ref()?.window_full_segments;
                ok(n == 0, Miss::WindowFullSegments(n))
            }
            Claim::PersistProbes => ok(s.wire.as_ref()?.persist_probes > 0, Miss::NoPersistProbe),
            Claim::ReopenedByRecv => ok(l.wire.as_ref()?.reopened_by_recv > 0, Miss::NoReopening),
            Claim::LimitedBy(want) => {
                let got = s.wire.as_ref()?.limited_by();
                ok(got == want, Miss::LimitedBy(got))
            }
            Claim::StallsFallAsBufferGrows => {
                let stalls: Vec<u64> = runs
                    .iter()
                    .map(|r| r.summary.wire.as_ref().map(|w| w.zero_window_stalls))
                    .collect::<Option<_>>()?;
                let falls = stalls.windows(2).all(|p| p[1] <= p[0]);
                ok(falls && stalls.last() == Some(&0), Miss::Stalls(stalls))
            }
            Claim::BufferDoubled => {
                let bufs: Vec<(Option<u64>, u64)> = runs
                    .iter()
                    .map(|r| (r.summary.rcvbuf.asked, r.summary.rcvbuf.given))
                    .collect();
                let doubled = bufs
                    .iter()
                    .all(|(asked, given)| asked.is_none_or(|a| *given == 2 * a));
                ok(doubled, Miss::NotDoubled(bufs))
            }
        })
    }
}

impl LookFor {
    /// Every claim of the sentence checked against the runs of its
    /// experiment, in order: its misses, or `None` when some claim could not
    /// be checked.
    pub fn misses(&self, runs: &[RunFigures<'_>]) -> Option<Vec<Miss>> {
        let runs = match self.run {
            Some(i) => runs.get(i..=i)?,
            None => runs,
        };
        let mut misses = Vec::new();
        for claim in self.claims {
            if let Err(m) = claim.check(runs)? {
                misses.push(m);
            }
        }
        Some(misses)
    }
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
            LookFor {
                run: Some(0),
                text: "Without the delay the reader keeps up: some recvs find less waiting than they ask for and return what has arrived, and the window never reaches zero.",
                claims: &[Claim::KeptUp, Claim::NoZeroWindow],
            },
            LookFor {
                run: Some(1),
                text: "With the delay all but the last one or two recvs return the full 5120 bytes, the receive window falls to zero and the server stops sending until recvs make room: that is flow control.",
                claims: &[
                    Claim::AllFullBut(2),
                    Claim::Stalls,
                    Claim::LimitedBy(LimitedBy::Receiver),
                ],
            },
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
            LookFor {
                run: Some(0),
                text: "Each zero-window stall stops the server; while it waits, Linux sends persist probes (Wireshark labels them keep-alives).",
                claims: &[Claim::Stalls, Claim::PersistProbes],
            },
            LookFor {
                run: Some(0),
                text: "A recv that frees enough memory makes the kernel send a window update at once: look for 'window 0 -> ...' in the rows.",
                claims: &[Claim::ReopenedByRecv],
            },
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
            LookFor {
                run: None,
                text: "The bigger the receive buffer, the fewer the zero-window stalls: a 70 KB body fits in the default buffer, so the sender never waits for the reader.",
                claims: &[Claim::StallsFallAsBufferGrows],
            },
            LookFor {
                run: None,
                text: "Linux doubles the SO_RCVBUF you ask for; the row 'receive buffer given by Linux' shows what it chose.",
                claims: &[Claim::BufferDoubled],
            },
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
            LookFor {
                run: Some(0),
                text: "With the slow sender the window never fills and never reaches zero: recv returns as soon as a little data arrives, so most sizes are small. The sender, not the receiver, sets the pace.",
                claims: &[
                    Claim::NoWindowFull,
                    Claim::NoZeroWindow,
                    Claim::MostShort,
                    Claim::LimitedBy(LimitedBy::Sender),
                ],
            },
            LookFor {
                run: Some(1),
                text: "With the slow reader the window fills and closes: the receiver sets the pace.",
                claims: &[Claim::Stalls, Claim::LimitedBy(LimitedBy::Receiver)],
            },
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
