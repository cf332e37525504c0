//! One run of a task at a time among all corral processes that share a
//! state directory: a lock file per task in `STATE_DIR/locks/`, held with
//! `flock` for as long as the task runs. A run that finds a task locked
//! skips it (`_skipped reason=running`): the run holding the lock stores
//! the result both would have produced. The kernel drops the lock when
//! its holder exits, however it exits, so a killed run never blocks the
//! next one.

use std::fs::File;
use std::io;

use rustix::fs::{FlockOperation, OFlags};

use crate::fs::private_dir::PrivateDir;

pub struct TaskLocks {
    dir: PrivateDir,
}

/// A task's lock, held until dropped.
pub struct TaskLock {
    _file: File,
}

impl TaskLocks {
    pub fn open(state_dir: &PrivateDir) -> io::Result<TaskLocks> {
        Ok(TaskLocks {
            dir: state_dir.subdir("locks")?,
        })
    }

    /// Takes the task's lock, or `None` if another process holds it.
    pub fn try_lock(&self, id: &str) -> io::Result<Option<TaskLock>> {
        let file = self
            .dir
            .open_file(&format!("{id}.lock"), OFlags::RDWR | OFlags::CREATE)?;
        match rustix::fs::flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(Some(TaskLock { _file: file })),
            Err(rustix::io::Errno::WOULDBLOCK) => Ok(None),
            Err(errno) => Err(errno.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_busy_until_dropped() {
        let root = tempfile::tempdir().unwrap();
        let state = PrivateDir::create(root.path()).unwrap();
        let first = TaskLocks::open(&state).unwrap();
        let second = TaskLocks::open(&state).unwrap();
        let held = first.try_lock("task").unwrap().expect("free at first");
        assert!(second.try_lock("task").unwrap().is_none(), "busy");
        assert!(second.try_lock("other").unwrap().is_some(), "per task");
        drop(held);
        assert!(second.try_lock("task").unwrap().is_some(), "free again");
    }
}
