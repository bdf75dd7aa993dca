//! The downloaded body on disk, written the safe way: to a temporary file
//! beside the target, renamed to the target only when complete, renamed
//! to a name that says `partial` otherwise.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::response::Body;

/// Why the body cannot be saved where asked.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("{0} already exists; pass --force to overwrite it or -o to choose another name")]
    Exists(PathBuf),
    #[error("cannot write in {dir}: {source}")]
    Create { dir: PathBuf, source: io::Error },
    #[error("writing the body to {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
}

/// A body being written.
pub struct BodyFile {
    target: PathBuf,
    tmp: PathBuf,
    out: BufWriter<File>,
    error: Option<io::Error>,
}

/// Fails early when `target` exists and may not be overwritten.
pub fn check_target(target: &Path, force: bool) -> Result<(), SaveError> {
    if !force && target.exists() {
        return Err(SaveError::Exists(target.to_path_buf()));
    }
    Ok(())
}

/// The name a short body is kept under: `cover3.jpg` → `cover3.jpg.partial`.
pub fn partial_name(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    target.with_file_name(name)
}

impl BodyFile {
    pub fn create(target: &Path) -> Result<BodyFile, SaveError> {
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target.file_name().unwrap_or_default().to_string_lossy();
        let tmp = dir.join(format!(".{name}.recvscope-{}.tmp", std::process::id()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|source| SaveError::Create {
                dir: dir.clone(),
                source,
            })?;
        Ok(BodyFile {
            target: target.to_path_buf(),
            tmp,
            out: BufWriter::new(file),
            error: None,
        })
    }

    /// Moves the finished body into place: the target when `complete`,
    /// else the partial name. Returns where it went.
    pub fn finish(mut self, complete: bool, force: bool) -> Result<PathBuf, SaveError> {
        let write_err = |path: &Path, source| SaveError::Write {
            path: path.to_path_buf(),
            source,
        };
        if let Some(e) = self.error.take() {
            return Err(write_err(&self.tmp, e));
        }
        self.out
            .flush()
            .and_then(|()| self.out.get_ref().sync_all())
            .map_err(|e| write_err(&self.tmp, e))?;
        let dest = if complete {
            check_target(&self.target, force)?;
            self.target.clone()
        } else {
            partial_name(&self.target)
        };
        std::fs::rename(&self.tmp, &dest).map_err(|e| write_err(&dest, e))?;
        Ok(dest)
    }
}

impl Body for BodyFile {
    fn write(&mut self, bytes: &[u8]) {
        if self.error.is_none()
            && let Err(e) = self.out.write_all(bytes)
        {
            self.error = Some(e);
        }
    }
}

impl Drop for BodyFile {
    /// A body never finished leaves no file behind under any name.
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
