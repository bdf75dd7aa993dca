//! The downloaded body on disk, written the safe way: to a temporary file
//! beside the target, renamed to the target only when complete, renamed
//! to a name that says `partial` otherwise.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::response::Body;
use crate::atomic_file::{self, AtomicFile};

/// Why the body cannot be saved where asked.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SaveError {
    #[error("{0} already exists; pass --force to overwrite it or -o to choose another name")]
    Exists(PathBuf),
    #[error(
        "{0} is a device, a pipe or a socket, not a file; to throw the body away, use --discard-body"
    )]
    NotAFile(PathBuf),
    #[error("cannot write in {dir}: {error}")]
    Create { dir: PathBuf, error: io::Error },
    #[error("writing the body to {path}: {error}")]
    Write { path: PathBuf, error: io::Error },
}

/// A body being written, under a temporary name until [`BodyFile::finish`].
pub(crate) struct BodyFile {
    target: PathBuf,
    file: AtomicFile,
    error: Option<io::Error>,
    /// Bytes written so far.
    bytes: u64,
}

/// Fails early when `target` exists and may not be overwritten.
pub(crate) fn check_target(target: &Path, force: bool) -> Result<(), SaveError> {
    use std::os::unix::fs::FileTypeExt;
    let special = |t: std::fs::FileType| {
        t.is_char_device() || t.is_block_device() || t.is_fifo() || t.is_socket()
    };
    if std::fs::symlink_metadata(target).is_ok_and(|m| special(m.file_type())) {
        return Err(SaveError::NotAFile(target.to_path_buf()));
    }
    if !force && target.exists() {
        return Err(SaveError::Exists(target.to_path_buf()));
    }
    Ok(())
}

/// The name a short body is kept under: `cover3.jpg` → `cover3.jpg.partial`,
/// or, unless `force`, `cover3.jpg.partial-2`, `-3`… when a partial body of
/// an earlier run is there.
pub(crate) fn partial_name(target: &Path, force: bool) -> PathBuf {
    let name = format!(
        "{}.partial",
        target.file_name().unwrap_or_default().to_string_lossy()
    );
    let mut n = 1;
    loop {
        let path = target.with_file_name(super::numbered(&name, n));
        if force || !path.exists() {
            return path;
        }
        n += 1;
    }
}

impl BodyFile {
    pub(crate) fn create(target: &Path) -> Result<BodyFile, SaveError> {
        let dir = atomic_file::dir_of(target);
        let name = target.file_name().unwrap_or_default();
        let file = AtomicFile::create_in(dir, name).map_err(|error| SaveError::Create {
            dir: dir.to_path_buf(),
            error,
        })?;
        Ok(BodyFile {
            target: target.to_path_buf(),
            file,
            error: None,
            bytes: 0,
        })
    }

    /// Bytes of body written so far.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Moves the finished body into place: the target when `complete`,
    /// else the partial name; neither over an earlier file unless `force`.
    /// Returns where it went. On failure, and when
    /// a `BodyFile` is dropped unfinished, no file is left under any name.
    pub(crate) fn finish(mut self, complete: bool, force: bool) -> Result<PathBuf, SaveError> {
        if let Some(error) = self.error.take() {
            return Err(SaveError::Write {
                path: self.file.temp().to_path_buf(),
                error,
            });
        }
        let dest = if complete {
            check_target(&self.target, force)?;
            self.target.clone()
        } else {
            partial_name(&self.target, force)
        };
        self.file.commit(&dest).map_err(|e| SaveError::Write {
            path: e.path,
            error: e.source,
        })?;
        Ok(dest)
    }
}

impl Body for BodyFile {
    fn write(&mut self, bytes: &[u8]) {
        self.bytes += bytes.len() as u64;
        if self.error.is_none()
            && let Err(e) = self.file.write_all(bytes)
        {
            self.error = Some(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_is_never_a_target_even_with_force() {
        let e = check_target(Path::new("/dev/null"), true).expect_err("a device");
        assert_eq!(
            e.to_string(),
            "/dev/null is a device, a pipe or a socket, not a file; to throw the body away, use --discard-body"
        );
    }

    #[test]
    fn complete_body_is_renamed_into_place_and_nothing_else_remains() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("cover3.jpg");
        let mut f = BodyFile::create(&target).unwrap();
        f.write(b"abc");
        assert!(!target.exists(), "not under its name before it is complete");
        assert_eq!(f.finish(true, false).unwrap(), target);
        assert_eq!(std::fs::read(&target).unwrap(), b"abc");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn the_body_is_under_the_hidden_temporary_name_until_finished() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = BodyFile::create(&dir.path().join("cover3.jpg")).unwrap();
        f.write(b"abc");
        let tmp = format!(".cover3.jpg.recvscope-{}.tmp", std::process::id());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [std::ffi::OsString::from(tmp)]);
    }

    #[test]
    fn an_unwritable_directory_is_named_in_the_error() {
        let e = BodyFile::create(Path::new("no/such/dir/x.jpg"))
            .err()
            .unwrap();
        assert!(matches!(&e, SaveError::Create { dir, .. } if dir == Path::new("no/such/dir")));
        assert!(
            e.to_string().starts_with("cannot write in no/such/dir: "),
            "{e}"
        );
    }

    #[test]
    fn short_body_goes_under_a_partial_name() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("cover3.jpg");
        let mut f = BodyFile::create(&target).unwrap();
        f.write(b"ab");
        let dest = f.finish(false, false).unwrap();
        assert_eq!(dest, dir.path().join("cover3.jpg.partial"));
        assert!(!target.exists());
    }

    #[test]
    fn a_partial_body_of_an_earlier_run_is_kept_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("cover3.jpg");
        let short = |bytes: &[u8], force: bool| {
            let mut f = BodyFile::create(&target).unwrap();
            f.write(bytes);
            f.finish(false, force).unwrap()
        };
        assert_eq!(short(b"1", false), dir.path().join("cover3.jpg.partial"));
        assert_eq!(short(b"2", false), dir.path().join("cover3.jpg.partial-2"));
        assert_eq!(short(b"3", false), dir.path().join("cover3.jpg.partial-3"));
        assert_eq!(short(b"4", true), dir.path().join("cover3.jpg.partial"));
        let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap();
        assert_eq!(read("cover3.jpg.partial"), b"4");
        assert_eq!(read("cover3.jpg.partial-2"), b"2");
        assert_eq!(read("cover3.jpg.partial-3"), b"3");
    }

    #[test]
    fn existing_file_is_kept_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("x");
        std::fs::write(&target, "old").unwrap();
        assert!(matches!(
            check_target(&target, false),
            Err(SaveError::Exists(_))
        ));
        let mut f = BodyFile::create(&target).unwrap();
        f.write(b"new");
        assert!(f.finish(true, false).is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temp file removed"
        );
        let mut f = BodyFile::create(&target).unwrap();
        f.write(b"new");
        f.finish(true, true).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
    }

    #[test]
    fn abandoned_body_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let f = BodyFile::create(&dir.path().join("x")).unwrap();
        drop(f);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
