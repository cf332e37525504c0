//! A deterministic walk listing the regular files under a root.

use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use crate::Failure;

/// What the walk found, paths relative to the root with `/` separators.
#[derive(Default)]
pub struct Tree {
    /// Regular files, sorted.
    pub files: Vec<String>,
    /// Symlinks, not followed: their targets may lie outside the root.
    pub symlinks: usize,
    /// Sockets, FIFOs and devices, which have no content to hash.
    pub special: usize,
}

/// Walks `root` without following symlinks, leaving out `exclude`.
pub fn walk(root: &Path, exclude: &[&str]) -> Result<Tree, Failure> {
    let mut tree = Tree::default();
    let mut pending = vec![String::new()];
    while let Some(dir) = pending.pop() {
        let path = if dir.is_empty() {
            root.to_path_buf()
        } else {
            root.join(&dir)
        };
        let failure = |e: std::io::Error| {
            let message = format!("{}: {e}", path.display());
            let bad_root = dir.is_empty()
                && matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory);
            if bad_root {
                Failure::InvalidInput(message)
            } else {
                Failure::Error(message)
            }
        };
        for entry in fs::read_dir(&path).map_err(failure)? {
            let entry = entry.map_err(failure)?;
            let name = entry.file_name().into_string().map_err(|name| {
                Failure::Error(format!("{}: name {name:?} is not UTF-8", path.display()))
            })?;
            let relative = if dir.is_empty() {
                name
            } else {
                format!("{dir}/{name}")
            };
            let kind = entry.file_type().map_err(failure)?;
            if kind.is_dir() {
                pending.push(relative);
            } else if kind.is_symlink() {
                tree.symlinks += 1;
            } else if !kind.is_file() {
                tree.special += 1;
            } else if !is_excluded(&relative, exclude) {
                tree.files.push(relative);
            }
        }
    }
    tree.files.sort();
    Ok(tree)
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
