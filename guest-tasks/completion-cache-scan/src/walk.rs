//! A deterministic walk of the scan root for candidate completion files.

use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use crate::Failure;

/// Directories nested deeper than this below the root are not entered.
pub const MAX_DEPTH: usize = 16;

/// Files found under the root, relative to it and sorted.
pub struct Found {
    pub files: Vec<String>,
    /// Directories left unentered because of [`MAX_DEPTH`].
    pub too_deep: usize,
}

/// Lists regular files (and symlinks to them) under `root`, skipping dot-names
/// and `exclude`. Symlinked directories are not followed, so the walk cannot
/// loop or leave the tree it was pointed at.
pub fn walk(root: &Path, exclude: &[&str]) -> Result<Found, Failure> {
    let mut found = Found {
        files: Vec::new(),
        too_deep: 0,
    };
    let mut pending = vec![(String::new(), 0)];
    while let Some((dir, depth)) = pending.pop() {
        let path = if dir.is_empty() {
            root.to_path_buf()
        } else {
            root.join(&dir)
        };
        for entry in read_dir(&path, dir.is_empty())? {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let relative = if dir.is_empty() {
                name
            } else {
                format!("{dir}/{name}")
            };
            let kind = entry
                .file_type()
                .map_err(|e| Failure::Error(format!("{}: {e}", entry.path().display())))?;
            if kind.is_dir() {
                if depth < MAX_DEPTH {
                    pending.push((relative, depth + 1));
                } else {
                    found.too_deep += 1;
                }
            } else if (kind.is_file() || (kind.is_symlink() && points_at_file(&entry.path())))
                && !is_excluded(&relative, exclude)
            {
                found.files.push(relative);
            }
        }
    }
    found.files.sort();
    Ok(found)
}

/// A dangling symlink, or one leading out of the sandbox, is no candidate.
fn points_at_file(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// Reads a directory; a missing or non-directory root is the caller's mistake.
fn read_dir(path: &Path, is_root: bool) -> Result<Vec<fs::DirEntry>, Failure> {
    let failure = |e: std::io::Error| {
        let message = format!("{}: {e}", path.display());
        if is_root && matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) {
            Failure::InvalidInput(message)
        } else {
            Failure::Error(message)
        }
    };
    fs::read_dir(path)
        .map_err(failure)?
        .collect::<Result<_, _>>()
        .map_err(failure)
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
