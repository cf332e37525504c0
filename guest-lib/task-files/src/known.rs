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

use std::cell::Cell;
use std::ops::Range;
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

/// The previous run's values by path, from state file `name`: its text
/// kept whole, each entry a pair of ranges into it, sorted by path. A
/// scan asks in the order it walks, which is the order the state was
/// written in, so each lookup tries the entry after the last one found
/// before it searches: no map of thousands of owned strings to build, and
/// no long shared prefixes compared again and again (byte by byte, in
/// wasm).
#[derive(Default)]
pub struct Known {
    started_ns: i64,
    text: String,
    entries: Vec<Entry>,
    /// The entry after the last one found.
    next: Cell<usize>,
}

struct Entry {
    path: Range<usize>,
    value: Range<usize>,
    stamp: Stamp,
}

impl Known {
    /// What the last run left in state file `name` under `tag` (a name and
    /// version of the value's format), or nothing if none is usable.
    pub fn load(name: &str, tag: &str) -> Known {
        crate::read_state(name)
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| parse(text, tag))
            .unwrap_or_default()
    }

    /// Files recorded.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value recorded for `path`, if the file is provably as it was.
    pub fn get(&self, path: &str, stamp: Stamp) -> Option<&str> {
        let entry = &self.entries[self.find(path)?];
        (entry.stamp == stamp && stamp.ctime_ns < self.started_ns.saturating_sub(RACY_NS))
            .then(|| &self.text[entry.value.clone()])
    }

    fn find(&self, path: &str) -> Option<usize> {
        let next = self.next.get();
        let at = match self.entries.get(next) {
            Some(entry) if &self.text[entry.path.clone()] == path => next,
            _ => self
                .entries
                .binary_search_by(|entry| self.text[entry.path.clone()].cmp(path))
                .ok()?,
        };
        self.next.set(at + 1);
        Some(at)
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
fn parse(text: String, tag: &str) -> Option<Known> {
    let (first, _) = text.split_once('\n')?;
    let started_ns = first.strip_prefix(tag)?.strip_prefix(' ')?.parse().ok()?;
    let mut entries = Vec::with_capacity(text.bytes().filter(|&b| b == b'\n').count());
    let mut start = first.len() + 1;
    while start < text.len() {
        let end = text[start..].find('\n').map_or(text.len(), |at| start + at);
        let line = &text[start..end];
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
        let rest_at = start + (rest.as_ptr() as usize - line.as_ptr() as usize);
        rest.get(..path_len)?;
        rest.get(path_len..)?.strip_prefix(' ')?;
        entries.push(Entry {
            path: rest_at..rest_at + path_len,
            value: rest_at + path_len + 1..end,
            stamp,
        });
        start = end + 1;
    }
    let path = |entry: &Entry| &text[entry.path.clone()];
    if !entries.is_sorted_by(|a, b| path(a) < path(b)) {
        entries.sort_by(|a, b| path(a).cmp(path(b)));
        // A path recorded twice: the state is not this code's; start over.
        if entries
            .windows(2)
            .any(|pair| path(&pair[0]) == path(&pair[1]))
        {
            return None;
        }
    }
    Some(Known {
        started_ns,
        text,
        entries,
        next: Cell::new(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(size: u64, ctime_ns: i64) -> Stamp {
        Stamp {
            size,
            mtime_ns: 5,
            ctime_ns,
            ino: 7,
            dev: 8,
        }
    }

    #[test]
    fn values_are_found_in_order_out_of_order_and_only_for_their_stamp() {
        let text = format!(
            "tag v1 {}\n3 5 100 7 8 5 b/one value one\n4 5 100 7 8 5 a two x\n",
            10_000_000_000_i64
        );
        let known = parse(text, "tag v1").unwrap();
        assert_eq!(known.len(), 2);
        // Read back sorted: `a two` before `b/one`, asked in either order.
        assert_eq!(known.get("a two", stamp(4, 100)), Some("x"));
        assert_eq!(known.get("b/one", stamp(3, 100)), Some("value one"));
        assert_eq!(known.get("a two", stamp(4, 100)), Some("x"));
        assert_eq!(known.get("b/one", stamp(9, 100)), None, "another size");
        assert_eq!(known.get("c", stamp(3, 100)), None, "never recorded");
    }

    #[test]
    fn a_racily_clean_file_is_read_again() {
        let text = "tag v1 1000000000\n3 5 100 7 8 1 f v\n".to_string();
        assert_eq!(parse(text, "tag v1").unwrap().get("f", stamp(3, 100)), None);
    }

    #[test]
    fn foreign_or_damaged_state_is_no_state() {
        for text in [
            "other v1 1\n3 5 100 7 8 1 f v\n",
            "tag v1 1\n3 5 100 7 8 9 f v\n",
            "tag v1 1\n3 5 x 7 8 1 f v\n",
            "tag v1 1\n3 5 1 7 8 1 f v\n3 5 1 7 8 1 f w\n",
            "tag v1 1\n\n",
        ] {
            assert!(parse(text.to_string(), "tag v1").is_none(), "{text:?}");
        }
    }
}
