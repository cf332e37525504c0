//! Task results: one file per task id under `<state_dir>/results/`,
//! written through the directory's descriptor (never through a link) and
//! replaced atomically.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::fs::private_dir::PrivateDir;

const RESULTS_DIR: &str = "results";

#[derive(Clone, Debug)]
pub struct ResultStore {
    dir: Arc<PrivateDir>,
    /// Whether a result was replaced since the last sync.
    dirty: Arc<AtomicBool>,
}

impl ResultStore {
    /// Opens (creating) the results directory, and removes what writers
    /// killed mid-write left behind.
    pub fn open(state_dir: &PrivateDir) -> io::Result<Self> {
        let dir = state_dir.subdir(RESULTS_DIR)?;
        dir.sweep_temporaries()?;
        Ok(ResultStore {
            dir: Arc::new(dir),
            dirty: Arc::default(),
        })
    }

    /// Stores a done task's result atomically, replacing the previous one;
    /// an unchanged result is left as it is, so a repeated run writes and
    /// syncs nothing. [`ResultStore::sync`] makes replacements durable.
    pub fn write(&self, id: &str, result: &str) -> io::Result<()> {
        if self.dir.read(id)?.as_deref() == Some(result) {
            return Ok(());
        }
        self.dir.replace(id, result.as_bytes())?;
        self.dirty.store(true, Ordering::Release);
        Ok(())
    }

    /// Makes every result replaced so far durable: one directory fsync per
    /// run instead of one per task, none when nothing changed.
    pub fn sync(&self) -> io::Result<()> {
        if self.dirty.swap(false, Ordering::AcqRel) {
            self.dir.sync()?;
        }
        Ok(())
    }

    /// The last stored result of `id` in `state_dir`, if any.
    pub fn read(state_dir: &Path, id: &str) -> io::Result<Option<String>> {
        match PrivateDir::open(&state_dir.join(RESULTS_DIR)) {
            Ok(dir) => dir.read(id),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }
}
