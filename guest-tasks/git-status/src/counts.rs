//! Staged, unstaged, untracked and conflicted counts, as the lines of
//! `git status --porcelain=v2` (untracked mode "normal") would give them.
//!
//! gix does the work: the `HEAD`-to-index diff (see `staged.rs`), an
//! index-to-worktree check that trusts unchanged, non-racy stat data and
//! hashes only the rest (entries already proven unchanged by `uptodate.rs`
//! are skipped), and a directory walk honouring every `.gitignore`
//! and `info/exclude` — over the whole tree only where one listing of it
//! (`worktree_listing.rs`) cannot name the few paths to walk. This module
//! only lists per path, everywhere or at and below given paths (see
//! `incremental.rs`).

use std::collections::HashMap;

use std::sync::atomic::AtomicBool;

use gix::bstr::{BStr, BString, ByteSlice};
use gix::dir::walk::EmissionMode;
use gix::status::index_worktree;
use gix::status::plumbing::index_as_worktree::traits::FastEq;
use gix::status::plumbing::index_as_worktree_with_renames::{Entry, Summary, VisitEntry};

use crate::objects::Objects;
use crate::open::StatChecks;
use crate::submodule::HeadMoved;
use crate::{Counts, Error, Observer, Options, staged, uptodate, worktree_listing};

/// What a path's porcelain line would say.
#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
pub struct Line {
    pub staged: bool,
    pub unstaged: bool,
    pub conflicted: bool,
}

/// Every path `git status --porcelain=v2` would list, as found: the lines
/// of tracked paths and the untracked entries (a directory collapsed to
/// one, its path ending in `/`).
#[derive(Default, Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    pub lines: HashMap<BString, Line>,
    pub untracked: Vec<BString>,
}

impl Listing {
    pub fn counts(&self) -> Counts {
        let mut counts = Counts {
            untracked: self.untracked.len(),
            ..Counts::default()
        };
        for line in self.lines.values() {
            if line.conflicted {
                counts.conflicted += 1;
                continue;
            }
            counts.staged += usize::from(line.staged);
            counts.unstaged += usize::from(line.unstaged);
        }
        counts
    }
}

/// Lists the changes of the work tree whose index was read into `index`;
/// `head` is `HEAD`'s commit (`None` while unborn).
pub fn list(
    repo: &gix::Repository,
    objects: &Objects,
    head: Option<gix::ObjectId>,
    index: &gix::index::State,
    checks: &StatChecks,
    options: &Options,
    obs: &mut dyn Observer,
) -> Result<Listing, Error> {
    let mut listing = Listing::default();

    obs.segment_start("diff_head_index");
    let staged = staged::paths(repo, objects, head, index);
    obs.segment_end("diff_head_index");
    for path in staged? {
        listing.lines.entry(path).or_default().staged = true;
    }
    worktree(repo, index, checks, options, &[], &mut listing, obs)?;
    Ok(listing)
}

/// Adds to `listing` what the work tree holds against the index: every
/// path, or only those at or below `within` (paths relative to the top;
/// none means all).
pub fn worktree(
    repo: &gix::Repository,
    index: &gix::index::State,
    checks: &StatChecks,
    options: &Options,
    within: &[BString],
    listing: &mut Listing,
    obs: &mut dyn Observer,
) -> Result<(), Error> {
    obs.segment_start("stat_tracked");
    let listed = match within {
        [] => worktree_listing::list(repo, index, checks),
        _ => None,
    };
    let marked = uptodate::mark(repo, index, checks, within, listed.as_ref());
    obs.segment_end("stat_tracked");
    for path in marked.mode_changed {
        listing.lines.entry(path).or_default().unstaged = true;
    }

    obs.segment_start("walk_worktree");
    let found = match &listed {
        // The tracked files everywhere without a directory walk, then
        // only what may be untracked.
        Some(listed) => {
            let mut tally = Tally {
                index: &marked.index,
                listing,
                still_tracked: Vec::new(),
            };
            pass(repo, &marked.index, options, &[], true, false, &mut tally).and_then(|()| {
                match listed.candidates.is_empty() {
                    true => Ok(()),
                    false => unstaged(repo, &marked.index, options, &listed.candidates, listing),
                }
            })
        }
        None => unstaged(repo, &marked.index, options, within, listing),
    };
    obs.segment_end("walk_worktree");
    found
}

/// Records index-to-worktree changes in `listing`, at or below `within`
/// (none: everywhere).
///
/// `index` has the entries `uptodate::mark` proved unchanged flagged.
///
/// gix collapses a directory whose tracked files are all gone from disk
/// (deleted, or replaced by directories) into one untracked entry, where
/// git, for which the directory is still tracked, lists what is inside it
/// one by one; such a directory is listed again by its entries, as often
/// as that happens below it.
fn unstaged(
    repo: &gix::Repository,
    index: &gix::index::State,
    options: &Options,
    within: &[BString],
    listing: &mut Listing,
) -> Result<(), Error> {
    let workdir = repo.workdir().expect("checked on open").to_owned();
    let mut paths = within.to_vec();
    let mut everywhere = within.is_empty();
    for _ in 0..MAX_DEPTH {
        let mut tally = Tally {
            index,
            listing,
            still_tracked: Vec::new(),
        };
        pass(repo, index, options, &paths, everywhere, true, &mut tally)?;
        if tally.still_tracked.is_empty() {
            return Ok(());
        }
        paths = children(&workdir, &tally.still_tracked)?;
        everywhere = false;
        if paths.is_empty() {
            return Ok(());
        }
    }
    Err(Error::Failed(format!(
        "directories whose tracked files are gone nest more than {MAX_DEPTH} deep"
    )))
}

/// How deep directories whose tracked files are all gone are followed.
const MAX_DEPTH: usize = 64;

/// One gix-status pass over `paths` (every path if `everywhere`), walking
/// directories for untracked files if `walk` (and they may hold any).
fn pass(
    repo: &gix::Repository,
    index: &gix::index::State,
    options: &Options,
    paths: &[BString],
    everywhere: bool,
    walk: bool,
    tally: &mut Tally<'_>,
) -> Result<(), Error> {
    let failed = Error::failed("comparing the index with the work tree");
    // Paths that are all tracked files hold nothing git lists as
    // untracked (a directory that replaced one is that file's deletion):
    // no directory walk.
    let tracked_files = !everywhere
        && paths
            .iter()
            .all(|path| index.entry_by_path(path.as_bstr()).is_some());
    let dirwalk = repo
        .dirwalk_options()
        .map_err(Error::failed("reading core.* settings"))?
        // "normal": an untracked directory is one entry, whatever
        // `status.showUntrackedFiles` says; ignored files are not listed.
        .emit_untracked(EmissionMode::CollapseDirectory);
    let walk_options = index_worktree::Options {
        sorting: None,
        dirwalk_options: (walk && !tracked_files).then_some(dirwalk),
        rewrites: None,
        thread_limit: None,
    };
    let submodules = HeadMoved::new(
        repo.workdir().expect("checked on open").to_owned(),
        *options,
    );
    // Literal paths from the top, whatever the current directory.
    let patterns = paths.iter().filter(|_| !everywhere).map(|path| {
        let mut pattern = BString::from(":(top,literal)");
        pattern.extend_from_slice(path);
        pattern
    });
    repo.index_worktree_status(
        index,
        patterns,
        tally,
        FastEq,
        submodules,
        &mut gix::progress::Discard,
        &AtomicBool::new(false),
        walk_options,
    )
    .map_err(failed)?;
    Ok(())
}

/// The entries on disk of each directory in `dirs`, as paths from the top.
fn children(workdir: &std::path::Path, dirs: &[BString]) -> Result<Vec<BString>, Error> {
    let mut found = Vec::new();
    for dir in dirs {
        let on_disk = workdir.join(
            dir.to_str()
                .map_err(|_| Error::Failed(format!("{dir}: not UTF-8")))?,
        );
        let entries = std::fs::read_dir(&on_disk)
            .map_err(|error| Error::Failed(format!("{}: {error}", on_disk.display())))?;
        for entry in entries {
            let entry =
                entry.map_err(|error| Error::Failed(format!("{}: {error}", on_disk.display())))?;
            let name = entry.file_name();
            let name = name.to_str().ok_or_else(|| {
                Error::Failed(format!("{}: a name is not UTF-8", on_disk.display()))
            })?;
            let mut path = dir.clone();
            path.push(b'/');
            path.extend_from_slice(name.as_bytes());
            found.push(path);
        }
    }
    Ok(found)
}

/// Receives gix-status's per-entry results.
struct Tally<'a> {
    index: &'a gix::index::State,
    listing: &'a mut Listing,
    /// Directories gix collapsed that still track files (see `unstaged`).
    still_tracked: Vec<BString>,
}

impl Tally<'_> {
    /// Whether `path` is, or is inside, a path the index tracks as a file:
    /// a directory that replaced a tracked file is that file's deletion,
    /// and git lists nothing in it as untracked.
    fn replaces_tracked_file(&self, path: &BStr) -> bool {
        let ends = path
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'/')
            .map(|(at, _)| at)
            .chain([path.len()]);
        ends.into_iter()
            .any(|end| self.index.entry_by_path(path[..end].as_bstr()).is_some())
    }

    /// Whether the index tracks anything below directory `path`.
    fn tracks_below(&self, path: &BStr) -> bool {
        let mut prefix = path.to_owned();
        prefix.push(b'/');
        self.index
            .prefixed_entries_range(prefix.as_bstr())
            .is_some()
    }
}

impl<'index> VisitEntry<'index> for Tally<'_> {
    type ContentChange = ();
    type SubmoduleStatus = ();

    fn visit_entry(&mut self, entry: Entry<'index, (), ()>) {
        let Some(summary) = entry.summary() else {
            return;
        };
        let path = match &entry {
            Entry::DirectoryContents { entry, .. } => {
                // Only untracked entries get a summary here.
                let path = entry.rela_path.as_bstr();
                let is_dir = entry.disk_kind.is_some_and(|kind| kind.is_dir());
                if self.replaces_tracked_file(path) {
                    return;
                }
                if is_dir && self.tracks_below(path) {
                    self.still_tracked.push(path.to_owned());
                    return;
                }
                let mut path = path.to_owned();
                if is_dir {
                    path.push(b'/');
                }
                self.listing.untracked.push(path);
                return;
            }
            Entry::Modification { rela_path, .. } => BString::from(*rela_path),
            Entry::Rewrite { dirwalk_entry, .. } => dirwalk_entry.rela_path.clone(),
        };
        let line = self.listing.lines.entry(path).or_default();
        match summary {
            Summary::Conflict => line.conflicted = true,
            _ => line.unstaged = true,
        }
    }
}
