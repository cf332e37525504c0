//! Shadow mode: every `rw` grant is replaced by a scratch copy that is
//! thrown away, so a task can be tried on real data without changing it.
//! The copy is part of the task's time: it stops at the task's deadline,
//! and a partial copy is removed like a whole one.

use std::io;
use std::path::Path;
use std::time::Instant;

use tempfile::TempDir;

/// Copies `source` (recursively, symlinks as symlinks) into a new
/// temporary directory, removed when the returned value is dropped (or on
/// any error). Fails with `TimedOut` once `deadline` passes.
pub fn scratch_copy(source: &Path, deadline: Instant) -> io::Result<TempDir> {
    let scratch = tempfile::Builder::new()
        .prefix("corral-shadow-")
        .tempdir()?;
    if source.is_dir() {
        copy_tree(source, scratch.path(), deadline)?;
    }
    Ok(scratch)
}

fn copy_tree(source: &Path, target: &Path, deadline: Instant) -> io::Result<()> {
    for entry in std::fs::read_dir(source)? {
        if Instant::now() >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the copy did not finish within the task's timeout",
            ));
        }
        let entry = entry?;
        let to = target.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            std::fs::create_dir(&to)?;
            copy_tree(&entry.path(), &to, deadline)?;
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
        let deadline = Instant::now() + std::time::Duration::from_secs(60);
        let scratch = scratch_copy(source.path(), deadline).unwrap();
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

    #[test]
    fn a_copy_past_its_deadline_fails_and_leaves_nothing() {
        let source = tempfile::tempdir().unwrap();
        std::fs::write(source.path().join("file"), "data").unwrap();
        let before = std::fs::read_dir(std::env::temp_dir()).unwrap().count();
        let error = scratch_copy(source.path(), Instant::now()).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        let leftovers = std::fs::read_dir(std::env::temp_dir())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|entry| {
                entry
                    .file_name()
                    .to_string_lossy()
                    .starts_with("corral-shadow-")
            })
            .count();
        assert!(leftovers <= before, "the partial copy is removed");
    }
}
