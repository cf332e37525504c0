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

use std::fs::File;
use std::io;

use rustix::fs::{FlockOperation, OFlags};

use crate::fs::private_dir::PrivateDir;
use crate::manifest::Task;
use crate::run::results::repo_key;

pub struct TaskLocks {
    dir: PrivateDir,
}

/// A task's lock, held until dropped.
pub struct TaskLock {
    _file: File,
}

/// The name of what one lock serialises: a task, or a task in one
/// repository (runs in different repositories do not wait for each other).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockKey(String);

impl LockKey {
    pub fn of(task: &Task) -> LockKey {
        match &task.repo {
            None => LockKey(task.id.to_string()),
            Some(repo) => LockKey(format!("{}@{}", task.id, repo_key(repo))),
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
        let file = self
            .dir
            .open_file(&format!("{}.lock", key.0), OFlags::RDWR | OFlags::CREATE)?;
        match rustix::fs::flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(Some(TaskLock { _file: file })),
            Err(rustix::io::Errno::WOULDBLOCK) => Ok(None),
            Err(errno) => Err(errno.into()),
        }
    }

    /// Asks the holder of `key` for one more run, then tries the lock once
    /// more: a holder that let go in between may have looked for requests
    /// already, so the lock is taken here instead (and the request with it).
    pub fn request_rerun(&self, key: &LockKey) -> io::Result<Option<TaskLock>> {
        drop(self.dir.open_file(
            &rerun_name(key),
            OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC,
        )?);
        let lock = self.try_lock(key)?;
        if lock.is_some() {
            self.dir.remove(&rerun_name(key))?;
        }
        Ok(lock)
    }

    /// Whether a rerun was requested while `key` was held; call after the
    /// lock is dropped. The request is consumed: one rerun per pile.
    pub fn take_rerun(&self, key: &LockKey) -> io::Result<bool> {
        self.dir.remove(&rerun_name(key))
    }
}

fn rerun_name(key: &LockKey) -> String {
    format!("{}.rerun", key.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> LockKey {
        LockKey(name.to_string())
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
