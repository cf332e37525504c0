//! Task results: one file per task id under `<state_dir>/results/`.

use std::io;
use std::path::{Path, PathBuf};

use crate::durable::{create_private_dir, replace, sync_dir};

#[derive(Clone, Debug)]
pub struct ResultStore {
    dir: PathBuf,
}

impl ResultStore {
    pub fn new(state_dir: &Path) -> Self {
        ResultStore {
            dir: state_dir.join("results"),
        }
    }

    /// Stores a done task's result atomically, replacing the previous one.
    /// [`ResultStore::sync`] makes the replacements durable.
    pub fn write(&self, id: &str, result: &str) -> io::Result<()> {
        create_private_dir(&self.dir)?;
        replace(&self.dir.join(id), result.as_bytes())
    }

    /// Makes every result written so far durable: one directory fsync per
    /// run instead of one per task.
    pub fn sync(&self) -> io::Result<()> {
        sync_dir(&self.dir)
    }

    /// The last stored result of `id`, if any.
    pub fn read(&self, id: &str) -> io::Result<Option<String>> {
        match std::fs::read_to_string(self.dir.join(id)) {
            Ok(text) => Ok(Some(text)),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }
}
