//! Private state of the tasks that import `corral:task/incremental`: one
//! directory per task and component digest (and per repository for a
//! repository-bound task), preopened read-write at `/.corral/state` for
//! that task alone.
//!
//! Layout: `<state_dir>/task-state/<id>/<sha256[..16]>/<repo key | ->/`.
//! A new digest removes the old digests' directories, so a new build never
//! reads what another build wrote. A directory that grew past
//! [`MAX_STATE_BYTES`] (or [`MAX_STATE_ENTRIES`]) after a run is removed:
//! state is a cache, and losing it only costs the next run time.

use std::io;
use std::path::{Path, PathBuf};

use crate::digest::repo_key;
use crate::fs::private_dir::PrivateDir;
use crate::manifest::Task;

/// The folder under corral's state directory.
const FOLDER: &str = "task-state";
/// The state of a task bound to no repository.
const UNBOUND: &str = "-";
/// Bytes one state directory may hold after a run.
pub const MAX_STATE_BYTES: u64 = 64 << 20;
/// Files and directories one state directory may hold after a run.
pub const MAX_STATE_ENTRIES: u64 = 100_000;

/// The state directory of `task` built as `sha256`, created if missing;
/// the task's directories for other digests are removed. Blocking.
pub fn prepare(state_dir: &Path, task: &Task, sha256: &str) -> io::Result<PathBuf> {
    let tasks = PrivateDir::create(&state_dir.join(FOLDER))?;
    let task_dir = tasks.subdir(task.id.as_str())?;
    let digest = &sha256[..16.min(sha256.len())];
    for name in task_dir.names()? {
        if name != digest {
            remove(&task_dir.path().join(name))?;
        }
    }
    let key = task
        .repo
        .as_deref()
        .map_or_else(|| UNBOUND.into(), repo_key);
    Ok(task_dir.subdir(digest)?.subdir(&key)?.path().to_path_buf())
}

/// Removes `dir` if it holds more than the caps allow; returns its size
/// when it did. Blocking.
pub fn enforce_cap(dir: &Path) -> io::Result<Option<Usage>> {
    let usage = Usage::of(dir)?;
    if usage.bytes <= MAX_STATE_BYTES && usage.entries <= MAX_STATE_ENTRIES {
        return Ok(None);
    }
    remove(dir)?;
    Ok(Some(usage))
}

/// What a state directory holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub bytes: u64,
    pub entries: u64,
}

impl Usage {
    /// Counts `dir` without following links, stopping one past the entry
    /// cap. Blocking.
    pub fn of(dir: &Path) -> io::Result<Usage> {
        let mut usage = Usage::default();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir)? {
                let entry = entry?;
                let meta = entry.metadata()?;
                usage.entries += 1;
                usage.bytes += meta.len();
                if usage.entries > MAX_STATE_ENTRIES {
                    return Ok(usage);
                }
                if meta.is_dir() {
                    stack.push(entry.path());
                }
            }
        }
        Ok(usage)
    }
}

/// The state directories kept for `id` (of any digest and repository).
/// Blocking.
pub fn dirs_of(state_dir: &Path, id: &str) -> Vec<PathBuf> {
    let task_dir = state_dir.join(FOLDER).join(id);
    let Ok(digests) = std::fs::read_dir(&task_dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = digests
        .flatten()
        .filter(|digest| digest.file_type().is_ok_and(|kind| kind.is_dir()))
        .filter_map(|digest| std::fs::read_dir(digest.path()).ok())
        .flat_map(|keys| keys.flatten())
        .filter(|key| key.file_type().is_ok_and(|kind| kind.is_dir()))
        .map(|key| key.path())
        .collect();
    dirs.sort();
    dirs
}

/// Removes a directory tree without following links (std's
/// `remove_dir_all` removes a link, never what it points to).
fn remove(path: &Path) -> io::Result<()> {
    match std::fs::remove_dir_all(path) {
        Err(error) if error.kind() == io::ErrorKind::NotADirectory => std::fs::remove_file(path),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_counts_without_following_links_and_caps_drop_the_directory() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("state");
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/a"), vec![0u8; 1000]).unwrap();
        let outside = root.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("big"), vec![0u8; 1 << 20]).unwrap();
        std::os::unix::fs::symlink(&outside, dir.join("link")).unwrap();
        let usage = Usage::of(&dir).unwrap();
        assert_eq!(usage.entries, 3, "sub, sub/a and the link itself");
        assert!(usage.bytes < 1 << 20, "the link's target is not counted");
        assert_eq!(enforce_cap(&dir).unwrap(), None);

        std::fs::write(dir.join("huge"), vec![0u8; 1]).unwrap();
        std::fs::File::options()
            .write(true)
            .open(dir.join("huge"))
            .unwrap()
            .set_len(MAX_STATE_BYTES + 1)
            .unwrap();
        assert!(enforce_cap(&dir).unwrap().is_some());
        assert!(!dir.exists(), "dropped");
        assert!(outside.join("big").exists(), "nothing followed");
    }
}
