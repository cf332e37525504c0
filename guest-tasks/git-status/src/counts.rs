//! Staged, unstaged, untracked and conflicted counts, as the lines of
//! `git status --porcelain=v2` (untracked mode "normal") would give them.
//!
//! gix does the work: the `HEAD`-to-index diff (see `staged.rs`), an
//! index-to-worktree check that trusts unchanged, non-racy stat data and
//! hashes only the rest (entries already proven unchanged by `uptodate.rs`
//! are skipped), and a directory walk honouring every `.gitignore`
//! and `info/exclude`. This module only tallies per path.

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
use crate::{Counts, Error, Observer, Options, staged, uptodate};

/// What a path's porcelain line would say.
#[derive(Default, Clone, Copy)]
struct Line {
    staged: bool,
    unstaged: bool,
    conflicted: bool,
}

/// Counts the changes of the work tree whose index was read into `index`;
/// `head` is `HEAD`'s commit (`None` while unborn).
pub fn count(
    repo: &gix::Repository,
    objects: &Objects,
    head: Option<gix::ObjectId>,
    index: &gix::index::State,
    checks: &StatChecks,
    options: &Options,
    obs: &mut dyn Observer,
) -> Result<Counts, Error> {
    let mut lines: HashMap<BString, Line> = HashMap::new();

    obs.segment_start("diff_head_index");
    let staged = staged::paths(repo, objects, head, index);
    obs.segment_end("diff_head_index");
    for path in staged? {
        lines.entry(path).or_default().staged = true;
    }

    obs.segment_start("stat_tracked");
    let marked = uptodate::mark(repo, index, checks);
    obs.segment_end("stat_tracked");
    for path in marked.mode_changed {
        lines.entry(path).or_default().unstaged = true;
    }

    obs.segment_start("walk_worktree");
    let untracked = unstaged(repo, &marked.index, options, &mut lines);
    obs.segment_end("walk_worktree");
    let untracked = untracked?;

    let mut counts = Counts {
        untracked,
        ..Counts::default()
    };
    for line in lines.values() {
        if line.conflicted {
            counts.conflicted += 1;
            continue;
        }
        counts.staged += usize::from(line.staged);
        counts.unstaged += usize::from(line.unstaged);
    }
    Ok(counts)
}

/// Records index-to-worktree changes in `lines`; returns the untracked count.
///
/// `index` has the entries `uptodate::mark` proved unchanged flagged.
fn unstaged(
    repo: &gix::Repository,
    index: &gix::index::State,
    options: &Options,
    lines: &mut HashMap<BString, Line>,
) -> Result<usize, Error> {
    let failed = Error::failed("comparing the index with the work tree");
    let dirwalk = repo
        .dirwalk_options()
        .map_err(Error::failed("reading core.* settings"))?
        // "normal": an untracked directory is one entry, whatever
        // `status.showUntrackedFiles` says; ignored files are not listed.
        .emit_untracked(EmissionMode::CollapseDirectory);
    let walk_options = index_worktree::Options {
        sorting: None,
        dirwalk_options: Some(dirwalk),
        rewrites: None,
        thread_limit: None,
    };
    let submodules = HeadMoved::new(
        repo.workdir().expect("checked on open").to_owned(),
        *options,
    );
    let mut tally = Tally {
        index,
        lines,
        untracked: 0,
    };
    repo.index_worktree_status(
        index,
        None::<&BStr>,
        &mut tally,
        FastEq,
        submodules,
        &mut gix::progress::Discard,
        &AtomicBool::new(false),
        walk_options,
    )
    .map_err(failed)?;
    Ok(tally.untracked)
}

/// Receives gix-status's per-entry results.
struct Tally<'a> {
    index: &'a gix::index::State,
    lines: &'a mut HashMap<BString, Line>,
    untracked: usize,
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
                if !self.replaces_tracked_file(entry.rela_path.as_bstr()) {
                    self.untracked += 1;
                }
                return;
            }
            Entry::Modification { rela_path, .. } => BString::from(*rela_path),
            Entry::Rewrite { dirwalk_entry, .. } => dirwalk_entry.rela_path.clone(),
        };
        let line = self.lines.entry(path).or_default();
        match summary {
            Summary::Conflict => line.conflicted = true,
            _ => line.unstaged = true,
        }
    }
}
