//! The `HEAD^{tree}`-to-index half of the status (porcelain's X column).
//!
//! gix-diff compares an index built from the tree with the real one, with
//! git's rename detection (`diff.renames`, on by default), so a staged
//! rename is one path as in `git status`. Both sides are first narrowed
//! to what the index's cache tree cannot vouch for (see `cache_tree.rs`).
//! The umbrella's `Repository::tree_index_status` does the same through the
//! memory-mapped object store, so this drives gix-diff with [`Objects`].

use gix::bstr::BString;

use crate::Error;
use crate::cache_tree;
use crate::objects::{self, Objects};

/// Paths whose index entry differs from `HEAD` (the destination for renames).
///
/// `head` is `None` for an unborn branch: everything in the index is staged.
pub fn paths(
    repo: &gix::Repository,
    objects: &Objects,
    head: Option<gix::ObjectId>,
    index: &gix::index::State,
) -> Result<Vec<BString>, Error> {
    let failed = Error::failed("comparing HEAD with the index");
    let narrowed = match head {
        Some(commit) => {
            let tree = objects::commit_tree(objects, &commit)
                .map_err(Error::failed("reading HEAD's tree"))?;
            let narrowed = cache_tree::narrow(objects, &tree, index)
                .map_err(Error::failed("reading HEAD's tree"))?;
            if narrowed.head.entries().is_empty() && narrowed.index.entries().is_empty() {
                return Ok(Vec::new());
            }
            Some(narrowed)
        }
        None => None,
    };
    let unborn = gix::index::State::new(repo.object_hash());
    let (tree_index, index) = match &narrowed {
        Some(narrowed) => (&narrowed.head, &narrowed.index),
        None => (&unborn, index),
    };

    let config = repo.config_snapshot();
    let (rewrites, configured) = gix::diff::new_rewrites(config.plumbing(), true)
        .map_err(Error::failed("reading diff.renames"))?;
    let rewrites = if configured {
        rewrites
    } else {
        Some(Default::default())
    };
    let mut resource_cache = match rewrites {
        Some(_) => Some(rename_resource_cache(repo)?),
        None => None,
    };
    let workdir = repo.workdir().expect("checked on open");
    let mut everything = gix::pathspec::Search::from_specs(None, None, workdir)
        .map_err(Error::failed("pathspec"))?;

    let mut paths = Vec::new();
    gix::diff::index(
        tree_index,
        index,
        |change| {
            paths.push(change.location().to_owned());
            Ok(std::ops::ControlFlow::Continue(()))
        },
        rewrites
            .zip(resource_cache.as_mut())
            .map(
                |(rewrites, resource_cache)| gix::diff::index::RewriteOptions {
                    resource_cache,
                    find: objects,
                    rewrites,
                },
            ),
        &mut everything,
        &mut |_, _, _, _| false,
    )
    .map_err(failed)?;
    Ok(paths)
}

/// The blob cache gix-diff needs to compare rename candidates by similarity.
///
/// `Repository::diff_resource_cache_for_tree_diff` would read the index
/// through the memory-mapped reader for `.gitattributes`; attributes only
/// matter here for diff drivers, so an empty index stands in for it.
fn rename_resource_cache(repo: &gix::Repository) -> Result<gix::diff::blob::Platform, Error> {
    let failed = Error::failed("preparing rename detection");
    let no_attributes = gix::index::State::new(repo.object_hash());
    let attributes = repo
        .attributes_only(
            &no_attributes,
            gix::worktree::stack::state::attributes::Source::IdMapping,
        )
        .map_err(Error::failed("preparing rename detection"))?
        .detach();
    gix::diff::resource_cache(
        repo,
        gix::diff::blob::pipeline::Mode::ToGit,
        attributes,
        gix::diff::blob::pipeline::WorktreeRoots::default(),
    )
    .map_err(failed)
}
