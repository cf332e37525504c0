//! Opening the repository behind a work-tree path, and nothing else.
//!
//! A sandboxed guest cannot walk upward to find `.git`, and must not read
//! the user's global or system configuration (it is not granted), so the
//! path must be the top of the work tree and gix is opened isolated.

use std::path::Path;

use crate::{Error, Options};

/// Opens the repository whose work tree is exactly `worktree`.
///
/// `.git` may be a directory, or a file (`gitdir: ...`) for linked worktrees
/// and submodules; gix follows it and its `commondir`.
pub fn open(worktree: &Path, options: &Options) -> Result<gix::Repository, Error> {
    let not_a_worktree = |why: &str| {
        Error::InvalidInput(format!(
            "{} is not the top of a git work tree: {why}",
            worktree.display()
        ))
    };
    if !worktree.is_dir() {
        return Err(not_a_worktree("no such directory"));
    }
    let dot_git = worktree.join(gix::discover::DOT_GIT_DIR);
    if std::fs::symlink_metadata(&dot_git).is_err() {
        return Err(not_a_worktree("it has no .git"));
    }

    let mut overrides = Vec::new();
    if options.limited_metadata {
        overrides.extend([
            "core.checkStat=minimal",
            "core.trustctime=false",
            "core.fileMode=false",
        ]);
    }
    let open_options = gix::open::Options::isolated()
        // Sandboxed paths may be owned by anyone; we only read.
        .with(gix::sec::Trust::Full)
        .config_overrides(overrides);
    let mut repo = gix::open_opts(worktree, open_options).map_err(|err| {
        Error::InvalidInput(format!(
            "{}: not a usable git repository: {err}",
            worktree.display()
        ))
    })?;
    if repo.workdir().is_none() {
        return Err(not_a_worktree("the repository is bare"));
    }
    // Read packed-refs into memory whatever its size: mapping it is not
    // possible under WASI (see `objects.rs`).
    repo.refs.set_packed_buffer_mmap_threshold(u64::MAX);
    Ok(repo)
}
