//! Turning a URL path into a file under `--root`, refusing everything that could leave it.
//!
//! Two stages. [`segments`] is pure: it percent-decodes the path and refuses `..`,
//! encoded slashes, backslashes, NUL and anything that would be absolute. [`resolve`]
//! then asks the file system: it canonicalizes the joined path (following symlinks) and
//! refuses a result outside the canonical root, so a symlink inside the root that points
//! at `/etc/passwd` is refused too.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Why a path is not served: the status to answer with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// 400: the percent-encoding is broken.
    Malformed,
    /// 403: the path tries to leave the root, or names something that is not a file.
    Forbidden,
    /// 404: nothing there.
    NotFound,
}

impl Refusal {
    /// The HTTP status for this refusal.
    pub(crate) fn status(self) -> u16 {
        match self {
            Refusal::Malformed => 400,
            Refusal::Forbidden => 403,
            Refusal::NotFound => 404,
        }
    }
}

/// Decodes a URL path (`/a/b%20c`) into its segments, relative to the root.
///
/// Empty and `.` segments are dropped. Refused as [`Refusal::Forbidden`]: a path that does
/// not start with `/`, a `..` segment (literal or encoded), an encoded `/` or `\`, any
/// backslash, and NUL.
pub(crate) fn segments(path: &str) -> Result<Vec<Vec<u8>>, Refusal> {
    if !path.starts_with('/') {
        return Err(Refusal::Forbidden);
    }
    let mut out = Vec::new();
    for raw in path[1..].split('/') {
        let seg = percent_decode(raw)?;
        if seg.iter().any(|&b| b == b'/' || b == b'\\' || b == 0) {
            return Err(Refusal::Forbidden);
        }
        match &seg[..] {
            b"" | b"." => {}
            b".." => return Err(Refusal::Forbidden),
            _ => out.push(seg),
        }
    }
    Ok(out)
}

fn percent_decode(s: &str) -> Result<Vec<u8>, Refusal> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3).ok_or(Refusal::Malformed)?;
            let hex = std::str::from_utf8(hex).map_err(|_| Refusal::Malformed)?;
            if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(Refusal::Malformed);
            }
            out.push(u8::from_str_radix(hex, 16).map_err(|_| Refusal::Malformed)?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// Finds the regular file a URL path names under `root`, which must be canonical
/// (`std::fs::canonicalize`). A directory is served by its `index.html`.
pub(crate) fn resolve(root: &Path, url_path: &str) -> Result<PathBuf, Refusal> {
    let mut path = root.to_path_buf();
    for seg in segments(url_path)? {
        path.push(OsStr::from_bytes(&seg));
    }
    let mut real = inside(root, &path)?;
    if real.is_dir() {
        real = inside(root, &real.join("index.html"))?;
    }
    if real.is_file() {
        Ok(real)
    } else if real.is_dir() {
        Err(Refusal::NotFound)
    } else {
        Err(Refusal::Forbidden)
    }
}

/// Canonicalizes `path` and checks it is `root` or below it.
fn inside(root: &Path, path: &Path) -> Result<PathBuf, Refusal> {
    let real = std::fs::canonicalize(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory => Refusal::NotFound,
        _ => Refusal::Forbidden,
    })?;
    if real.starts_with(root) {
        Ok(real)
    } else {
        Err(Refusal::Forbidden)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(p: &str) -> Result<Vec<String>, Refusal> {
        segments(p).map(|v| {
            v.into_iter()
                .map(|s| String::from_utf8(s).unwrap())
                .collect()
        })
    }

    #[test]
    fn ordinary_paths_split_and_decode() {
        assert_eq!(segs("/"), Ok(vec![]));
        assert_eq!(segs("/cover3.jpg"), Ok(vec!["cover3.jpg".into()]));
        assert_eq!(segs("/a//./b%20c/"), Ok(vec!["a".into(), "b c".into()]));
        assert_eq!(segs("/%41%62"), Ok(vec!["Ab".into()]));
        assert_eq!(segs("/...").unwrap(), vec!["...".to_string()]);
        assert_eq!(segs("/a..b").unwrap(), vec!["a..b".to_string()]);
    }

    #[test]
    fn dot_dot_in_any_spelling_is_forbidden() {
        for p in [
            "/..",
            "/../etc/passwd",
            "/a/../../b",
            "/a/..",
            "/%2e%2e/etc/passwd",
            "/%2E%2E/x",
            "/.%2e/x",
            "/%2e./x",
        ] {
            assert_eq!(segments(p), Err(Refusal::Forbidden), "{p}");
        }
    }

    #[test]
    fn encoded_separators_backslashes_nul_and_absolute_paths_are_forbidden() {
        for p in [
            "/%2fetc/passwd",
            "/a%2F..%2F..%2Fetc",
            "/..%2fetc",
            "/%5c..%5cx",
            "/a\\..\\b",
            "/a%00.jpg",
            "%2fetc%2fpasswd",
            "etc/passwd",
            "",
        ] {
            assert_eq!(segments(p), Err(Refusal::Forbidden), "{p}");
        }
    }

    #[test]
    fn broken_percent_encoding_is_malformed() {
        for p in ["/%", "/%2", "/%zz", "/a%g1", "/%%41"] {
            assert_eq!(segments(p), Err(Refusal::Malformed), "{p}");
        }
    }

    #[test]
    fn resolve_serves_files_and_indexes_and_refuses_escaping_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::write(root.join("a.txt"), "a").unwrap();
        std::fs::create_dir(root.join("sub")).unwrap();
        std::fs::create_dir(root.join("empty")).unwrap();
        std::fs::write(root.join("sub/index.html"), "i").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("passwd")).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("etc")).unwrap();
        std::os::unix::fs::symlink(root.join("a.txt"), root.join("alias")).unwrap();

        assert_eq!(resolve(&root, "/a.txt"), Ok(root.join("a.txt")));
        assert_eq!(resolve(&root, "/alias"), Ok(root.join("a.txt")));
        assert_eq!(resolve(&root, "/sub"), Ok(root.join("sub/index.html")));
        assert_eq!(resolve(&root, "/sub/"), Ok(root.join("sub/index.html")));
        assert_eq!(resolve(&root, "/empty/"), Err(Refusal::NotFound));
        assert_eq!(resolve(&root, "/"), Err(Refusal::NotFound));
        assert_eq!(resolve(&root, "/missing"), Err(Refusal::NotFound));
        assert_eq!(resolve(&root, "/a.txt/x"), Err(Refusal::NotFound));
        assert_eq!(resolve(&root, "/passwd"), Err(Refusal::Forbidden));
        assert_eq!(resolve(&root, "/etc/passwd"), Err(Refusal::Forbidden));
        assert_eq!(resolve(&root, "/../a.txt"), Err(Refusal::Forbidden));
    }
}
