//! A file read in fixed-size blocks, handed out in order. With read-ahead,
//! a helper thread reads the next blocks while the caller works on this
//! one, and the caller, rather than wait, reads the next block nobody has
//! started: when the caller's work is light (large packets) both threads
//! copy the file, when it is heavy the helper alone keeps it fed.

use std::collections::BTreeMap;
use std::io;
use std::sync::{Condvar, Mutex, MutexGuard};

/// Bytes per block: many records per read, small enough to stay in cache.
pub(crate) const BLOCK: usize = 2 << 20;
/// Blocks the helper may read beyond the one the caller is on.
const AHEAD: u64 = 3;

/// Bytes readable at any offset from several threads at once: a file, or
/// bytes in memory.
pub(crate) trait Source: Sync {
    /// Reads into `into` from `offset`; fewer bytes only at the end.
    fn read_at(&self, into: &mut [u8], offset: u64) -> io::Result<usize>;
}

impl Source for std::fs::File {
    fn read_at(&self, into: &mut [u8], offset: u64) -> io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(self, into, offset)
    }
}

impl Source for [u8] {
    fn read_at(&self, into: &mut [u8], offset: u64) -> io::Result<usize> {
        let from = usize::try_from(offset).map_or(self.len(), |o| o.min(self.len()));
        let n = into.len().min(self.len() - from);
        into[..n].copy_from_slice(&self[from..from + n]);
        Ok(n)
    }
}

/// Calls `f` with every block of `file` in order: [`BLOCK`] bytes each,
/// the last one shorter (possibly empty). Stops at the first error, of
/// reading or of `f`.
pub(crate) fn each_block(
    file: &(impl Source + ?Sized),
    ahead: bool,
    mut f: impl FnMut(&[u8]) -> Result<(), String>,
) -> Result<(), String> {
    if !ahead {
        let mut buf = vec![0u8; BLOCK];
        for k in 0.. {
            let n = fill(file, &mut buf, k)?;
            f(&buf[..n])?;
            if n < BLOCK {
                break;
            }
        }
        return Ok(());
    }
    let shared = Shared {
        state: Mutex::new(State::default()),
        changed: Condvar::new(),
    };
    std::thread::scope(|scope| {
        scope.spawn(|| shared.help(file));
        // Also when `f` panics: the helper must stop for the scope to end.
        let _stop = Finished(&shared);
        shared.consume(file, &mut f)
    })
}

/// Tells the helper the caller has stopped, when dropped.
struct Finished<'a>(&'a Shared);

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        self.0.lock().finished = true;
        self.0.changed.notify_all();
    }
}

/// Reads block `k` of the file into `buf`, whole unless it is the last.
fn fill(file: &(impl Source + ?Sized), buf: &mut [u8], k: u64) -> Result<usize, String> {
    let start = k * BLOCK as u64;
    let mut n = 0;
    while n < buf.len() {
        match file.read_at(&mut buf[n..], start + n as u64) {
            Ok(0) => break,
            Ok(got) => n += got,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("error reading dump file: {e}")),
        }
    }
    Ok(n)
}

/// A block read, or why it could not be.
type Read = Result<(Vec<u8>, usize), String>;

#[derive(Default)]
struct State {
    /// The next block nobody has started reading.
    unclaimed: u64,
    /// The block the caller needs next.
    wanted: u64,
    /// Blocks read and not yet used, by number.
    ready: BTreeMap<u64, Read>,
    /// Buffers the caller is done with.
    free: Vec<Vec<u8>>,
    /// A block came back short or failed: none after it is needed.
    at_end: bool,
    /// The caller stopped; the helper stops too.
    finished: bool,
    /// The helper stopped (also when it panicked).
    helper_gone: bool,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed
            .wait(guard)
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The helper thread: reads the next unclaimed block while it is
    /// within [`AHEAD`] of the caller.
    fn help(&self, file: &(impl Source + ?Sized)) {
        struct Gone<'a>(&'a Shared);
        impl Drop for Gone<'_> {
            fn drop(&mut self) {
                self.0.lock().helper_gone = true;
                self.0.changed.notify_all();
            }
        }
        let _gone = Gone(self);
        let mut s = self.lock();
        loop {
            if s.finished || s.at_end {
                return;
            }
            if s.unclaimed > s.wanted + AHEAD {
                s = self.wait(s);
                continue;
            }
            let k = s.unclaimed;
            s.unclaimed += 1;
            let mut buf = s.free.pop().unwrap_or_default();
            drop(s);
            buf.resize(BLOCK, 0);
            let read = fill(file, &mut buf, k).map(|n| (buf, n));
            s = self.lock();
            s.at_end |= !matches!(read, Ok((_, BLOCK)));
            s.ready.insert(k, read);
            self.changed.notify_all();
        }
    }

    /// The caller's side: every block in order to `f`, reading one itself
    /// when nobody has started on it.
    fn consume(
        &self,
        file: &(impl Source + ?Sized),
        f: &mut impl FnMut(&[u8]) -> Result<(), String>,
    ) -> Result<(), String> {
        loop {
            let mut s = self.lock();
            let k = s.wanted;
            let read = loop {
                if let Some(read) = s.ready.remove(&k) {
                    break read;
                }
                if !s.at_end && s.unclaimed <= k + AHEAD {
                    // Rather than wait, read the next block nobody has started.
                    let u = s.unclaimed;
                    s.unclaimed += 1;
                    let mut buf = s.free.pop().unwrap_or_default();
                    drop(s);
                    buf.resize(BLOCK, 0);
                    let read = fill(file, &mut buf, u).map(|n| (buf, n));
                    s = self.lock();
                    if u == k {
                        break read;
                    }
                    s.at_end |= !matches!(read, Ok((_, BLOCK)));
                    s.ready.insert(u, read);
                    continue;
                }
                if s.helper_gone {
                    return Err("error reading dump file: the reader thread stopped".into());
                }
                s = self.wait(s);
            };
            drop(s);
            let (buf, n) = read?;
            f(&buf[..n])?;
            if n < BLOCK {
                return Ok(());
            }
            let mut s = self.lock();
            s.free.push(buf);
            s.wanted = k + 1;
            self.changed.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(bytes: &[u8], ahead: bool) -> Vec<Vec<u8>> {
        let mut got = Vec::new();
        each_block(bytes, ahead, |b| {
            got.push(b.to_vec());
            Ok(())
        })
        .expect("read");
        got
    }

    #[test]
    fn blocks_come_in_order_whole_with_a_short_or_empty_last_one() {
        let bytes: Vec<u8> = (0..BLOCK * 5 + 7).map(|i| (i % 251) as u8).collect();
        for ahead in [false, true] {
            let got = blocks(&bytes, ahead);
            assert_eq!(got.len(), 6, "ahead {ahead}");
            assert_eq!(got[5].len(), 7);
            assert_eq!(got.concat(), bytes, "ahead {ahead}");
            let exact = blocks(&bytes[..BLOCK * 2], ahead);
            assert_eq!(
                exact.iter().map(Vec::len).collect::<Vec<_>>(),
                [BLOCK, BLOCK, 0]
            );
        }
    }

    #[test]
    fn an_error_from_the_caller_stops_the_reading() {
        let bytes = vec![1u8; BLOCK * 8];
        for ahead in [false, true] {
            let mut calls = 0;
            let end = each_block(bytes.as_slice(), ahead, |_| {
                calls += 1;
                if calls == 2 {
                    Err("enough".into())
                } else {
                    Ok(())
                }
            });
            assert_eq!(end, Err("enough".to_string()));
            assert_eq!(calls, 2);
        }
    }

    /// Bytes in memory that remember the furthest block anyone started.
    struct Watched(Vec<u8>, std::sync::atomic::AtomicU64);

    impl Source for Watched {
        fn read_at(&self, into: &mut [u8], offset: u64) -> io::Result<usize> {
            self.1
                .fetch_max(offset / BLOCK as u64, std::sync::atomic::Ordering::SeqCst);
            self.0.read_at(into, offset)
        }
    }

    #[test]
    fn reading_ahead_stays_a_few_blocks_ahead_of_a_slow_caller() {
        let file = Watched(vec![0u8; BLOCK * 12], 0.into());
        let mut k = 0u64;
        each_block(&file, true, |_| {
            std::thread::sleep(std::time::Duration::from_millis(5));
            let furthest = file.1.load(std::sync::atomic::Ordering::SeqCst);
            assert!(furthest <= k + AHEAD, "block {furthest} read while on {k}");
            k += 1;
            Ok(())
        })
        .expect("read");
        assert_eq!(k, 13, "12 whole blocks and an empty last one");
    }

    #[test]
    fn a_panic_in_the_caller_ends_the_helper_too() {
        let bytes = vec![0u8; BLOCK * 12];
        let outcome = std::panic::catch_unwind(|| {
            each_block(bytes.as_slice(), true, |_| panic!("analysis bug"))
        });
        assert!(outcome.is_err(), "the panic comes through, nothing hangs");
    }

    /// A source that fails from a given offset on.
    struct Failing(u64);

    impl Source for Failing {
        fn read_at(&self, into: &mut [u8], offset: u64) -> io::Result<usize> {
            if offset >= self.0 {
                return Err(io::Error::other("disk on fire"));
            }
            let n = into.len().min((self.0 - offset) as usize);
            into[..n].fill(0);
            Ok(n)
        }
    }

    #[test]
    fn a_read_error_ends_it_after_the_blocks_before() {
        for ahead in [false, true] {
            let mut seen = 0;
            let end = each_block(&Failing(BLOCK as u64 * 3), ahead, |b| {
                seen += b.len();
                Ok(())
            });
            assert_eq!(
                end,
                Err("error reading dump file: disk on fire".to_string())
            );
            assert_eq!(seen, BLOCK * 3, "ahead {ahead}");
        }
    }
}
