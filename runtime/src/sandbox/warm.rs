//! Components kept loaded between runs of one process (the server's):
//! a component file whose identity and stamps are unchanged since it was
//! read, verified and linked is not read, hashed or linked again.
//!
//! The key is the file's device, inode, size, and modification and change
//! times in nanoseconds: a rewrite or a rename over the file changes the
//! change time, which no user can set back, so an unchanged stamp means
//! the same bytes.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::sandbox::bindings::TaskFilesPre;
use crate::sandbox::host::StoreData;

/// What identifies one version of a file without reading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

/// How old a change must be before its stamp vouches for the content:
/// timestamps move in coarse ticks, so a same-size rewrite within the tick
/// of the read could keep the stamp (git's "racily clean" files).
const SETTLED: std::time::Duration = std::time::Duration::from_secs(2);

impl FileStamp {
    /// The stamp of `path`, following a final link as reading it would;
    /// `None` when it cannot be read, or was changed too recently for its
    /// stamp to vouch for its content ([`SETTLED`]).
    pub fn of(path: &Path) -> Option<FileStamp> {
        let meta = std::fs::metadata(path).ok()?;
        let ns = |secs: i64, nanos: i64| i128::from(secs) * 1_000_000_000 + i128::from(nanos);
        let stamp = FileStamp {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos() as i128);
        (now - stamp.ctime_ns >= SETTLED.as_nanos() as i128).then_some(stamp)
    }

    /// The stamp as text, for records kept on disk.
    pub fn key(&self) -> String {
        let FileStamp {
            dev,
            ino,
            size,
            mtime_ns,
            ctime_ns,
        } = self;
        format!("{dev}:{ino}:{size}:{mtime_ns}:{ctime_ns}")
    }
}

/// A component as loaded: its digest and its linked instance.
#[derive(Clone)]
pub struct Linked {
    pub sha256: String,
    pub pre: Arc<TaskFilesPre<StoreData>>,
    /// It imports `corral:task/incremental`: it gets a change feed and a
    /// private state directory.
    pub incremental: bool,
}

/// A component file and the pin it was checked against.
type Key = (PathBuf, Option<String>);

/// Loaded components by path and pin, each with the stamp it was read at.
#[derive(Default)]
pub struct Warm {
    entries: Mutex<HashMap<Key, (FileStamp, Linked)>>,
}

/// Components kept at most: one per task of a few manifests.
const MAX_ENTRIES: usize = 64;

impl Warm {
    /// The component loaded earlier from `path` with `pin`, if the file's
    /// stamp is still `stamp`.
    pub fn get(&self, path: &Path, pin: Option<&str>, stamp: FileStamp) -> Option<Linked> {
        let key = (path.to_path_buf(), pin.map(str::to_string));
        match lock(&self.entries).get(&key) {
            Some((seen, linked)) if *seen == stamp => Some(linked.clone()),
            _ => None,
        }
    }

    /// Remembers a component read at `stamp`.
    pub fn insert(&self, path: &Path, pin: Option<&str>, stamp: FileStamp, linked: Linked) {
        let mut entries = lock(&self.entries);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            (path.to_path_buf(), pin.map(str::to_string)),
            (stamp, linked),
        );
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
