//! Marking the index entries whose stat data proves them unchanged, so that
//! gix-status skips them: it skips entries flagged `UPTODATE`, the flag
//! git's own index refresh sets.
//!
//! Why: inside the component, each `lstat` gix-status makes through std
//! costs two host calls (wasi-libc asks `stat-at`, then `metadata-hash-at`
//! for `st_ino`), each resolving the whole path from the preopened
//! directory (open, stat, close on the host), and gix-status `lstat`s every
//! leading directory as well, to refuse paths through symlinks. Stat-ing
//! each name relative to its directory's descriptor (see `tracked_stat.rs`)
//! is one host call and one system call per file.
//!
//! The decision stays gix-status's: the same `Stat::matches` with the
//! repository's options, the same racy-git rule against the index's mtime,
//! the same type and mode check. Whatever is not proven unchanged here (a
//! mismatch, a racy entry, a conflict, intent-to-add, a submodule, a file
//! gone or of another type) is left for gix-status to examine as before.

use gix::index::State;
use gix::index::entry::{Flags, Mode};

use crate::Error;
use crate::tracked_stat::TrackedStat;

/// Flags that make gix-status skip an entry or treat it specially.
const LEFT_TO_GIX: Flags = Flags::UPTODATE
    .union(Flags::SKIP_WORKTREE)
    .union(Flags::ASSUME_VALID)
    .union(Flags::FSMONITOR_VALID)
    .union(Flags::INTENT_TO_ADD)
    .union(Flags::STAGE_MASK);

/// A copy of `index` with the entries proven unchanged marked `UPTODATE`.
pub fn mark(repo: &gix::Repository, index: &State) -> Result<State, Error> {
    let options = repo
        .stat_options()
        .map_err(Error::failed("reading core.* settings"))?;
    let fs = repo
        .filesystem_options()
        .map_err(Error::failed("reading core.* settings"))?;
    let workdir = repo.workdir().expect("checked on open");
    let mut marked = index.clone();
    let Some(mut stats) = TrackedStat::new(workdir, fs, options) else {
        return Ok(marked);
    };
    let timestamp = index.timestamp();
    let (entries, paths) = marked.entries_mut_and_pathbacking();
    for entry in entries {
        if entry.flags.intersects(LEFT_TO_GIX)
            || !matches!(
                entry.mode,
                Mode::FILE | Mode::FILE_EXECUTABLE | Mode::SYMLINK
            )
        {
            continue;
        }
        let Some(stat) = stats.of(entry.path_in(paths), entry.mode) else {
            continue;
        };
        let unchanged = stat.matches(&entry.stat, options)
            && (!entry.id.is_empty_blob() || entry.stat.size == 0)
            && !stat.is_racy(timestamp, options);
        if unchanged {
            entry.flags.insert(Flags::UPTODATE);
        }
    }
    Ok(marked)
}
