//! The whole work tree in one listing, for a run that looks at all of it:
//! the directories the index tracks files under are entered, everything
//! else is listed where it lies and not entered.
//!
//! The listing proves tracked files unchanged in place of a stat per file
//! (`uptodate.rs` takes each entry's stat from it), and it names the few
//! paths that may hold untracked files: names the index does not know,
//! and directories it tracks nothing under, less those the ignore rules
//! exclude (git never looks inside an excluded directory, and a build
//! directory may hold far more than the work tree). gix-status then
//! classifies only those, as git's own walk would: the same answer
//! without walking what the index already accounts for (a clean tree of
//! 4,800 files: one host call instead of a WASI walk of every directory).
//!
//! Not used where git's path matching is not byte for byte
//! (`core.ignoreCase`, `core.precomposeUnicode`), for a sparse index, when
//! a tracked path is not UTF-8 or the host cannot list the tree in one
//! call, or when more than [`MAX_CANDIDATES`] paths may hold untracked
//! files (a walk then costs less than as many pathspecs): gix walks the
//! tree itself, as before.

use std::collections::HashSet;

use gix::bstr::{BStr, BString, ByteSlice};
use gix::index::State;
use gix::index::entry::Mode;

use crate::open::StatChecks;
use crate::tracked_stat::{Seen, TrackedStat};

/// Paths that may hold untracked files, beyond which gix walks the tree.
pub const MAX_CANDIDATES: usize = 256;

/// One listing of the work tree.
pub struct Listed {
    /// Every entry listed, sorted by path.
    entries: Vec<(String, Seen)>,
    /// Paths relative to the top that may hold untracked files, sorted.
    pub candidates: Vec<BString>,
}

/// Lists the work tree of `repo` against `index`, or `None` where gix
/// must walk it (see the module's doc).
pub fn list(repo: &gix::Repository, index: &State, checks: &StatChecks) -> Option<Listed> {
    if checks.fs.ignore_case || checks.fs.precompose_unicode || index.is_sparse() {
        return None;
    }
    let enter = tracked_dirs(index)?;
    let entries = TrackedStat::new(repo.workdir()?)?.walk(&enter)?;
    let source = gix::worktree::stack::state::ignore::Source::WorktreeThenIdMappingIfNotSkipped;
    let mut excludes = repo.excludes(index, None, source).ok()?;
    let mut tracked = index
        .entries()
        .iter()
        .map(|entry| entry.path(index))
        .peekable();
    let mut candidates = Vec::new();
    for (path, seen) in &entries {
        while tracked
            .next_if(|known| known.as_bytes() < path.as_bytes())
            .is_some()
        {}
        let is_tracked = tracked
            .peek()
            .is_some_and(|known| known.as_bytes() == path.as_bytes());
        let is_git_dir = path.rsplit('/').next() == Some(gix::discover::DOT_GIT_DIR);
        if is_tracked || is_git_dir || (seen.is_dir && enter.contains(path)) {
            continue;
        }
        let mode = match (seen.is_dir, seen.is_symlink) {
            (true, _) => Mode::DIR,
            (_, true) => Mode::SYMLINK,
            _ => Mode::FILE,
        };
        if excludes
            .at_entry(path.as_str(), Some(mode))
            .is_ok_and(|platform| platform.is_excluded())
        {
            continue;
        }
        if candidates.len() == MAX_CANDIDATES {
            return None;
        }
        candidates.push(BString::from(path.as_str()));
    }
    Some(Listed {
        entries,
        candidates,
    })
}

/// Every directory some index entry lies under, relative to the top;
/// `None` if one is not UTF-8.
fn tracked_dirs(index: &State) -> Option<HashSet<String>> {
    let mut dirs = HashSet::new();
    for entry in index.entries() {
        let mut path: &BStr = entry.path(index);
        while let Some(slash) = path.rfind_byte(b'/') {
            path = path[..slash].as_bstr();
            let dir = path.to_str().ok()?;
            // Its parents went in with it.
            if dirs.contains(dir) {
                break;
            }
            dirs.insert(dir.to_owned());
        }
    }
    Some(dirs)
}

impl Listed {
    /// Looks entries up by path, in increasing path order (the index's).
    pub fn cursor(&self) -> Cursor<'_> {
        Cursor {
            entries: &self.entries,
            at: 0,
        }
    }
}

/// Lookups of paths asked in increasing order: one pass over the listing,
/// where a search per path would compare long shared prefixes again and
/// again (byte by byte, in wasm).
pub struct Cursor<'a> {
    entries: &'a [(String, Seen)],
    at: usize,
}

impl Cursor<'_> {
    /// What `path` is on disk; `None` if it was not listed (gone, or under
    /// a symlink or anything else that is not a real directory).
    pub fn seen(&mut self, path: &BStr) -> Option<Seen> {
        while self
            .entries
            .get(self.at)
            .is_some_and(|(listed, _)| listed.as_bytes() < path.as_bytes())
        {
            self.at += 1;
        }
        let (listed, seen) = self.entries.get(self.at)?;
        (listed.as_bytes() == path.as_bytes()).then_some(*seen)
    }
}
