//! A deterministic walk listing the regular files under a root, with their
//! `lstat` data, from one host `walk-tree` call (`corral:task/files`).

use std::path::Path;

use corral_task_files::{DescriptorType, ErrorCode, FileStat};

use crate::Failure;

/// What the walk found, paths relative to the root with `/` separators.
#[derive(Default)]
pub struct Tree {
    /// Regular files with their `lstat` data, sorted by path.
    pub files: Vec<(String, FileStat)>,
    /// Symlinks, not followed: their targets may lie outside the root.
    pub symlinks: usize,
    /// Sockets, FIFOs and devices, which have no content to hash.
    pub special: usize,
}

/// Walks `root` without following symlinks, leaving out `exclude`.
pub fn walk(root: &Path, exclude: &[&str]) -> Result<Tree, Failure> {
    let shown = root.display();
    let descriptor = root
        .to_str()
        .and_then(corral_task_files::open_dir)
        .ok_or_else(|| Failure::InvalidInput(format!("{shown}: not a directory it can open")))?;
    let entries = corral_task_files::walk(&descriptor).map_err(|(dir, code)| {
        let message = format!("{shown}/{dir}: {}", describe(code));
        Failure::Error(message)
    })?;
    let mut tree = Tree::default();
    for (relative, stat) in entries {
        match stat.type_ {
            DescriptorType::Directory => {}
            DescriptorType::SymbolicLink => tree.symlinks += 1,
            DescriptorType::RegularFile if !is_excluded(&relative, exclude) => {
                tree.files.push((relative, stat));
            }
            DescriptorType::RegularFile => {}
            _ => tree.special += 1,
        }
    }
    Ok(tree)
}

/// An error code as a reader knows it.
pub fn describe(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::IllegalByteSequence => "a name in it is not UTF-8",
        ErrorCode::Overflow => "more entries than one listing may hold",
        code => code.name(),
    }
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
