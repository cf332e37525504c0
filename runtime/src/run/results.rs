//! Task results: one file per task id under `<state_dir>/results/`,
//! written through the directory's descriptor (never through a link) and
//! replaced atomically.
//!
//! A task bound to the shell's repository stores `repo=<work tree>` on the
//! file's first line, then its result: one file, so a reader sees the
//! repository and its status together, and can tell whose status it is.
//! Its result is also kept per repository, in
//! `results/repos/<sha256(work tree)[..16]>/<id>`, so a shell that returns
//! to a repository finds that repository's last status at once; at most
//! [`KEEP_REPOS`] repositories are kept, the least recently written go.
//!
//! `<id>.failed` beside a result says that the task's last run failed,
//! and how (per repository for a bound task).
//!
//! Files are replaced atomically for their readers but not synced: a
//! result is derived, and the next run computes it again, whereas three
//! fsyncs (~0.3 ms each here) would sit between every changed status and
//! the prompt waiting for it.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::digest::repo_key;
use crate::fs::private_dir::PrivateDir;

const RESULTS_DIR: &str = "results";
const REPOS_DIR: &str = "repos";
const REPO_LINE: &str = "repo=";
/// Repositories whose results are kept.
pub const KEEP_REPOS: usize = 256;

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
}

impl ResultStore {
    /// Opens (creating) the results directory, and removes what writers
    /// killed mid-write left behind.
    pub fn open(state_dir: &PrivateDir) -> io::Result<Self> {
        let dir = state_dir.subdir(RESULTS_DIR)?;
        dir.sweep_temporaries()?;
        Ok(ResultStore { dir: Arc::new(dir) })
    }

    /// Stores a done task's result atomically, replacing the previous one
    /// (and, for a bound task, its repository's); an unchanged result is
    /// left as it is, so a repeated run writes nothing.
    pub fn write(&self, id: &str, stored: &StoredResult) -> io::Result<()> {
        let text = stored.encode();
        self.replace_if_changed(&self.dir, id, &text)?;
        if let Some(repo) = &stored.repo {
            let dir = self.repo_dir(repo)?;
            self.replace_if_changed(&dir, id, &text)?;
        }
        Ok(())
    }

    /// Records that `id`'s last run (for `repo`, when bound) failed, with
    /// one line saying how, in `<id>.failed` (ids have no `.`, so it is no
    /// task's result).
    pub fn record_failure(&self, id: &str, repo: Option<&Path>, line: &str) -> io::Result<()> {
        let text = format!("{}\n", line.replace('\n', " "));
        match repo {
            None => self.replace_if_changed(&self.dir, &failure_name(id), &text),
            Some(repo) => {
                let dir = self.repo_dir(repo)?;
                self.replace_if_changed(&dir, &failure_name(id), &text)
            }
        }
    }

    /// Forgets an earlier failure of `id` (for `repo`) once it has run to done.
    pub fn clear_failure(&self, id: &str, repo: Option<&Path>) -> io::Result<()> {
        match repo {
            None => self.dir.remove(&failure_name(id))?,
            Some(repo) => self.repo_dir(repo)?.remove(&failure_name(id))?,
        };
        Ok(())
    }

    fn replace_if_changed(&self, dir: &PrivateDir, name: &str, text: &str) -> io::Result<()> {
        if dir.read(name)?.as_deref() == Some(text) {
            return Ok(());
        }
        dir.replace(name, text.as_bytes())
    }

    /// A repository's results directory, made on first use; making one
    /// beyond [`KEEP_REPOS`] drops the least recently written.
    fn repo_dir(&self, repo: &Path) -> io::Result<PrivateDir> {
        let repos = self.dir.subdir(REPOS_DIR)?;
        let key = repo_key(repo);
        if let Ok(dir) = repos.open_subdir(&key) {
            return Ok(dir);
        }
        let dir = repos.subdir(&key)?;
        repos.prune_subdirs(KEEP_REPOS, &key)?;
        Ok(dir)
    }

    /// The last stored result of `id` in `state_dir`, if any; `bound` as
    /// for the task (`context = "repo"`).
    pub fn read(state_dir: &Path, id: &str, bound: bool) -> io::Result<Option<StoredResult>> {
        match open_existing(&state_dir.join(RESULTS_DIR))? {
            Some(dir) => Ok(dir.read(id)?.map(|text| StoredResult::decode(text, bound))),
            None => Ok(None),
        }
    }

    /// The last stored result of the bound task `id` for `repo`, if any.
    pub fn read_for_repo(
        state_dir: &Path,
        id: &str,
        repo: &Path,
    ) -> io::Result<Option<StoredResult>> {
        let dir = state_dir
            .join(RESULTS_DIR)
            .join(REPOS_DIR)
            .join(repo_key(repo));
        let Some(dir) = open_existing(&dir)? else {
            return Ok(None);
        };
        Ok(dir
            .read(id)?
            .map(|text| StoredResult::decode(text, true))
            .filter(|stored| stored.repo.as_deref() == Some(repo)))
    }

    /// How the last run of `id` (for `repo`, when bound) failed, if it did.
    pub fn read_failure(
        state_dir: &Path,
        id: &str,
        repo: Option<&Path>,
    ) -> io::Result<Option<String>> {
        let mut dir = state_dir.join(RESULTS_DIR);
        if let Some(repo) = repo {
            dir = dir.join(REPOS_DIR).join(repo_key(repo));
        }
        let Some(dir) = open_existing(&dir)? else {
            return Ok(None);
        };
        Ok(dir
            .read(&failure_name(id))?
            .map(|line| line.trim_end().to_string()))
    }
}

/// A directory of corral's that may not exist yet.
fn open_existing(path: &Path) -> io::Result<Option<PrivateDir>> {
    match PrivateDir::open(path) {
        Ok(dir) => Ok(Some(dir)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
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
        let root = tempfile::tempdir().unwrap();
        let store = ResultStore::open(&PrivateDir::create(root.path()).unwrap()).unwrap();
        store.write("git_status", &stored).unwrap();
        let repo = Path::new("/home/a/my repo");
        let read = ResultStore::read_for_repo(root.path(), "git_status", repo).unwrap();
        assert_eq!(read, Some(stored.clone()));
        let other = Path::new("/home/a/other");
        assert_eq!(
            ResultStore::read_for_repo(root.path(), "git_status", other).unwrap(),
            None
        );
        store
            .record_failure("git_status", Some(repo), "timeout x")
            .unwrap();
        let failure = ResultStore::read_failure(root.path(), "git_status", Some(repo));
        assert_eq!(failure.unwrap().as_deref(), Some("timeout x"));
        assert_eq!(
            ResultStore::read_failure(root.path(), "git_status", None).unwrap(),
            None
        );
        store.clear_failure("git_status", Some(repo)).unwrap();
        assert_eq!(
            ResultStore::read_failure(root.path(), "git_status", Some(repo)).unwrap(),
            None
        );
        let plain = StoredResult {
            repo: None,
            result: "repo=/x\ny".into(),
        };
        assert_eq!(StoredResult::decode(plain.encode(), false), plain);
    }
}
