//! One run of a task at a time among all corral processes that share a
//! state directory: a lock file per task in `STATE_DIR/locks/` (per task
//! and repository for a task bound to the shell's repository), held with
//! `flock` for as long as the task runs. A run that finds a task locked
//! skips it (`_skipped reason=running`): the run holding the lock stores
//! the result both would have produced. The kernel drops the lock when
//! its holder exits, however it exits, so a killed run never blocks the
//! next one.
//!
//! A repository-bound task is run after every shell command, and what the
//! command changed may postdate the running run's reading of the tree. So
//! a run that finds it locked leaves a rerun request beside the lock; the
//! holder, once it has let go of the lock, takes the request and starts
//! one more run. However many requests pile up, one rerun follows.
//!
//! A repository's lock file records the work tree it is for; once there
//! are more than [`PRUNE_ABOVE`] lock files, taking a lock for a
//! repository not seen before removes those of repositories that no
//! longer exist. A lock file is removed only while held, and a lock is
//! only taken on a file still linked under its name, so removal never
//! lets two processes hold the same lock.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rustix::fs::{FlockOperation, OFlags};

use crate::digest::repo_key;
use crate::fs::private_dir::PrivateDir;
use crate::manifest::Task;

pub struct TaskLocks {
    dir: PrivateDir,
}

/// A task's lock, held until dropped.
pub struct TaskLock {
    _file: File,
}

/// Lock files kept before those of vanished repositories are pruned.
const PRUNE_ABOVE: usize = 64;

/// The name of what one lock serialises: a task, or a task in one
/// repository (runs in different repositories do not wait for each other).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockKey {
    name: String,
    repo: Option<std::path::PathBuf>,
}

impl LockKey {
    pub fn of(task: &Task) -> LockKey {
        match &task.repo {
            None => LockKey {
                name: task.id.to_string(),
                repo: None,
            },
            Some(repo) => LockKey {
                name: format!("{}@{}", task.id, repo_key(repo)),
                repo: Some(repo.clone()),
            },
        }
    }
}

impl TaskLocks {
    pub fn open(state_dir: &PrivateDir) -> io::Result<TaskLocks> {
        Ok(TaskLocks {
            dir: state_dir.subdir("locks")?,
        })
    }

    /// Takes the lock, or `None` if another process holds it.
    pub fn try_lock(&self, key: &LockKey) -> io::Result<Option<TaskLock>> {
        let name = lock_name(&key.name);
        loop {
            let created = self
                .dir
                .open_file(&name, OFlags::RDWR | OFlags::CREATE | OFlags::EXCL);
            let (file, new) = match created {
                Ok(file) => (file, true),
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                    (self.dir.open_file(&name, OFlags::RDWR)?, false)
                }
                Err(error) => return Err(error),
            };
            match rustix::fs::flock(&file, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => {}
                Err(rustix::io::Errno::WOULDBLOCK) => return Ok(None),
                Err(errno) => return Err(errno.into()),
            }
            // Pruned between the open and the lock: take the new file.
            if !self.still_linked(&name, &file) {
                continue;
            }
            if new && let Some(repo) = &key.repo {
                (&file).write_all(repo.as_os_str().as_encoded_bytes())?;
                self.prune_vanished(&name);
            }
            return Ok(Some(TaskLock { _file: file }));
        }
    }

    /// Whether `name` still names the file `file` is open on.
    fn still_linked(&self, name: &str, file: &File) -> bool {
        let Ok(held) = rustix::fs::fstat(file) else {
            return false;
        };
        self.dir
            .stat(name)
            .is_ok_and(|linked| linked.st_dev == held.st_dev && linked.st_ino == held.st_ino)
    }

    /// Removes the lock files (and rerun requests) of repositories that no
    /// longer exist, once there are more than [`PRUNE_ABOVE`]; each is
    /// removed while held, so no run is holding or taking it.
    fn prune_vanished(&self, keep: &str) {
        let Ok(names) = self.dir.names() else {
            return;
        };
        let locks: Vec<&String> = names
            .iter()
            .filter(|name| name.ends_with(".lock"))
            .collect();
        if locks.len() <= PRUNE_ABOVE {
            return;
        }
        for name in locks {
            if name == keep || !name.contains('@') {
                continue;
            }
            let Ok(file) = self.dir.open_file(name, OFlags::RDWR) else {
                continue;
            };
            // Looked at before it is locked: a live repository's lock is
            // never held here, where a run taking it would find it busy.
            let vanished = |file: &File| {
                let mut recorded = Vec::new();
                (&*file).read_to_end(&mut recorded).is_ok()
                    && !recorded.is_empty()
                    && !Path::new(std::ffi::OsStr::from_bytes(&recorded)).exists()
            };
            if !vanished(&file) {
                continue;
            }
            if rustix::fs::flock(&file, FlockOperation::NonBlockingLockExclusive).is_err() {
                continue;
            }
            if self.still_linked(name, &file) {
                let _ = self.dir.remove(name);
                let _ = self.dir.remove(&name.replace(".lock", ".rerun"));
            }
        }
    }

    /// Asks the holder of `key` for one more run, then tries the lock once
    /// more: a holder that let go in between may have looked for requests
    /// already, so the lock is taken here instead (and the request with it).
    pub fn request_rerun(&self, key: &LockKey) -> io::Result<Option<TaskLock>> {
        drop(self.dir.open_file(
            &rerun_name(&key.name),
            OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC,
        )?);
        let lock = self.try_lock(key)?;
        if lock.is_some() {
            self.dir.remove(&rerun_name(&key.name))?;
        }
        Ok(lock)
    }

    /// Whether a rerun was requested while `key` was held; call after the
    /// lock is dropped. The request is consumed: one rerun per pile.
    pub fn take_rerun(&self, key: &LockKey) -> io::Result<bool> {
        self.dir.remove(&rerun_name(&key.name))
    }
}

fn lock_name(name: &str) -> String {
    format!("{name}.lock")
}

fn rerun_name(name: &str) -> String {
    format!("{name}.rerun")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> LockKey {
        LockKey {
            name: name.to_string(),
            repo: None,
        }
    }

    #[test]
    fn locks_of_vanished_repositories_are_pruned_and_never_doubled() {
        let root = tempfile::tempdir().unwrap();
        let state = PrivateDir::create(&root.path().join("state")).unwrap();
        let locks = TaskLocks::open(&state).unwrap();
        let repo_key = |n: usize| LockKey {
            name: format!("git_status@{n:016}"),
            repo: Some(root.path().join(format!("repo{n}"))),
        };
        for n in 0..=PRUNE_ABOVE {
            std::fs::create_dir_all(root.path().join(format!("repo{n}"))).unwrap();
            drop(locks.try_lock(&repo_key(n)).unwrap().unwrap());
        }
        // Half of the repositories go; one of those is being run now.
        for n in (0..=PRUNE_ABOVE).step_by(2) {
            std::fs::remove_dir(root.path().join(format!("repo{n}"))).unwrap();
        }
        let held = locks.try_lock(&repo_key(0)).unwrap().unwrap();
        let fresh = PRUNE_ABOVE + 1;
        std::fs::create_dir_all(root.path().join(format!("repo{fresh}"))).unwrap();
        drop(locks.try_lock(&repo_key(fresh)).unwrap().unwrap());
        let names = state.subdir("locks").unwrap().names().unwrap();
        assert!(
            names.contains(&format!("git_status@{:016}.lock", 0)),
            "a held lock stays"
        );
        assert!(
            !names.contains(&format!("git_status@{:016}.lock", 2)),
            "a vanished one goes"
        );
        assert!(
            names.contains(&format!("git_status@{:016}.lock", 1)),
            "a live one stays"
        );
        // While held, nobody else gets it.
        assert!(locks.try_lock(&repo_key(0)).unwrap().is_none());
        drop(held);
    }

    #[test]
    fn a_held_lock_is_busy_until_dropped() {
        let root = tempfile::tempdir().unwrap();
        let state = PrivateDir::create(root.path()).unwrap();
        let first = TaskLocks::open(&state).unwrap();
        let second = TaskLocks::open(&state).unwrap();
        let held = first
            .try_lock(&key("task"))
            .unwrap()
            .expect("free at first");
        assert!(second.try_lock(&key("task")).unwrap().is_none(), "busy");
        assert!(
            second.try_lock(&key("other")).unwrap().is_some(),
            "per task"
        );
        drop(held);
        assert!(
            second.try_lock(&key("task")).unwrap().is_some(),
            "free again"
        );
    }

    #[test]
    fn requests_while_held_pile_into_one_rerun() {
        let root = tempfile::tempdir().unwrap();
        let state = PrivateDir::create(root.path()).unwrap();
        let holder = TaskLocks::open(&state).unwrap();
        let other = TaskLocks::open(&state).unwrap();
        let held = holder.try_lock(&key("t")).unwrap().unwrap();
        for _ in 0..10 {
            assert!(other.request_rerun(&key("t")).unwrap().is_none());
        }
        drop(held);
        assert!(holder.take_rerun(&key("t")).unwrap(), "one rerun");
        assert!(!holder.take_rerun(&key("t")).unwrap(), "only one");
        // A request that finds the lock free takes it and leaves none.
        let taken = other.request_rerun(&key("t")).unwrap();
        assert!(taken.is_some());
        assert!(!holder.take_rerun(&key("t")).unwrap());
    }
}
