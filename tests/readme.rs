//! The README followed in order on this checkout: its first command builds
//! and runs `recvscope lab` in the repository, its second is
//! `cargo test --profile checked` (this suite). The lab must leave `git status` as
//! it was, the tests' sample captures with it, and put its runs in a new
//! directory of its own under `runs/`, beside every earlier run untouched.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The bodies of the README's ```sh blocks, in order.
fn sh_blocks(readme: &str) -> Vec<String> {
    readme
        .split("```sh\n")
        .skip(1)
        .filter_map(|b| b.split_once("```").map(|(body, _)| body.trim().to_string()))
        .collect()
}

/// `git status --porcelain` of `repo`; `None` when it is not a git checkout
/// (a source tarball) or git is missing.
fn git_status(repo: &Path) -> Option<String> {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(["-c", "safe.directory=*", "-C"])
            .arg(repo)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
    };
    git(&["rev-parse", "--git-dir"])?;
    let out = git(&["status", "--porcelain"]).expect("git status in a checkout");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Each entry of `dir` with its modification time (empty when there is no `dir`).
fn entries(dir: &Path) -> BTreeMap<String, SystemTime> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    read.map(|e| {
        let e = e.expect("entry");
        let modified = e.metadata().and_then(|m| m.modified()).expect("mtime");
        (e.file_name().to_string_lossy().into_owned(), modified)
    })
    .collect()
}

#[test]
fn the_readmes_first_command_leaves_git_status_as_it_was_and_its_runs_in_a_new_directory() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(repo.join("README.md")).expect("README.md");
    let blocks = sh_blocks(&readme);
    assert!(
        blocks[0].ends_with("&& $S target/release/recvscope lab"),
        "the README's first command runs the lab: {}",
        blocks[0]
    );
    assert_eq!(
        blocks[1], "cargo test --profile checked",
        "and its second the tests"
    );
    let Some(before) = git_status(repo) else {
        eprintln!("not a git checkout: git status not checked");
        return;
    };
    let runs = repo.join("runs");
    let runs_existed = runs.exists();
    let earlier = entries(&runs);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_recvscope"));
    cmd.arg("lab").current_dir(repo);
    if !is_root() {
        eprintln!("not root: the lab runs without capture (CI runs it as root)");
        cmd.arg("--no-capture");
    }
    let out = cmd.output().expect("run the lab");
    let after = git_status(repo).expect("still a checkout");
    let now = entries(&runs);
    let made: Vec<String> = now
        .keys()
        .filter(|n| !earlier.contains_key(*n))
        .cloned()
        .collect();
    let listing: Vec<Vec<String>> = made
        .iter()
        .map(|n| {
            let mut v: Vec<String> = entries(&runs.join(n)).into_keys().collect();
            v.sort();
            v
        })
        .collect();
    // What the lab made goes before any assertion, so that no run of the
    // tests leaves a file in the checkout.
    for n in &made {
        std::fs::remove_dir_all(runs.join(n)).expect("remove the lab's directory");
    }
    if !runs_existed {
        std::fs::remove_dir(&runs).expect("remove runs/");
    }
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(after, before, "git status is as it was");
    assert_eq!(made.len(), 1, "one new directory: {made:?}");
    let name = &made[0];
    let stamp = name.strip_prefix("lab-book-").expect("runs/lab-book-TIME");
    assert!(
        stamp.len() == 15
            && stamp.char_indices().all(|(i, c)| if i == 8 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }),
        "YYYYMMDD-HHMMSS: {name}"
    );
    let earlier_now: BTreeMap<String, SystemTime> = now
        .into_iter()
        .filter(|(n, _)| earlier.contains_key(n))
        .collect();
    assert_eq!(earlier_now, earlier, "every earlier run is untouched");
    let text = String::from_utf8_lossy(&out.stdout);
    let (files, printed) = if is_root() {
        (
            vec![
                "delay.pcap",
                "delay.recv.jsonl",
                "nodelay.pcap",
                "nodelay.recv.jsonl",
            ],
            format!(
                "\n  runs/{name}/nodelay.pcap  runs/{name}/nodelay.recv.jsonl\n  runs/{name}/delay.pcap  runs/{name}/delay.recv.jsonl\n"
            ),
        )
    } else {
        (
            vec!["delay.recv.jsonl", "nodelay.recv.jsonl"],
            format!(
                "\n  (no capture)  runs/{name}/nodelay.recv.jsonl\n  (no capture)  runs/{name}/delay.recv.jsonl\n"
            ),
        )
    };
    assert_eq!(listing[0], files);
    assert!(
        text.ends_with(&printed),
        "the lab says what it saved: {text}"
    );
}
