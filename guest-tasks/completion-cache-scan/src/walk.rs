//! A deterministic walk of the scan root for candidate completion files:
//! one host `list-dir` per directory (`corral:task/files`), which gives
//! each file's `lstat` data with its name.

use std::path::Path;

use corral_task_files::DescriptorType;
use corral_task_files::known::{self, Stamp};

use crate::Failure;

/// Directories nested deeper than this below the root are not entered.
pub const MAX_DEPTH: usize = 16;

/// A candidate file, relative to the root, and the stamp of the file it
/// is (or, for a symlink, leads to).
pub struct Candidate {
    pub relative: String,
    pub stamp: Stamp,
}

/// Files found under the root, sorted.
pub struct Found {
    pub files: Vec<Candidate>,
    /// Directories left unentered because of [`MAX_DEPTH`].
    pub too_deep: usize,
}

/// Lists regular files (and symlinks to them) under `root`, skipping dot-names
/// and `exclude`. Symlinked directories are not followed, so the walk cannot
/// loop or leave the tree it was pointed at.
pub fn walk(root: &Path, exclude: &[&str]) -> Result<Found, Failure> {
    let shown = root.display();
    let descriptor = root
        .to_str()
        .and_then(corral_task_files::open_dir)
        .ok_or_else(|| Failure::InvalidInput(format!("{shown}: not a directory it can open")))?;
    let mut too_deep = 0;
    let entries = corral_task_files::walk_where(&descriptor, |relative, stat| {
        let name = relative.rsplit('/').next().unwrap_or(relative);
        if name.starts_with('.') {
            return false;
        }
        let too_deep_dir =
            stat.type_ == DescriptorType::Directory && relative.matches('/').count() >= MAX_DEPTH;
        too_deep += usize::from(too_deep_dir);
        !too_deep_dir
    })
    .map_err(|(dir, code)| Failure::Error(format!("{shown}/{dir}: {}", code.name())))?;
    let mut files: Vec<Candidate> = entries
        .into_iter()
        .filter(|(relative, _)| !is_excluded(relative, exclude))
        .filter_map(|(relative, stat)| {
            let stamp = match stat.type_ {
                DescriptorType::RegularFile => Some(Stamp::of(&stat)),
                // A dangling symlink, or one leading out of the sandbox,
                // is no candidate.
                DescriptorType::SymbolicLink => known::followed(&descriptor, &relative),
                _ => None,
            };
            Some(Candidate {
                stamp: stamp?,
                relative,
            })
        })
        .collect();
    files.sort_by(|a, b| a.relative.cmp(&b.relative));
    Ok(Found { files, too_deep })
}

/// Whether `relative` is an excluded file or one of its temporaries
/// (`<file>.tmp-<unique>`, written beside it before a rename).
fn is_excluded(relative: &str, exclude: &[&str]) -> bool {
    exclude.iter().any(|own| {
        relative
            .strip_prefix(own)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(".tmp-"))
    })
}
