//! `git_status`: what a shell prompt shows for a git work tree, computed
//! read-only, natively or inside a WASI 0.2 component.
//!
//! The result is one line of space-separated fields, always in this order:
//!
//! ```text
//! branch=NAME|detached head=OID|unborn [upstream=NAME ahead=N behind=N]
//! staged=N unstaged=N untracked=N conflicted=N stashes=N [action=NAME]
//! ```
//!
//! * `upstream=... ahead= behind=` only when the branch has an upstream
//!   configured; ahead/behind are `-1` when the upstream ref is missing or
//!   the branch is unborn (git prints no `# branch.ab` then).
//! * the four path counts equal what `git status --porcelain=v2` lists
//!   (untracked mode "normal"), or are all `-1` when the index has more than
//!   [`Options::max_index_entries`] entries.
//! * `action=` is one of merge, rebase, cherry-pick, revert, bisect, am,
//!   present only while such an operation is stopped half-way.
//!
//! Task contract (component): args `[WORKTREE]`, the top of the work tree as
//! the guest sees it, granted read-only at its host path (and, for a linked
//! worktree, the main repository's git dir at its host path too).
//! Environment: `GIT_STATUS_MAX_INDEX_ENTRIES` (default 100000).
//!
//! Known differences from git: global/system configuration is not read
//! (the sandbox cannot see it), so `core.excludesFile`, global filter
//! drivers such as git-lfs and global `status.*`/`diff.*` settings are
//! ignored; submodules count only when their checked-out commit differs
//! from the recorded one (edits inside a submodule are not looked for);
//! split indexes are refused and `objects/info/alternates` is not followed.
//! Inside the component, tracked files are compared with full `lstat` data
//! and hashed natively by the host (`corral:task/files`, see `uptodate.rs`);
//! only what that cannot decide reaches gix-status, whose own stat is
//! WASI's (`Options::limited_metadata`). Objects are read, not mapped (see `objects.rs`): a packed object
//! costs a few positioned reads of its pack (see `pack.rs`).

mod action;
mod cache_tree;
mod counts;
mod error;
mod head;
mod incremental;
mod index;
mod memo;
mod objects;
mod observer;
mod open;
mod options;
mod pack;
mod read_error;
mod staged;
mod stash;
mod status;
mod submodule;
mod tracked_stat;
mod upstream;
mod uptodate;
mod worktree_listing;

#[cfg(target_family = "wasm")]
mod component;

use std::path::Path;

pub use counts::{Line, Listing};
pub use error::Error;
pub use memo::Memo;
pub use observer::{Observer, Silent};
pub use options::{
    DEFAULT_MAX_INDEX_ENTRIES, MAX_INDEX_ENTRIES_VAR, Options, parse_max_index_entries,
};
pub use status::{Action, Counts, Head, Status, Upstream};

use observer::segment;

/// Computes the status of the work tree whose top is `worktree`.
///
/// Reads only; never refreshes the index (git would, which is why a file
/// that was touched but not changed is hashed again on every call here).
pub fn status(worktree: &Path, options: &Options, obs: &mut dyn Observer) -> Result<Status, Error> {
    status_since(worktree, options, None, obs).map(|(status, _)| status)
}

/// An earlier run's listing and the paths (absolute, as the task sees
/// them) that changed since it began.
pub struct Earlier {
    pub listing: Listing,
    pub changed: Vec<String>,
}

/// [`status`], listing again only what changed since `earlier` where that
/// gives the same answer (see `incremental.rs`); also returns the listing
/// for the next run (`None` when the counts are unknown).
pub fn status_since(
    worktree: &Path,
    options: &Options,
    earlier: Option<Earlier>,
    obs: &mut dyn Observer,
) -> Result<(Status, Option<Listing>), Error> {
    let (repo, checks) = segment(obs, "open_repo", || open::open(worktree, options))?;
    let objects = objects::Objects::of(&repo);
    let (head, branch) = segment(obs, "read_head", || head::resolve(&repo))?;
    let head_id = match &head {
        Head::Branch { oid, .. } => oid.as_deref(),
        Head::Detached { oid } => Some(oid.as_str()),
    };
    let head_id = head_id
        .map(|hex| gix::ObjectId::from_hex(hex.as_bytes()))
        .transpose()
        .map_err(Error::failed("HEAD's id"))?;

    let upstream = match &branch {
        Some(branch) => segment(obs, "ahead_behind", || {
            upstream::resolve(&repo, &objects, branch.as_ref(), head_id)
        })?,
        None => None,
    };

    let index = segment(obs, "read_index", || index::read(&repo))?;
    let entries = index.entries().len();
    let listing = if entries > options.max_index_entries {
        obs.debug(&format!(
            "{entries} index entries exceed {MAX_INDEX_ENTRIES_VAR}={}; counts unknown",
            options.max_index_entries
        ));
        None
    } else {
        let listed = match earlier
            .and_then(|earlier| carried_over(&repo, worktree, &index, earlier, obs))
        {
            Some((mut listing, units)) => {
                if !units.is_empty() {
                    counts::worktree(&repo, &index, &checks, options, &units, &mut listing, obs)?;
                }
                listing
            }
            None => counts::list(&repo, &objects, head_id, &index, &checks, options, obs)?,
        };
        Some(listed)
    };

    let stashes = stash::count(&repo)?;
    let action = action::in_progress(&repo);
    let status = Status {
        head,
        upstream,
        counts: listing.as_ref().map(Listing::counts),
        stashes,
        action,
    };
    Ok((status, listing))
}

/// The earlier listing without what changed, and the parts of the work
/// tree to list again; `None` (and why, to `obs`) when everything must be
/// listed.
fn carried_over(
    repo: &gix::Repository,
    worktree: &Path,
    index: &gix::index::State,
    earlier: Earlier,
    obs: &mut dyn Observer,
) -> Option<(Listing, Vec<gix::bstr::BString>)> {
    let git_dirs = [repo.git_dir().to_owned(), repo.common_dir().to_owned()];
    match incremental::units(worktree, &git_dirs, &earlier.changed, index) {
        Ok(units) => {
            obs.debug(&format!(
                "{} paths changed since the last run: listing {} parts of the work tree again",
                earlier.changed.len(),
                units.len()
            ));
            Some((incremental::carry_over(earlier.listing, &units), units))
        }
        Err(why) => {
            obs.debug(&format!("listing the whole work tree: {why}"));
            None
        }
    }
}
