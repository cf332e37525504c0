//! Task results: one file per task id under `<state_dir>/results/`,
//! written through the directory's descriptor (never through a link) and
//! replaced atomically.
//!
//! A task bound to the shell's repository stores `repo=<work tree>` on the
//! file's first line, then its result: one file, so a reader sees the
//! repository and its status together, and can tell whose status it is.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::fs::private_dir::PrivateDir;

const RESULTS_DIR: &str = "results";
const REPO_LINE: &str = "repo=";

fn failure_name(id: &str) -> String {
    format!("{id}.failed")
}

/// A task's last result, with the repository it was computed for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredResult {
    pub repo: Option<PathBuf>,
    pub result: String,
}

impl StoredResult {
    fn encode(&self) -> String {
        match &self.repo {
            None => self.result.clone(),
            Some(repo) => format!("{REPO_LINE}{}\n{}", repo.display(), self.result),
        }
    }

    /// Reads a stored file back; `bound` says whether the task is bound to
    /// a repository (only then is a first `repo=` line the repository).
    fn decode(text: String, bound: bool) -> StoredResult {
        if bound
            && let Some(rest) = text.strip_prefix(REPO_LINE)
            && let Some((repo, result)) = rest.split_once('\n')
        {
            return StoredResult {
                repo: Some(PathBuf::from(repo)),
                result: result.to_string(),
            };
        }
        StoredResult {
            repo: None,
            result: text,
        }
    }
}

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
    pub fn write(&self, id: &str, stored: &StoredResult) -> io::Result<()> {
        let text = stored.encode();
        if self.dir.read(id)?.as_deref() == Some(text.as_str()) {
            return Ok(());
        }
        self.dir.replace(id, text.as_bytes())?;
        self.dirty.store(true, Ordering::Release);
        Ok(())
    }

    /// Records that `id`'s last run failed, with one line saying how, in
    /// `<id>.failed` (ids have no `.`, so it is no task's result).
    pub fn record_failure(&self, id: &str, line: &str) -> io::Result<()> {
        let name = failure_name(id);
        let text = format!("{}\n", line.replace('\n', " "));
        if self.dir.read(&name)?.as_deref() == Some(text.as_str()) {
            return Ok(());
        }
        self.dir.replace(&name, text.as_bytes())?;
        self.dirty.store(true, Ordering::Release);
        Ok(())
    }

    /// Forgets an earlier failure of `id` once it has run to done.
    pub fn clear_failure(&self, id: &str) -> io::Result<()> {
        if self.dir.remove(&failure_name(id))? {
            self.dirty.store(true, Ordering::Release);
        }
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

    /// The last stored result of `id` in `state_dir`, if any; `bound` as
    /// for the task (`context = "repo"`).
    pub fn read(state_dir: &Path, id: &str, bound: bool) -> io::Result<Option<StoredResult>> {
        match PrivateDir::open(&state_dir.join(RESULTS_DIR)) {
            Ok(dir) => Ok(dir.read(id)?.map(|text| StoredResult::decode(text, bound))),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bound_result_keeps_its_repository_and_any_text() {
        let stored = StoredResult {
            repo: Some(PathBuf::from("/home/a/my repo")),
            result: "branch=main\nrepo=/elsewhere".into(),
        };
        assert_eq!(StoredResult::decode(stored.encode(), true), stored);
        let plain = StoredResult {
            repo: None,
            result: "repo=/x\ny".into(),
        };
        assert_eq!(StoredResult::decode(plain.encode(), false), plain);
    }
}
