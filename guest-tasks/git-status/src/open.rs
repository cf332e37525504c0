//! Opening the repository behind a work-tree path, and nothing else.
//!
//! A sandboxed guest cannot walk upward to find `.git`, and must not read
//! the user's global or system configuration (it is not granted), so the
//! path must be the top of the work tree and gix is opened isolated.

use std::path::Path;

use crate::{Error, Options};

/// How the repository's configuration says stat data is compared
/// (`core.checkStat`, `core.trustctime`, `core.fileMode`, `core.symlinks`).
#[derive(Debug, Clone, Copy)]
pub struct StatChecks {
    pub options: gix::index::entry::stat::Options,
    pub fs: gix::fs::Capabilities,
}

/// Opens the repository whose work tree is exactly `worktree`, and reads
/// its stat checks.
///
/// `.git` may be a directory, or a file (`gitdir: ...`) for linked worktrees
/// and submodules; gix follows it and its `commondir`. With
/// `Options::limited_metadata` the repository is then configured for what
/// gix-status's own `lstat` can see, while the returned checks stay the
/// repository's (`uptodate.rs` applies them with full stat data).
pub fn open(worktree: &Path, options: &Options) -> Result<(gix::Repository, StatChecks), Error> {
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

    let open_options = gix::open::Options::isolated()
        // Sandboxed paths may be owned by anyone; we only read.
        .with(gix::sec::Trust::Full);
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
    let config = || Error::failed("reading core.* settings");
    let checks = StatChecks {
        options: repo.stat_options().map_err(config())?,
        fs: repo.filesystem_options().map_err(config())?,
    };
    if options.limited_metadata {
        let mut snapshot = repo.config_snapshot_mut();
        snapshot
            .append_config(
                [
                    "core.checkStat=minimal",
                    "core.trustctime=false",
                    "core.fileMode=false",
                ],
                gix::config::Source::Api,
            )
            .map_err(config())?;
        snapshot.commit().map_err(config())?;
    }
    Ok((repo, checks))
}
