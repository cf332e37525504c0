//! `walk-tree`: a whole tree listed with its `lstat` data in one host call,
//! where a guest walking it with `list-dir` pays a call, an `open-at` and a
//! descriptor per directory.
//!
//! The walk holds one open directory per level (each opened from its parent
//! with `O_NOFOLLOW`, so a symlink is never entered and nothing outside the
//! task's descriptor is reached), enters directories as the task's
//! `descend` says, is bounded in entries, depth, fuel and time, and sorts
//! what it found by path once at the end.

use std::collections::HashSet;
use std::io;
use std::time::Instant;

use rustix::fs::{Mode, OFlags};
use wasmtime_wasi::p2::bindings::filesystem::types::{DescriptorType, ErrorCode};

use super::{Budget, FUEL_PER_STAT, error_code, lstat_at};
use crate::sandbox::bindings::corral::task::files::{Descend, DirEntry, WalkError};

/// Entries one walk may return.
pub(super) const MAX_TREE_ENTRIES: usize = 262_144;
/// Directories deeper than this fail the walk: no real tree nests so, and
/// each level holds a descriptor.
const MAX_DEPTH: usize = 256;

/// Which directories a walk enters: all but `paths`, or only `paths`.
pub(super) struct Entering {
    only: bool,
    paths: HashSet<String>,
}

impl From<Descend> for Entering {
    fn from(descend: Descend) -> Self {
        let (only, paths) = match descend {
            Descend::All => (false, Vec::new()),
            Descend::Except(paths) => (false, paths),
            Descend::Only(paths) => (true, paths),
        };
        Entering {
            only,
            paths: paths.into_iter().collect(),
        }
    }
}

impl Entering {
    fn enters(&self, path: &str) -> bool {
        self.paths.contains(path) == self.only
    }
}

/// What one walk is allowed and what it found.
pub(super) struct Walk<'a> {
    pub entering: Entering,
    pub budget: &'a mut Budget,
    pub deadline: Instant,
    pub found: Vec<DirEntry>,
}

impl Walk<'_> {
    /// Lists `dir` (at `prefix`, `""` for the root) and every directory
    /// below it, then sorts what it found by path.
    pub(super) fn run(mut self, dir: &std::fs::File) -> Result<Vec<DirEntry>, WalkError> {
        self.walk(dir, "", 0)?;
        self.found.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        Ok(self.found)
    }

    fn walk(&mut self, dir: &std::fs::File, prefix: &str, depth: usize) -> Result<(), WalkError> {
        let failed = |code| WalkError {
            path: prefix.to_string(),
            code,
        };
        if depth > MAX_DEPTH {
            return Err(failed(ErrorCode::Overflow));
        }
        if Instant::now() >= self.deadline {
            return Err(failed(ErrorCode::Busy));
        }
        // Its own descriptor, as `list-dir`: the task's may be `O_PATH`,
        // and a listing must not move a shared position.
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let own = rustix::fs::openat(dir, ".", flags, Mode::empty())
            .map_err(|errno| failed(error_code(errno.into())))?;
        let mut subdirs = Vec::new();
        for entry in rustix::fs::Dir::new(own).map_err(|errno| failed(error_code(errno.into())))? {
            let entry = entry.map_err(|errno| failed(error_code(io::Error::from(errno))))?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            let name = std::str::from_utf8(name)
                .map_err(|_| failed(ErrorCode::IllegalByteSequence))?
                .to_owned();
            if self.found.len() == MAX_TREE_ENTRIES {
                return Err(failed(ErrorCode::Overflow));
            }
            self.budget.spend(FUEL_PER_STAT).map_err(failed)?;
            let stat = match lstat_at(dir, &name) {
                Ok(stat) => stat,
                // Gone between the listing and the stat: not an entry any more.
                Err(ErrorCode::NoEntry) => continue,
                Err(code) => return Err(failed(code)),
            };
            let path = match prefix {
                "" => name.clone(),
                prefix => format!("{prefix}/{name}"),
            };
            if stat.type_ == DescriptorType::Directory && self.entering.enters(&path) {
                subdirs.push((name, path.clone()));
            }
            self.found.push(DirEntry { name: path, stat });
        }
        for (name, path) in subdirs {
            let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            let child = match rustix::fs::openat(dir, name.as_str(), flags, Mode::empty()) {
                Ok(child) => std::fs::File::from(child),
                // Removed, or replaced by something else, since it was listed.
                Err(
                    rustix::io::Errno::NOENT | rustix::io::Errno::NOTDIR | rustix::io::Errno::LOOP,
                ) => {
                    continue;
                }
                Err(errno) => {
                    return Err(WalkError {
                        path,
                        code: error_code(errno.into()),
                    });
                }
            };
            self.walk(&child, &path, depth + 1)?;
        }
        Ok(())
    }
}
