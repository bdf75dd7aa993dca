//! What the process holds while it runs: a `setcap` binary gives its
//! capabilities up in every thread (fetch once the capture is open, replay
//! and serve from the start), and `serve` started as root serves as a user.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A copy of the binary given `cap_net_raw,cap_net_admin=eip`, as the
/// README says, in a directory `nobody` may enter; `None` when this
/// cannot be set up here (not root, or setcap missing).
fn capped_binary(dir: &Path) -> Option<PathBuf> {
    if !is_root() {
        eprintln!("not root: setcap not testable here (CI runs it as root)");
        return None;
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let bin = dir.join("recvscope");
    std::fs::copy(env!("CARGO_BIN_EXE_recvscope"), &bin).expect("copy the binary");
    match Command::new("setcap")
        .args(["cap_net_raw,cap_net_admin=eip"])
        .arg(&bin)
        .status()
    {
        Ok(s) => {
            assert!(s.success(), "setcap failed");
            Some(bin)
        }
        Err(_) => {
            recvscope_testkit::tool_missing("setcap", "the file-capability checks");
            None
        }
    }
}

/// `bin` run as uid/gid 65534 with no supplementary groups, as a user
/// without sudo runs a `setcap` binary.
fn as_nobody(bin: &Path) -> Command {
    let mut cmd = Command::new(bin);
    // SAFETY: only async-signal-safe system calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(65534) != 0
                || libc::setuid(65534) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd
}

/// Starts `cmd`, again while the copied binary is briefly busy: another
/// test's child may hold it open between its fork and exec.
fn spawn(cmd: &mut Command) -> Child {
    for _ in 0..100 {
        match cmd.spawn() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                std::thread::sleep(Duration::from_millis(10));
            }
            started => return started.expect("run recvscope"),
        }
    }
    panic!("the binary stayed busy for a second");
}

/// Each thread of `pid`: its name, CapPrm and CapEff.
fn thread_caps(pid: u32) -> Vec<(String, u64, u64)> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for task in tasks.flatten() {
        let (Ok(status), Ok(comm)) = (
            std::fs::read_to_string(task.path().join("status")),
            std::fs::read_to_string(task.path().join("comm")),
        ) else {
            continue; // the thread ended meanwhile
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
                .unwrap_or_else(|| panic!("no {name} in {status}"))
        };
        out.push((comm.trim().to_string(), field("CapPrm:"), field("CapEff:")));
    }
    out
}

/// The caps of every thread of `child` now, asserting all are empty.
fn assert_no_caps(child: &Child, when: &str) -> Vec<(String, u64, u64)> {
    let caps = thread_caps(child.id());
    for (name, prm, eff) in &caps {
        assert_eq!(
            (*prm, *eff),
            (0, 0),
            "thread {name:?} holds CapPrm {prm:#x} CapEff {eff:#x} {when}: {caps:?}"
        );
    }
    caps
}

/// `serve` started, its first line read.
fn serving(mut cmd: Command, args: &[&str]) -> (Child, String) {
    let mut child = spawn(
        cmd.args(["serve", "--port", "0", "--quiet"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    );
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("serve's first line");
    (child, first)
}

#[test]
fn a_setcap_fetch_holds_no_capability_once_the_capture_is_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(bin) = capped_binary(dir.path()) else {
        return;
    };
    let server = recvscope::serve::Server::bind(recvscope::serve::ServerConfig::default())
        .expect("bind")
        .spawn();
    let url = server.url("/cover3.jpg");
    // A URL, and none: the built-in lab server's threads start after the drop.
    for url in [Some(url.as_str()), None] {
        fetch_without_caps(&bin, dir.path(), url);
    }
}

/// Runs a `setcap` fetch of `url` as `nobody`, looking at every thread's
/// capabilities while its capture runs.
fn fetch_without_caps(bin: &Path, dir: &Path, url: Option<&str>) {
    // 4 KiB asked and 50 ms between recvs: the download lasts a second.
    let mut child = spawn(
        as_nobody(bin)
            .arg("fetch")
            .args(url)
            .args([
                "--discard-body",
                "--no-save",
                "--rcvbuf",
                "4096",
                "--delay",
                "50ms",
            ])
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    let start = Instant::now();
    let mut capture_seen = false;
    let mut threads = std::collections::BTreeSet::new();
    while child.try_wait().expect("wait").is_none() {
        let names: Vec<String> = thread_caps(child.id()).into_iter().map(|t| t.0).collect();
        threads.extend(names.iter().cloned());
        if names.iter().any(|n| n == "capture") {
            capture_seen = true;
            assert_no_caps(&child, "while the capture runs");
        }
        assert!(start.elapsed() < Duration::from_secs(60), "fetch hangs");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    assert!(child.wait().expect("wait").success(), "{err}");
    assert!(capture_seen, "the capture thread never showed: {err}");
    if url.is_none() {
        assert!(threads.contains("serve-accept"), "{threads:?}");
    }
}

#[test]
fn a_setcap_replay_holds_no_capability_from_the_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(bin) = capped_binary(dir.path()) else {
        return;
    };
    // Reading standard input that has not come yet: replay waits for it,
    // and every thread it has by then is looked at.
    let mut child = spawn(
        as_nobody(&bin)
            .args(["replay", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let pid = child.id();
    recvscope_testkit::wait_until(
        || {
            let call = std::fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap_or_default();
            call.split_whitespace()
                .take(2)
                .eq([libc::SYS_read.to_string(), "0x0".to_string()])
        },
        "replay to wait in read(0, ...) for its standard input",
    );
    let caps = assert_no_caps(&child, "while replay waits for its input");
    assert!(!caps.is_empty(), "no thread of replay was seen");
    drop(child.stdin.take());
    child.wait().expect("wait");
}

#[test]
fn a_setcap_serve_holds_no_capability_from_the_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(bin) = capped_binary(dir.path()) else {
        return;
    };
    let (mut child, first) = serving(as_nobody(&bin), &[]);
    assert!(first.starts_with("serving http://"), "{first}");
    let caps = assert_no_caps(&child, "while serving");
    assert!(!caps.is_empty(), "no thread of serve was seen");
    child.kill().expect("kill");
    child.wait().expect("wait");
}

/// The real and effective uid and gid of `pid`, from its status.
fn ids(pid: u32) -> (String, String) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let line = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    };
    (line("Uid:"), line("Gid:"))
}

/// Fetches `path` from the server `serving` announced; the status code.
fn status_of(first: &str, path: &str) -> String {
    let url = first.split_whitespace().nth(1).expect("a URL");
    let hostport = url
        .strip_prefix("http://")
        .and_then(|r| r.split('/').next())
        .expect("host:port");
    let mut conn = std::net::TcpStream::connect(hostport).expect("connect");
    std::io::Write::write_all(&mut conn, format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes())
        .expect("send");
    let mut reply = String::new();
    BufReader::new(conn).read_line(&mut reply).expect("reply");
    reply
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

#[test]
fn serve_started_as_root_serves_as_the_sudo_user_or_nobody() {
    if !is_root() {
        eprintln!("not root: the drop of serve is not testable here (CI runs it as root)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    for (name, mode) in [("open.txt", 0o644), ("closed.txt", 0o000)] {
        let file = dir.path().join(name);
        std::fs::write(&file, "data\n").expect("write");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    let root = dir.path().to_str().expect("utf-8 path");
    for sudo in [true, false] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_recvscope"));
        cmd.env_remove("SUDO_UID")
            .env_remove("SUDO_GID")
            .env_remove("SUDO_USER");
        if sudo {
            cmd.env("SUDO_UID", "65534")
                .env("SUDO_GID", "65534")
                .env("SUDO_USER", "nobody");
        }
        let (mut child, first) = serving(cmd, &["--root", root]);
        assert!(first.starts_with("serving http://"), "{first}");
        assert_eq!(
            ids(child.id()),
            ("65534 65534".to_string(), "65534 65534".to_string()),
            "sudo {sudo}"
        );
        assert_eq!(status_of(&first, "/open.txt"), "200", "sudo {sudo}");
        assert_eq!(status_of(&first, "/closed.txt"), "403", "sudo {sudo}");
        child.kill().expect("kill");
        child.wait().expect("wait");
    }
}

#[test]
fn serve_started_as_root_creates_its_log_as_the_user_it_drops_to() {
    if !is_root() {
        eprintln!("not root: the drop of serve is not testable here (CI runs it as root)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let log = dir.path().join("send.jsonl");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_recvscope"));
    cmd.env("SUDO_UID", "65534")
        .env("SUDO_GID", "65534")
        .env("SUDO_USER", "nobody");
    let (mut child, first) = serving(cmd, &["--log", log.to_str().expect("utf-8 path")]);
    assert!(first.starts_with("serving http://"), "{first}");
    child.kill().expect("kill");
    child.wait().expect("wait");
    let meta = std::fs::metadata(&log).expect("the log");
    use std::os::unix::fs::MetadataExt;
    assert_eq!((meta.uid(), meta.gid()), (65534, 65534));
    let text = std::fs::read_to_string(&log).expect("read");
    assert!(text.starts_with("{\"event\":\"server\""), "{text}");
}
