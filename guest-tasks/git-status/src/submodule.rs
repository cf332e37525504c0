//! Whether a submodule's checked-out commit differs from the one recorded in
//! the superproject's index (`git status`'s `SC..`), without descending.
//!
//! gix's built-in submodule status reads the superproject's index again
//! through the memory-mapped reader and, for dirtiness, runs a whole status
//! inside the submodule; both are out of reach or too slow here, so this
//! implements gix-status's `SubmoduleStatus` hook with a `HEAD` lookup.

use std::path::PathBuf;

use gix::bstr::BStr;
use gix::status::plumbing::index_as_worktree::traits::SubmoduleStatus;

use crate::{Options, open};

/// Compares each submodule's `HEAD` with its gitlink entry.
#[derive(Clone)]
pub struct HeadMoved {
    workdir: PathBuf,
    options: Options,
}

impl HeadMoved {
    pub fn new(workdir: PathBuf, options: Options) -> Self {
        HeadMoved { workdir, options }
    }
}

impl SubmoduleStatus for HeadMoved {
    /// Nothing beyond "it changed".
    type Output = ();

    fn status(&mut self, entry: &gix::index::Entry, rela_path: &BStr) -> gix::Result<Option<()>> {
        let Ok(rela_path) = gix::path::from_bstr(rela_path) else {
            return Ok(None);
        };
        let path = self.workdir.join(rela_path);
        // Not checked out (no `.git` inside): git shows nothing either.
        let Ok((repo, _)) = open::open(&path, &self.options) else {
            return Ok(None);
        };
        let Ok(head) = repo.head() else {
            return Ok(None);
        };
        let checked_out = match head.kind {
            gix::head::Kind::Symbolic(r) => r.target.try_id().map(ToOwned::to_owned),
            gix::head::Kind::Detached { target, .. } => Some(target),
            gix::head::Kind::Unborn(_) => None,
        };
        Ok((checked_out != Some(entry.id)).then_some(()))
    }
}
