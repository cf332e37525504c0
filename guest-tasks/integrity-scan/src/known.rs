//! Digests kept from the last scan in the task's private state
//! (`corral:task/incremental`), each with the `lstat` data of the file it
//! was computed from: a file whose size, mtime, ctime, inode and device
//! are all unchanged is not hashed again.
//!
//! Why the full stat and not the change feed: a write through a shared
//! mapping raises no inotify event, and `touch` can set an mtime back but
//! not a ctime, which only the kernel sets. A file changed in the same
//! timestamp tick as the previous scan started can keep the stat that scan
//! saw, so a file whose ctime is not safely older than that scan is hashed
//! again (git's racy-clean rule). The state is a hint: anything that does
//! not parse is ignored, and the scan hashes everything.

use std::collections::HashMap;

use corral_task_files::FileStat;

/// The state file's name and its first line's tag.
const STATE_FILE: &str = "digests";
const HEADER: &str = "integrity-scan digests v1";
/// How much older than the previous scan a ctime must be to be trusted:
/// file timestamps come from a coarse kernel clock.
const RACY_NS: i128 = 1_000_000_000;

/// What identifies a file's content without reading it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    ino: u64,
    dev: u64,
}

impl Stamp {
    pub fn of(stat: &FileStat) -> Stamp {
        let ns = |time: corral_task_files::Datetime| {
            i128::from(time.seconds) * 1_000_000_000 + i128::from(time.nanoseconds)
        };
        Stamp {
            size: stat.size,
            mtime_ns: ns(stat.mtime),
            ctime_ns: ns(stat.ctime),
            ino: stat.ino,
            dev: stat.dev,
        }
    }
}

/// The previous scan's digests by reported path.
#[derive(Default)]
pub struct Known {
    started_ns: i128,
    digests: HashMap<String, (Stamp, String)>,
}

impl Known {
    /// The state the last scan left, or nothing if there is none usable.
    pub fn load() -> Known {
        corral_task_files::read_state(STATE_FILE)
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| parse(&text))
            .unwrap_or_default()
    }

    /// Files recorded.
    pub fn len(&self) -> usize {
        self.digests.len()
    }

    /// The digest recorded for `path`, if the file is provably as it was.
    pub fn digest(&self, path: &str, stamp: Stamp) -> Option<&str> {
        let (known, digest) = self.digests.get(path)?;
        (*known == stamp && stamp.ctime_ns < self.started_ns - RACY_NS).then_some(digest.as_str())
    }
}

/// Records this scan (started at `started_ns`) for the next one. A failure
/// to write only costs the next scan time: it removes the old state, which
/// no longer matches.
pub fn store<'a>(started_ns: i128, files: impl Iterator<Item = (&'a str, Stamp, &'a str)>) {
    let mut text = format!("{HEADER} {started_ns}\n");
    for (path, stamp, digest) in files {
        text.push_str(&format!(
            "{digest} {} {} {} {} {} {path}\n",
            stamp.size, stamp.mtime_ns, stamp.ctime_ns, stamp.ino, stamp.dev
        ));
    }
    if corral_task_files::write_state(STATE_FILE, text.as_bytes()).is_err() {
        corral_task_files::remove_state(STATE_FILE);
    }
}

fn parse(text: &str) -> Option<Known> {
    let mut lines = text.lines();
    let started_ns = lines.next()?.strip_prefix(HEADER)?.trim().parse().ok()?;
    let mut digests = HashMap::new();
    for line in lines {
        let mut fields = line.splitn(7, ' ');
        let mut next = || fields.next();
        let digest = next()?;
        if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let stamp = Stamp {
            size: next()?.parse().ok()?,
            mtime_ns: next()?.parse().ok()?,
            ctime_ns: next()?.parse().ok()?,
            ino: next()?.parse().ok()?,
            dev: next()?.parse().ok()?,
        };
        digests.insert(next()?.to_owned(), (stamp, digest.to_owned()));
    }
    Some(Known {
        started_ns,
        digests,
    })
}
