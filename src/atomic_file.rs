//! Files that appear whole or not at all. An [`AtomicFile`] is written under
//! a hidden temporary name, `.NAME.recvscope-PID.tmp`, in the directory of
//! its destination; [`AtomicFile::commit`] flushes it, fsyncs it and renames
//! it to the destination, so a reader (or a crash) never sees half a file
//! under that name. Not committed, or failing to commit, the temporary file
//! is removed. The destination is the caller's choice at commit time: a
//! complete file under its name, a cut one under a name that says so.

use std::ffi::{OsStr, OsString};
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Creates `path` as a new file for writing, the one way recvscope opens a
/// file it writes: never through a link left at that name (`O_EXCL`, and
/// `O_NOFOLLOW` besides), never over an existing file (an error of kind
/// `AlreadyExists`), never inherited by a child (`O_CLOEXEC`).
pub(crate) fn create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

/// A file being written, not yet under its name.
#[derive(Debug)]
pub(crate) struct AtomicFile {
    tmp: PathBuf,
    /// `None` while parked: closed, to be reopened by the next write.
    out: Option<BufWriter<File>>,
    /// The temporary file as it was when parked, to know it again on
    /// reopening: inodes are reused, so its size and change time too.
    id: FileId,
    committed: bool,
}

/// Why a commit failed: the file the failing step acted on (the temporary
/// file for the flush and fsync, the destination for the rename) and the
/// error. The temporary file is gone either way.
#[derive(Debug)]
pub(crate) struct CommitError {
    pub(crate) path: PathBuf,
    pub(crate) source: io::Error,
}

/// The directory a file named `path` goes in: its parent, or `.` for a
/// bare name.
pub(crate) fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// The temporary name for a file called `name` in `dir`:
/// `dir/.NAME.recvscope-PID.tmp`.
pub(crate) fn temp_path(dir: &Path, name: &OsStr) -> PathBuf {
    let mut tmp = OsString::from(".");
    tmp.push(name);
    tmp.push(format!(".recvscope-{}.tmp", std::process::id()));
    dir.join(tmp)
}

impl AtomicFile {
    /// Creates the temporary file for `name` in `dir` (see [`temp_path`]).
    /// It is created new, never through a link someone left at that name;
    /// a file already there can only be left by a dead process with our
    /// PID, and is replaced once.
    pub(crate) fn create_in(dir: &Path, name: &OsStr) -> io::Result<AtomicFile> {
        let tmp = temp_path(dir, name);
        let file = match create_new(&tmp) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                std::fs::remove_file(&tmp)?;
                create_new(&tmp)?
            }
            other => other?,
        };
        let id = file_id(&file)?;
        Ok(AtomicFile {
            tmp,
            out: Some(BufWriter::new(file)),
            id,
            committed: false,
        })
    }

    /// Whether the file is open (not parked).
    pub(crate) fn is_open(&self) -> bool {
        self.out.is_some()
    }

    /// Flushes and closes the file, giving its descriptor back, while
    /// keeping it: the next write reopens it. Bounds how many files are
    /// open when many are written at once.
    pub(crate) fn park(&mut self) -> io::Result<()> {
        if let Some(mut out) = self.out.take() {
            out.flush()?;
            self.id = file_id(out.get_ref())?;
        }
        Ok(())
    }

    /// The open file: reopened if parked, never through a link and only if
    /// it is still the file it parked (same device, inode, size and change
    /// time).
    fn open(&mut self) -> io::Result<&mut BufWriter<File>> {
        if self.out.is_none() {
            let file = OpenOptions::new()
                .append(true)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(&self.tmp)?;
            if file_id(&file)? != self.id {
                return Err(io::Error::other(format!(
                    "{} was replaced while recvscope had it closed",
                    self.tmp.display()
                )));
            }
            self.out = Some(BufWriter::new(file));
        }
        match self.out.as_mut() {
            Some(out) => Ok(out),
            None => Err(io::Error::other("the file could not be reopened")),
        }
    }

    /// Where the bytes are until the commit.
    pub(crate) fn temp(&self) -> &Path {
        &self.tmp
    }

    /// Flushes and fsyncs the file, then renames it to `dest` (replacing a
    /// file or a link there, never a device, pipe or socket: a forced
    /// `-o /dev/null` must not turn the device into a file). On failure the
    /// temporary file is removed.
    pub(crate) fn commit(mut self, dest: &Path) -> Result<(), CommitError> {
        self.sync()?;
        not_special(dest).map_err(|source| CommitError {
            path: dest.to_path_buf(),
            source,
        })?;
        std::fs::rename(&self.tmp, dest).map_err(|source| CommitError {
            path: dest.to_path_buf(),
            source,
        })?;
        self.committed = true;
        Ok(())
    }

    /// Flushes and fsyncs the file, then gives it the name `dest` only if
    /// nothing has that name (a hard link, then the temporary name is
    /// removed): an error of kind `AlreadyExists` otherwise, never a
    /// replaced file. On failure the temporary file is removed.
    pub(crate) fn commit_new(mut self, dest: &Path) -> Result<(), CommitError> {
        self.sync()?;
        std::fs::hard_link(&self.tmp, dest).map_err(|source| CommitError {
            path: dest.to_path_buf(),
            source,
        })?;
        self.committed = true;
        std::fs::remove_file(&self.tmp).map_err(|source| CommitError {
            path: self.tmp.clone(),
            source,
        })
    }

    fn sync(&mut self) -> Result<(), CommitError> {
        self.open()
            .and_then(|out| {
                out.flush()?;
                out.get_ref().sync_all()
            })
            .map_err(|source| CommitError {
                path: self.tmp.clone(),
                source,
            })
    }
}

/// What tells a file from one that took its place: device, inode, size
/// and change time.
type FileId = (u64, u64, u64, i64, i64);

fn file_id(file: &File) -> io::Result<FileId> {
    use std::os::unix::fs::MetadataExt;
    let meta = file.metadata()?;
    Ok((
        meta.dev(),
        meta.ino(),
        meta.size(),
        meta.ctime(),
        meta.ctime_nsec(),
    ))
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.open()?.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.open()?.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.out.as_mut() {
            Some(out) => out.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for AtomicFile {
    /// Not committed: nothing is left behind under any name.
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// An error when `path` is a device, a pipe or a socket: a name a rename
/// must not take over.
fn not_special(path: &Path) -> io::Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    let t = meta.file_type();
    if t.is_dir() || t.is_symlink() {
        return Ok(());
    }
    let Some(what) = crate::file_kind::not_a_file(t) else {
        return Ok(());
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("it is {what}, not a file, and recvscope replaces only files"),
    ))
}

/// Writes `bytes` to `dest` whole: through an [`AtomicFile`] beside it.
pub(crate) fn write(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    written(dest, bytes)?.commit(dest).map_err(|e| e.source)
}

/// Writes `bytes` to `dest` whole, as [`write`] does, but only as a new
/// file: when `dest` exists, an error of kind `AlreadyExists` and the file
/// there as it was ([`AtomicFile::commit_new`]).
pub(crate) fn write_new(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    written(dest, bytes)?.commit_new(dest).map_err(|e| e.source)
}

/// `bytes` in an [`AtomicFile`] for `dest`, not yet committed.
fn written(dest: &Path, bytes: &[u8]) -> io::Result<AtomicFile> {
    let name = dest.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a file name", dest.display()),
        )
    })?;
    let mut f = AtomicFile::create_in(dir_of(dest), name)?;
    f.write_all(bytes)?;
    Ok(f)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The names in `dir`, sorted.
    pub(crate) fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_parked_file_reopens_for_its_next_bytes_and_commits_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = AtomicFile::create_in(dir.path(), OsStr::new("body")).unwrap();
        f.write_all(b"first ").unwrap();
        f.park().unwrap();
        assert!(!f.is_open());
        f.write_all(b"second").unwrap();
        assert!(f.is_open());
        let dest = dir.path().join("body");
        f.commit(&dest).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"first second");
    }

    #[test]
    fn a_parked_file_replaced_by_a_link_or_another_file_is_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        for replace in [
            |tmp: &Path, victim: &Path| std::os::unix::fs::symlink(victim, tmp).unwrap(),
            |tmp: &Path, _: &Path| std::fs::write(tmp, "other").unwrap(),
        ] {
            let mut f = AtomicFile::create_in(dir.path(), OsStr::new("body")).unwrap();
            f.write_all(b"a").unwrap();
            f.park().unwrap();
            let tmp = f.temp().to_path_buf();
            std::fs::remove_file(&tmp).unwrap();
            replace(&tmp, &victim);
            assert!(f.write_all(b"b").is_err());
            drop(f);
            assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        }
    }

    #[test]
    fn the_temporary_file_is_hidden_beside_the_destination_and_named_for_it() {
        let dir = tempfile::tempdir().unwrap();
        let f = AtomicFile::create_in(dir.path(), OsStr::new("cover3.jpg")).unwrap();
        let expected = format!(".cover3.jpg.recvscope-{}.tmp", std::process::id());
        assert_eq!(f.temp(), dir.path().join(&expected));
        assert_eq!(names(dir.path()), [expected]);
        assert_eq!(
            temp_path(Path::new("out"), OsStr::new("a")),
            Path::new("out").join(format!(".a.recvscope-{}.tmp", std::process::id()))
        );
    }

    #[test]
    fn a_bare_name_goes_in_the_current_directory() {
        assert_eq!(dir_of(Path::new("g.svg")), Path::new("."));
        assert_eq!(dir_of(Path::new("a/b/g.svg")), Path::new("a/b"));
        assert_eq!(dir_of(Path::new("/g.svg")), Path::new("/"));
    }

    #[test]
    fn commit_puts_every_byte_under_the_destination_and_nothing_else_remains() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("x.bin");
        let mut f = AtomicFile::create_in(dir.path(), OsStr::new("x.bin")).unwrap();
        let big = vec![7u8; 100_000];
        f.write_all(b"head").unwrap();
        f.write_all(&big).unwrap();
        assert!(!dest.exists(), "not under its name before the commit");
        f.commit(&dest).unwrap();
        let got = std::fs::read(&dest).unwrap();
        assert_eq!(got.len(), 100_004);
        assert_eq!(&got[..4], b"head");
        assert_eq!(names(dir.path()), ["x.bin"]);
    }

    #[test]
    fn commit_may_choose_another_name_and_replaces_what_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let partial = dir.path().join("x.partial");
        std::fs::write(&partial, "old").unwrap();
        let mut f = AtomicFile::create_in(dir.path(), OsStr::new("x")).unwrap();
        f.write_all(b"new").unwrap();
        f.commit(&partial).unwrap();
        assert_eq!(std::fs::read(&partial).unwrap(), b"new");
        assert_eq!(names(dir.path()), ["x.partial"]);
    }

    #[test]
    fn a_file_dropped_without_commit_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = AtomicFile::create_in(dir.path(), OsStr::new("x")).unwrap();
        f.write_all(&[1; 20_000]).unwrap();
        drop(f);
        assert_eq!(names(dir.path()), Vec::<String>::new());
    }

    #[test]
    fn a_commit_never_replaces_a_pipe_or_a_device_with_a_file() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("pipe");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = write(&fifo, b"body").expect_err("a pipe is not replaced");
        assert_eq!(
            e.to_string(),
            "it is a pipe, not a file, and recvscope replaces only files"
        );
        let t = std::fs::symlink_metadata(&fifo)
            .expect("still there")
            .file_type();
        assert!(t.is_fifo());
        assert_eq!(tests::names(dir.path()), ["pipe"], "no temporary file left");
    }

    #[test]
    fn a_failed_rename_names_the_destination_and_removes_the_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("no/such/dir/x");
        let mut f = AtomicFile::create_in(dir.path(), OsStr::new("x")).unwrap();
        f.write_all(b"abc").unwrap();
        let e = f.commit(&dest).unwrap_err();
        assert_eq!(e.path, dest);
        assert_eq!(e.source.kind(), io::ErrorKind::NotFound);
        assert_eq!(names(dir.path()), Vec::<String>::new());
    }

    #[test]
    fn a_missing_directory_fails_at_create() {
        let dir = tempfile::tempdir().unwrap();
        let e = AtomicFile::create_in(&dir.path().join("missing"), OsStr::new("x")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn a_leftover_temporary_file_is_replaced_and_a_link_there_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let tmp = temp_path(dir.path(), OsStr::new("x"));
        std::os::unix::fs::symlink(&victim, &tmp).unwrap();
        let mut f = AtomicFile::create_in(dir.path(), OsStr::new("x")).unwrap();
        f.write_all(b"new").unwrap();
        f.commit(&dir.path().join("x")).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        assert_eq!(std::fs::read(dir.path().join("x")).unwrap(), b"new");
        assert_eq!(names(dir.path()), ["victim", "x"]);
    }

    #[test]
    fn write_new_makes_a_new_file_and_never_replaces_one() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("page.html");
        write_new(&dest, b"first").unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"first");
        let e = write_new(&dest, b"second").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&dest).unwrap(), b"first");
        let link = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &link).unwrap();
        let e = write_new(&link, b"x").unwrap_err();
        assert_eq!(
            e.kind(),
            io::ErrorKind::AlreadyExists,
            "a link is a name too"
        );
        assert!(!dir.path().join("nowhere").exists(), "not followed");
        assert_eq!(names(dir.path()), ["dangling", "page.html"]);
    }

    #[test]
    fn write_puts_the_bytes_in_place_whole() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("g.svg");
        write(&dest, b"<svg/>").unwrap();
        write(&dest, b"<svg></svg>").unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"<svg></svg>");
        assert_eq!(names(dir.path()), ["g.svg"]);
        let e = write(Path::new("/"), b"x").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(e.to_string(), "/ is not a file name");
    }
}
