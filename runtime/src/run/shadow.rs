//! Shadow mode: every `rw` grant is replaced by a scratch copy that is
//! thrown away, so a task can be tried on real data without changing it.

use std::io;
use std::path::Path;

use tempfile::TempDir;

/// Copies `source` (recursively, symlinks as symlinks) into a new
/// temporary directory, removed when the returned value is dropped.
pub fn scratch_copy(source: &Path) -> io::Result<TempDir> {
    let scratch = tempfile::Builder::new()
        .prefix("corral-shadow-")
        .tempdir()?;
    if source.is_dir() {
        copy_tree(source, scratch.path())?;
    }
    Ok(scratch)
}

fn copy_tree(source: &Path, target: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(source)? {
        let entry = entry?;
        let to = target.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            std::fs::create_dir(&to)?;
            copy_tree(&entry.path(), &to)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &to)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &to)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_nested_files_and_leaves_the_source_alone() {
        let source = tempfile::tempdir().unwrap();
        std::fs::create_dir(source.path().join("sub")).unwrap();
        std::fs::write(source.path().join("sub/file"), "data").unwrap();
        let scratch = scratch_copy(source.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(scratch.path().join("sub/file")).unwrap(),
            "data"
        );
        std::fs::write(scratch.path().join("sub/file"), "changed").unwrap();
        assert_eq!(
            std::fs::read_to_string(source.path().join("sub/file")).unwrap(),
            "data"
        );
    }
}
