//! What a task computed from each file at its last run, kept in its private
//! state with the `lstat` data of the file it was computed from: a file
//! whose size, mtime, ctime, inode and device are all unchanged need not be
//! read again.
//!
//! Why the full stat and not the change feed alone: a write through a
//! shared mapping raises no inotify event, and `touch` can set an mtime
//! back but not a ctime, which only the kernel sets. A file changed in the
//! same timestamp tick as the previous run started can keep the stat that
//! run saw, so a file whose ctime is not safely older than that run is read
//! again (git's racy-clean rule). The state is a hint: a file that does not
//! parse, or carries another tag, counts as empty and everything is read.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use wasip2::filesystem::types::PathFlags;

use crate::{Datetime, Descriptor, DescriptorType, FileStat};

/// How much older than the previous run a ctime must be to be trusted:
/// file timestamps come from a coarse kernel clock.
const RACY_NS: i64 = 1_000_000_000;

/// What identifies a file's content without reading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    size: u64,
    mtime_ns: i64,
    ctime_ns: i64,
    ino: u64,
    dev: u64,
}

impl Stamp {
    pub fn of(stat: &FileStat) -> Stamp {
        Stamp {
            size: stat.size,
            mtime_ns: ns(stat.mtime),
            ctime_ns: ns(stat.ctime),
            ino: stat.ino,
            dev: stat.dev,
        }
    }
}

/// The stamp of the regular file that `path` (under `dir`) leads to,
/// following symlinks as WASI resolves them (never out of the grant);
/// `None` if it leads nowhere or to anything else. A symlink's own stat
/// says nothing of the file it leads to; this does, with WASI's own stat
/// and its hash of the file's device and inode in place of those two.
pub fn followed(dir: &Descriptor, path: &str) -> Option<Stamp> {
    let stat = dir.stat_at(PathFlags::SYMLINK_FOLLOW, path).ok()?;
    if stat.type_ != DescriptorType::RegularFile {
        return None;
    }
    let identity = dir.metadata_hash_at(PathFlags::SYMLINK_FOLLOW, path).ok()?;
    Some(Stamp {
        size: stat.size,
        mtime_ns: ns(stat.data_modification_timestamp?),
        ctime_ns: ns(stat.status_change_timestamp?),
        ino: identity.lower,
        dev: identity.upper,
    })
}

/// Nanoseconds since the epoch, in an `i64` (wasm has no native `i128`,
/// and parsing and printing one costs several times more). A time past
/// 2262 saturates: such a ctime is never older than a run, so a file
/// stamped with one is always read again.
fn ns(time: Datetime) -> i64 {
    i64::try_from(time.seconds)
        .ok()
        .and_then(|seconds| seconds.checked_mul(1_000_000_000))
        .and_then(|ns| ns.checked_add(i64::from(time.nanoseconds)))
        .unwrap_or(i64::MAX)
}

/// Now, in nanoseconds since the Unix epoch: take it before looking at any
/// file, so that what changes from then on is read by the next run.
pub fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
        })
}

/// The previous run's values by path, from state file `name`.
#[derive(Default)]
pub struct Known {
    started_ns: i64,
    values: HashMap<String, (Stamp, String)>,
}

impl Known {
    /// What the last run left in state file `name` under `tag` (a name and
    /// version of the value's format), or nothing if none is usable.
    pub fn load(name: &str, tag: &str) -> Known {
        crate::read_state(name)
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| parse(&text, tag))
            .unwrap_or_default()
    }

    /// Files recorded.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The value recorded for `path`, if the file is provably as it was.
    pub fn get(&self, path: &str, stamp: Stamp) -> Option<&str> {
        let (known, value) = self.values.get(path)?;
        (*known == stamp && stamp.ctime_ns < self.started_ns.saturating_sub(RACY_NS))
            .then_some(value.as_str())
    }
}

/// Replaces state file `name` with this run's values (the run started at
/// `started_ns`, see [`now_ns`]). A path or value holding a line break is
/// left out, so the next run reads that file again. A failure to write only
/// costs the next run time: the old state, which no longer matches, goes.
pub fn store<'a>(
    name: &str,
    tag: &str,
    started_ns: i64,
    values: impl Iterator<Item = (&'a str, Stamp, &'a str)>,
) {
    use std::fmt::Write as _;
    let mut text = String::with_capacity(1 << 16);
    let _ = writeln!(text, "{tag} {started_ns}");
    for (path, stamp, value) in values {
        if path.contains('\n') || value.contains('\n') {
            continue;
        }
        let Stamp {
            size,
            mtime_ns,
            ctime_ns,
            ino,
            dev,
        } = stamp;
        // Written in place: a `format!` per line would allocate per file.
        let _ = writeln!(
            text,
            "{size} {mtime_ns} {ctime_ns} {ino} {dev} {} {path} {value}",
            path.len()
        );
    }
    if crate::write_state(name, text.as_bytes()).is_err() {
        crate::remove_state(name);
    }
}

/// One line per file: the stamp, the path's length in bytes, the path and
/// the value (paths and values may hold spaces, never a line break).
fn parse(text: &str, tag: &str) -> Option<Known> {
    let mut lines = text.lines();
    let started_ns = lines
        .next()?
        .strip_prefix(tag)?
        .strip_prefix(' ')?
        .parse()
        .ok()?;
    let mut values = HashMap::with_capacity(text.bytes().filter(|&b| b == b'\n').count());
    for line in lines {
        let mut fields = line.splitn(7, ' ');
        let mut next = || fields.next();
        let stamp = Stamp {
            size: next()?.parse().ok()?,
            mtime_ns: next()?.parse().ok()?,
            ctime_ns: next()?.parse().ok()?,
            ino: next()?.parse().ok()?,
            dev: next()?.parse().ok()?,
        };
        let path_len: usize = next()?.parse().ok()?;
        let rest = next()?;
        let path = rest.get(..path_len)?;
        let value = rest.get(path_len..)?.strip_prefix(' ')?;
        values.insert(path.to_owned(), (stamp, value.to_owned()));
    }
    Some(Known { started_ns, values })
}
