//! The manifest as corral uses it: validated, defaults applied, paths
//! resolved. What is "as written" is kept beside the resolved value, for
//! audits and the canonical form.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::names::{Name, Pin};
use super::schema::{Access, Context, PerfMode, Priority};

/// A validated manifest with defaults applied.
#[derive(Clone, Debug)]
pub struct Manifest {
    pub version: i64,
    pub runtime: RuntimeConfig,
    /// Concurrency classes and their caps.
    pub classes: BTreeMap<Name, u32>,
    pub perf: PerfPolicy,
    pub tasks: Vec<Task>,
    /// The manifest file, as given.
    pub path: PathBuf,
    /// The absolute directory its relative paths (and `build` commands)
    /// start from.
    pub dir: PathBuf,
}

/// The `[runtime]` table with defaults applied.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    pub max_concurrency: u32,
    pub max_timeout_ms: u64,
    pub phase: Name,
    /// As written; see [`RuntimeConfig::state_path`] for the resolved path.
    pub state_dir: String,
    pub state_path: PathBuf,
    /// Refuse to run a manifest that changed since `corral ack`.
    pub require_ack: bool,
}

/// The `[perf]` table with defaults applied: how `corral bench` samples
/// (timings are noisy, so several runs, outliers trimmed) and judges.
#[derive(Clone, Debug, PartialEq)]
pub struct PerfPolicy {
    pub samples: u32,
    /// Samples dropped at each end before the median and spread are taken.
    pub trim: u32,
    /// Above this relative standard deviation a time verdict is refused.
    pub max_rel_stddev: f64,
    pub mode: PerfMode,
}

/// One `[[task]]` with defaults applied and paths resolved.
#[derive(Clone, Debug)]
pub struct Task {
    pub id: Name,
    pub rationale: String,
    /// Base name of the task's segments.
    pub label: Name,
    pub priority: Priority,
    /// As written; see [`Task::component_path`] for the resolved path.
    pub component: String,
    pub component_path: PathBuf,
    pub sha256: Option<Pin>,
    pub build: Option<String>,
    pub timeout_ms: u64,
    pub fuel: u64,
    pub memory_mb: u64,
    pub retries: u32,
    /// Wall time a done task should stay within; judged, never enforced
    /// (that is `timeout_ms`).
    pub budget_ms: Option<u64>,
    /// Fuel a done task should stay within: deterministic, so judged exactly.
    pub budget_fuel: Option<u64>,
    pub feature_flag: Option<String>,
    pub class: Option<Name>,
    /// Set when each run is bound to the shell's repository; see
    /// [`Task::repo`] for the binding of one run.
    pub context: Option<Context>,
    /// The work tree this run is bound to: set by the plan for a
    /// `context = "repo"` task, `None` otherwise.
    pub repo: Option<PathBuf>,
    /// What the plan granted a bound task beyond its manifest entry (its
    /// work tree, and a git directory outside it): named in a log event
    /// as the task starts.
    pub implicit_grants: Vec<PathBuf>,
    /// The server may answer with the last result while nothing the task
    /// can see has changed (`reuse = true`).
    pub reuse: bool,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub dirs: Vec<DirGrant>,
    /// Single files granted read-only (`[[task.file]]`).
    pub files: Vec<FileGrant>,
    /// Line of the task's `[[task]]` header, for later diagnostics.
    pub line: usize,
}

/// One `[[task.dir]]`: a host directory visible to the guest.
#[derive(Clone, Debug)]
pub struct DirGrant {
    /// As written; see [`DirGrant::host_path`] for the resolved path.
    pub host: String,
    pub host_path: PathBuf,
    pub guest: String,
    pub mode: Access,
    pub line: usize,
}

/// One `[[task.file]]`: a single host file the guest may read, and nothing
/// beside it. Granting a file's directory instead would expose its
/// neighbours (`~/.zshrc` lives beside `~/.ssh`); the sandbox realises the
/// grant as a read-only snapshot of exactly the granted files.
#[derive(Clone, Debug)]
pub struct FileGrant {
    /// As written; see [`FileGrant::host_path`] for the resolved path.
    pub host: String,
    pub host_path: PathBuf,
    /// An absolute guest path with a parent directory (`/home/.zshrc`).
    pub guest: String,
    pub line: usize,
}

impl FileGrant {
    /// The guest directory the file appears in, and its name there.
    pub fn guest_parts(&self) -> (&str, &str) {
        let (parent, name) = self
            .guest
            .rsplit_once('/')
            .expect("validated: an absolute guest path");
        (parent, name)
    }
}

impl Task {
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// Where a path the guest sees leads on the host, through the task's
    /// directory grants (the longest granted prefix); `None` outside them.
    pub fn host_path_of(&self, guest: &str) -> Option<PathBuf> {
        self.dirs
            .iter()
            .filter_map(|dir| {
                let rest = guest.strip_prefix(dir.guest.trim_end_matches('/'))?;
                let rest = match rest.strip_prefix('/') {
                    Some(rest) => rest,
                    None if rest.is_empty() => rest,
                    None => return None,
                };
                Some((dir.guest.len(), dir.host_path.join(rest)))
            })
            .max_by_key(|(len, _)| *len)
            .map(|(_, host)| host)
    }
}

impl Manifest {
    pub fn task(&self, id: &str) -> Option<&Task> {
        self.tasks.iter().find(|task| *task.id == *id)
    }

    /// Whether a grant is a `rw` directory inside corral's own state
    /// directory, which corral creates on demand.
    pub fn is_state_grant(&self, dir: &DirGrant) -> bool {
        dir.mode == Access::Rw && dir.host_path.starts_with(&self.runtime.state_path)
    }
}
