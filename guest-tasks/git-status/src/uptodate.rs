//! Deciding, before gix-status looks, which index entries are unchanged and
//! which changed only their executable bit, the way git's own index refresh
//! does; gix-status then skips the entries flagged `UPTODATE`.
//!
//! Why: inside the component gix-status can only `lstat` through WASI,
//! which has no mode bits, inode, device, owner or faithful ctime, costs
//! two host calls per file and resolves every path from the top. Here up
//! to 4096 tracked files are stat-ed per host call with full `lstat` data
//! (see `tracked_stat.rs`), so git's full stat match applies and a
//! `chmod +x` is seen; and where git would compare bytes (racily clean
//! entries, a touched file of the same size) the host hashes the file
//! natively. A fresh clone, whose every entry is racily clean, is proven
//! unchanged in milliseconds instead of exhausting the task's fuel.
//!
//! The decisions are git's: `Stat::matches` with the repository's real
//! `core.checkStat`/`core.trustctime` (read before `open.rs` limits
//! gix-status's own pass), the racy-git rule against the index's mtime,
//! the type and mode check under `core.fileMode`/`core.symlinks`. A file
//! whose bytes equal its blob is unchanged, as git finds when it compares
//! them (the one exception: a blob committed un-normalised under a `text`
//! attribute, which git reports modified only while it is racy). Whatever
//! is not decided here (a mismatch, a conflict, intent-to-add, a submodule,
//! a file gone or of another type) is left for gix-status as before.

use gix::bstr::{BStr, BString};
use gix::index::State;
use gix::index::entry::mode::Change;
use gix::index::entry::{Flags, Mode};

use crate::incremental;
use crate::open::StatChecks;
use crate::tracked_stat::TrackedStat;
use crate::worktree_listing::Listed;

/// Flags that make gix-status skip an entry or treat it specially.
const LEFT_TO_GIX: Flags = Flags::UPTODATE
    .union(Flags::SKIP_WORKTREE)
    .union(Flags::ASSUME_VALID)
    .union(Flags::FSMONITOR_VALID)
    .union(Flags::INTENT_TO_ADD)
    .union(Flags::STAGE_MASK);

/// The index with the entries decided here flagged `UPTODATE`.
pub struct Marked {
    pub index: State,
    /// Paths whose only certain change is the executable bit: unstaged.
    pub mode_changed: Vec<BString>,
}

/// Marks the entries at or below `within` (relative paths; none: all),
/// with their stat from `listed` where the whole tree was listed, else
/// asked per path.
pub fn mark(
    repo: &gix::Repository,
    index: &State,
    checks: &StatChecks,
    within: &[BString],
    listed: Option<&Listed>,
) -> Marked {
    let positions = incremental::positions_within(index, within);
    let workdir = repo.workdir().expect("checked on open");
    let mut index = index.clone();
    let mut mode_changed = Vec::new();
    let Some(mut stats) = TrackedStat::new(workdir) else {
        return Marked {
            index,
            mode_changed,
        };
    };
    let timestamp = index.timestamp();
    let hash = repo.object_hash();
    let (entries, paths) = index.entries_mut_and_pathbacking();
    let candidates: Vec<(usize, &BStr)> = positions
        .map(|at| (at, &entries[at]))
        .filter(|(_, entry)| {
            !entry.flags.intersects(LEFT_TO_GIX)
                && matches!(
                    entry.mode,
                    Mode::FILE | Mode::FILE_EXECUTABLE | Mode::SYMLINK
                )
        })
        .map(|(at, entry)| (at, entry.path_in(paths)))
        .collect();
    let rela: Vec<&BStr> = candidates.iter().map(|(_, path)| *path).collect();
    let seen_all = match listed {
        // Candidates come in index order, which is path order.
        Some(listed) => {
            let mut cursor = listed.cursor();
            rela.iter().map(|path| cursor.seen(path)).collect()
        }
        None => stats.stats(&rela),
    };
    // Entries whose bytes git would compare: hashed together afterwards.
    let mut compare = Vec::new();
    for (&(at, path), seen) in candidates.iter().zip(seen_all) {
        let Some(seen) = seen else { continue };
        let entry = &mut entries[at];
        if seen.is_dir {
            continue;
        }
        match entry.mode.change_to_match_fs_with_values(
            seen.is_file,
            seen.is_dir,
            seen.is_symlink,
            seen.is_executable,
            checks.fs.symlink,
            checks.fs.executable_bit,
        ) {
            Some(Change::ExecutableBit) => {
                mode_changed.push(path.to_owned());
                entry.flags.insert(Flags::UPTODATE);
                continue;
            }
            Some(Change::Type { .. }) => continue,
            None => {}
        }
        let stat_clean = seen.stat.matches(&entry.stat, checks.options)
            && (!entry.id.is_empty_blob() || entry.stat.size == 0);
        if stat_clean && !seen.stat.is_racy(timestamp, checks.options) {
            entry.flags.insert(Flags::UPTODATE);
        } else if entry.mode != Mode::SYMLINK && seen.is_file && seen.stat.size == entry.stat.size {
            compare.push((at, path));
        }
    }
    let rela: Vec<&BStr> = compare.iter().map(|(_, path)| *path).collect();
    for ((at, _), id) in compare.iter().zip(stats.blob_ids(&rela, hash)) {
        if id == Some(entries[*at].id) {
            entries[*at].flags.insert(Flags::UPTODATE);
        }
    }
    Marked {
        index,
        mode_changed,
    }
}
