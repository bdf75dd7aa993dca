//! `--extract DIR`: HTTP bodies written to files named by recvscope, like
//! Wireshark's Export Objects > HTTP. A body is written under a temporary
//! name and renamed when it ends; an incomplete one says so in its name.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::analysis::BodySink;
use crate::atomic_file::{self, AtomicFile};
use crate::http::Side;
pub(crate) use crate::report::SavedBody;

/// Bodies' files kept open at once: past it, the one written least
/// recently is parked (closed, reopened when its next bytes come), so a
/// capture with thousands of bodies in progress needs no more descriptors.
pub(crate) const MAX_OPEN_FILES: usize = 64;

struct Open {
    out: AtomicFile,
    bytes: u64,
    head: Vec<u8>,
    /// When it was last written, in writes made by the extractor.
    last_write: u64,
}

/// Writes bodies into one directory.
pub(crate) struct Extractor {
    dir: PathBuf,
    open: HashMap<(u64, usize, Side), Open>,
    writes: u64,
    saved: Vec<SavedBody>,
    error: Option<anyhow::Error>,
}

impl Extractor {
    /// Creates `dir` if needed and checks it can be written.
    pub(crate) fn new(dir: &Path) -> anyhow::Result<Extractor> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create extraction directory {}", dir.display()))?;
        // A file made and dropped (so removed) the way the bodies will be:
        // never through a link planted at its name.
        AtomicFile::create_in(dir, OsStr::new("recvscope-write-test"))
            .with_context(|| format!("cannot write in extraction directory {}", dir.display()))?;
        Ok(Extractor {
            dir: dir.to_owned(),
            open: HashMap::new(),
            writes: 0,
            saved: Vec::new(),
            error: None,
        })
    }

    /// Closes what is still open (as incomplete) and lists what was saved.
    pub(crate) fn finish(mut self) -> anyhow::Result<Vec<SavedBody>> {
        let keys: Vec<_> = self.open.keys().copied().collect();
        for (c, t, s) in keys {
            self.close(c, t, s, false);
        }
        if let Some(e) = self.error {
            return Err(e);
        }
        self.saved
            .sort_by_key(|b| (b.connection, b.transaction, b.side == Side::Server));
        Ok(self.saved)
    }

    /// Parks the least recently written open file when [`MAX_OPEN_FILES`]
    /// are open, so that one more may be.
    fn make_room(&mut self) {
        let open = self.open.values_mut().filter(|o| o.out.is_open());
        let mut count = 0;
        let Some(oldest) = open.inspect(|_| count += 1).min_by_key(|o| o.last_write) else {
            return;
        };
        if count < MAX_OPEN_FILES {
            return;
        }
        if let Err(e) = oldest.out.park() {
            let e =
                anyhow::Error::new(e).context(format!("writing {}", oldest.out.temp().display()));
            self.error.get_or_insert(e);
        }
    }

    fn close(&mut self, conn: u64, txn: usize, side: Side, complete: bool) {
        let Some(o) = self.open.remove(&(conn, txn, side)) else {
            return;
        };
        let name = format!(
            "conn{conn:04}-txn{txn:03}-{}{}.{}",
            match side {
                Side::Client => "request",
                Side::Server => "response",
            },
            if complete { "" } else { "-partial" },
            extension(&o.head)
        );
        let path = self.dir.join(name);
        match o.out.commit(&path) {
            Ok(()) => self.saved.push(SavedBody {
                connection: conn,
                transaction: txn,
                side,
                path,
                bytes: o.bytes,
                complete,
            }),
            Err(e) => {
                let e =
                    anyhow::Error::new(e.source).context(format!("cannot save {}", path.display()));
                self.error.get_or_insert(e);
            }
        }
    }
}

impl BodySink for Extractor {
    fn body(&mut self, conn: u64, txn: usize, side: Side, bytes: &[u8]) {
        if self.error.is_some() || bytes.is_empty() {
            return;
        }
        let key = (conn, txn, side);
        if !self.open.get(&key).is_some_and(|o| o.out.is_open()) {
            self.make_room();
        }
        if !self.open.contains_key(&key) {
            let name = format!("conn{conn:04}-txn{txn:03}-{side:?}");
            match AtomicFile::create_in(&self.dir, OsStr::new(&name)) {
                Ok(out) => {
                    self.open.insert(
                        key,
                        Open {
                            out,
                            bytes: 0,
                            head: Vec::new(),
                            last_write: 0,
                        },
                    );
                }
                Err(e) => {
                    let tmp = atomic_file::temp_path(&self.dir, OsStr::new(&name));
                    self.error = Some(
                        anyhow::Error::new(e).context(format!("cannot create {}", tmp.display())),
                    );
                    return;
                }
            }
        }
        if let Some(o) = self.open.get_mut(&key) {
            if o.head.len() < 8 {
                let take = (8 - o.head.len()).min(bytes.len());
                o.head.extend_from_slice(&bytes[..take]);
            }
            o.bytes += bytes.len() as u64;
            self.writes += 1;
            o.last_write = self.writes;
            if let Err(e) = o.out.write_all(bytes) {
                self.error = Some(anyhow::Error::new(e).context("writing an extracted body"));
            }
        }
    }

    fn end(&mut self, conn: u64, txn: usize, side: Side, complete: bool) {
        self.close(conn, txn, side, complete);
    }
}

/// A file extension from the body's first bytes.
fn extension(head: &[u8]) -> &'static str {
    match head {
        [0xff, 0xd8, 0xff, ..] => "jpg",
        [0x89, b'P', b'N', b'G', ..] => "png",
        [b'G', b'I', b'F', b'8', ..] => "gif",
        [0x1f, 0x8b, ..] => "gz",
        [b'%', b'P', b'D', b'F', ..] => "pdf",
        [b'<', ..] => "html",
        [b'{', ..] | [b'[', ..] => "json",
        _ => "bin",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::atomic_file::tests::names;

    #[test]
    fn a_body_is_hidden_until_it_ends_then_named_for_what_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let mut x = Extractor::new(dir.path()).unwrap();
        x.body(1, 0, Side::Server, b"<html>");
        x.body(1, 0, Side::Server, b"</html>");
        x.body(2, 3, Side::Client, b"{}");
        assert_eq!(
            names(dir.path()),
            [
                format!(
                    ".conn0001-txn000-Server.recvscope-{}.tmp",
                    std::process::id()
                ),
                format!(
                    ".conn0002-txn003-Client.recvscope-{}.tmp",
                    std::process::id()
                ),
            ]
        );
        x.end(1, 0, Side::Server, true);
        let saved = x.finish().unwrap();
        assert_eq!(
            names(dir.path()),
            [
                "conn0001-txn000-response.html",
                "conn0002-txn003-request-partial.json"
            ]
        );
        assert_eq!(
            std::fs::read(dir.path().join("conn0001-txn000-response.html")).unwrap(),
            b"<html></html>"
        );
        let summary: Vec<_> = saved
            .iter()
            .map(|b| (b.connection, b.bytes, b.complete))
            .collect();
        assert_eq!(summary, [(1, 13, true), (2, 2, false)]);
    }

    #[test]
    fn links_planted_at_the_temporary_names_are_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        for name in ["recvscope-write-test", "conn0001-txn000-Server"] {
            let tmp = atomic_file::temp_path(dir.path(), OsStr::new(name));
            std::os::unix::fs::symlink(&victim, tmp).unwrap();
        }
        let mut x = Extractor::new(dir.path()).unwrap();
        x.body(1, 0, Side::Server, b"<html>");
        x.end(1, 0, Side::Server, true);
        x.finish().unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        assert_eq!(
            std::fs::read(dir.path().join("conn0001-txn000-response.html")).unwrap(),
            b"<html>"
        );
        assert_eq!(
            names(dir.path()),
            ["conn0001-txn000-response.html", "victim"]
        );
    }
}
