//! Listing again only what changed: given the paths that changed since
//! the last run (the host's change feed) and that run's listing, only the
//! parts of the work tree a change can affect are examined again; every
//! other path keeps its line.
//!
//! A changed path affects its own status and, if it lies in a directory no
//! tracked file is in, how that directory is listed (git collapses an
//! untracked directory to one entry): so each change is widened to its
//! *unit*, the highest directory above it that tracks nothing, or the path
//! itself. gix-status then runs on the units alone, with the same rules
//! as a full run.
//!
//! What cannot be carried over falls back to a full listing, with the
//! reason: a change inside a git directory (the index, `HEAD`, refs,
//! `info/exclude`, the config), a `.gitignore`, `.gitattributes` or
//! `.gitmodules` anywhere (they change how other paths are seen), a change
//! inside a submodule, at the top itself or outside the work tree, or more
//! than [`MAX_UNITS`] units.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use gix::bstr::{BStr, BString, ByteSlice};
use gix::index::State;
use gix::index::entry::Mode;

use crate::counts::Listing;

/// Units listed again at most; more changes than this list everything.
pub const MAX_UNITS: usize = 256;

/// Files whose change alters how other paths are seen.
const RULE_FILES: [&str; 3] = [".gitignore", ".gitattributes", ".gitmodules"];

/// Paths relative to the top, each covering itself and what is below it;
/// none cover nothing.
pub struct Within<'a> {
    roots: HashSet<&'a BStr>,
}

impl<'a> Within<'a> {
    pub fn new(paths: &'a [BString]) -> Within<'a> {
        Within {
            roots: paths.iter().map(|path| path.as_bstr()).collect(),
        }
    }

    /// Whether `path` (an untracked directory may end in `/`) is one of
    /// the roots or below one.
    pub fn covers(&self, path: &BStr) -> bool {
        let path = path.strip_suffix(b"/").unwrap_or(path).as_bstr();
        self.roots.contains(path) || self.below(path)
    }

    /// Whether a directory above `path` is one of the roots.
    fn below(&self, path: &BStr) -> bool {
        path.iter()
            .enumerate()
            .filter(|(_, byte)| **byte == b'/')
            .any(|(at, _)| self.roots.contains(path[..at].as_bstr()))
    }
}

/// The positions in `index` of the entries at or below `within` (all of
/// them if it is empty), in order: by binary search, not by a pass over
/// every entry.
pub fn positions_within(index: &State, within: &[BString]) -> impl Iterator<Item = usize> + use<> {
    let mut positions: Vec<usize> = Vec::new();
    let every = within.is_empty().then_some(0..index.entries().len());
    for path in within {
        positions.extend(index.entry_index_by_path(path.as_bstr()).ok());
        let mut prefix = path.clone();
        prefix.push(b'/');
        positions.extend(
            index
                .prefixed_entries_range(prefix.as_bstr())
                .into_iter()
                .flatten(),
        );
    }
    positions.sort_unstable();
    positions.dedup();
    every.into_iter().flatten().chain(positions)
}

/// The units to list again for `changed` (absolute paths), or why the
/// whole work tree must be listed.
pub fn units(
    worktree: &Path,
    git_dirs: &[PathBuf],
    changed: &[String],
    index: &State,
) -> Result<Vec<BString>, String> {
    let mut units: Vec<BString> = Vec::new();
    for path in changed {
        let path = Path::new(path);
        if git_dirs.iter().any(|dir| path.starts_with(dir)) {
            return Err("the repository's git directory changed".into());
        }
        let relative = path
            .strip_prefix(worktree)
            .map_err(|_| format!("{} changed, outside the work tree", path.display()))?;
        let relative = relative
            .to_str()
            .ok_or("a changed path is not UTF-8")?
            .as_bytes()
            .as_bstr();
        let mut parts = relative.split_str("/");
        if relative.is_empty() || parts.next() == Some(b".git".as_slice()) {
            return Err("the top of the work tree or its .git changed".into());
        }
        if relative
            .rsplit_str("/")
            .next()
            .is_some_and(|name| RULE_FILES.iter().any(|rule| name == rule.as_bytes()))
        {
            return Err(format!("{relative} changed"));
        }
        units.push(unit(relative, index)?);
    }
    units.sort();
    units.dedup();
    // A unit below another is covered by it.
    let all = Within::new(&units);
    let outermost: Vec<BString> = units
        .iter()
        .filter(|unit| !all.below(unit.as_bstr()))
        .cloned()
        .collect();
    if outermost.len() > MAX_UNITS {
        return Err(format!(
            "more than {MAX_UNITS} parts of the work tree changed"
        ));
    }
    Ok(outermost)
}

/// The highest directory above `path` that tracks nothing, or `path`.
fn unit(path: &BStr, index: &State) -> Result<BString, String> {
    let ancestors: Vec<&BStr> = path
        .iter()
        .enumerate()
        .filter(|(_, byte)| **byte == b'/')
        .map(|(at, _)| path[..at].as_bstr())
        .chain([path])
        .collect();
    if ancestors.iter().any(|part| {
        index
            .entry_by_path(part)
            .is_some_and(|entry| entry.mode == Mode::COMMIT)
    }) {
        return Err(format!("{path} is in a submodule"));
    }
    let tracks_something = |dir: &BStr| {
        let mut prefix = BString::from(dir);
        prefix.push(b'/');
        index.entry_by_path(dir).is_some()
            || index.prefixed_entries_range(prefix.as_bstr()).is_some()
    };
    // From the top down, the first directory that tracks nothing.
    let unit = ancestors[..ancestors.len() - 1]
        .iter()
        .find(|dir| !tracks_something(dir))
        .copied()
        .unwrap_or(path);
    Ok(unit.to_owned())
}

/// The last listing without what `units` cover: their untracked entries
/// go, their lines keep only what the index says (staged), to be listed
/// again.
pub fn carry_over(mut listing: Listing, units: &[BString]) -> Listing {
    let within = Within::new(units);
    listing
        .untracked
        .retain(|path| !within.covers(path.as_bstr()));
    listing.lines.retain(|path, line| {
        if within.covers(path.as_bstr()) {
            line.unstaged = false;
            line.conflicted = false;
        }
        line.staged || line.unstaged || line.conflicted
    });
    listing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_covers_roots_and_what_is_below_them_only() {
        let roots = [BString::from("a/b"), BString::from("c")];
        let within = Within::new(&roots);
        for path in ["a/b", "a/b/x", "a/b/", "c", "c/d/e"] {
            assert!(within.covers(path.into()), "{path}");
        }
        for path in ["a", "a/bc", "ab", "d", "cd/e"] {
            assert!(!within.covers(path.into()), "{path}");
        }
        assert!(!Within::new(&[]).covers("anything".into()));
    }
}
