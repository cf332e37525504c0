//! Which tasks a run starts, in which order, and which it skips; and, for
//! tasks run for the shell's repository, which repository (`repo`). It reads
//! the manifest alone: it must not import the run, the sandbox, the events,
//! the views or the command line.

pub mod repo;

use std::path::Path;

use crate::manifest::{Access, Context, DirGrant, Manifest, Task};
use repo::Repo;

/// The tasks of one run: `start` in priority order, `skip` with the reason
/// each does not run.
#[derive(Debug)]
pub struct Plan {
    pub start: Vec<Task>,
    pub skip: Vec<(Task, Skip)>,
}

/// Why a selected task does not run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    /// Its feature flag (this environment variable) is not on.
    Flag(String),
    /// It runs for the shell's repository, and there is none.
    NoRepo,
    /// It runs for the shell's repository, whose git directory lies where
    /// git's layout puts none (why, in words).
    Refused(String),
}

/// A task id that the manifest does not have.
#[derive(Debug, thiserror::Error)]
#[error("no task with id {0:?} in the manifest\n  help: `corral list` shows the ids")]
pub struct UnknownTask(pub String);

impl Plan {
    /// Selects the tasks of `manifest` (all, or those in `only`), skips
    /// those whose feature flag is not set in `env`, and orders the rest
    /// critical before normal before cosmetic, by id within a priority.
    pub fn new(
        manifest: &Manifest,
        only: &[String],
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Plan, UnknownTask> {
        if let Some(missing) = only.iter().find(|id| manifest.task(id).is_none()) {
            return Err(UnknownTask(missing.clone()));
        }
        let mut plan = Plan {
            start: Vec::new(),
            skip: Vec::new(),
        };
        let selected = manifest
            .tasks
            .iter()
            .filter(|task| only.is_empty() || only.iter().any(|id| **id == *task.id));
        for task in selected {
            match &task.feature_flag {
                Some(flag) if !env(flag).as_deref().is_some_and(flag_is_on) => {
                    plan.skip.push((task.clone(), Skip::Flag(flag.clone())));
                }
                _ => plan.start.push(task.clone()),
            }
        }
        plan.start
            .sort_by(|a, b| (a.priority, &a.id).cmp(&(b.priority, &b.id)));
        Ok(plan)
    }

    /// Binds every `context = "repo"` task to the repository containing
    /// `dir`, or skips it when there is none (or no readable directory, as
    /// for a shell in a deleted one): the work tree becomes the task's
    /// first argument and read-only grants at their own paths.
    pub fn bind_context(mut self, dir: Option<&Path>) -> Plan {
        if !self.start.iter().any(|task| task.context.is_some()) {
            return self;
        }
        let found = dir.map_or(Ok(None), Repo::containing);
        for task in std::mem::take(&mut self.start) {
            match (task.context, &found) {
                (None, _) => self.start.push(task),
                (Some(Context::Repo), Ok(Some(repo))) => self.start.push(bind(task, repo)),
                (Some(Context::Repo), Ok(None)) => self.skip.push((task, Skip::NoRepo)),
                (Some(Context::Repo), Err(refused)) => {
                    self.skip.push((task, Skip::Refused(refused.0.clone())))
                }
            }
        }
        self
    }
}

fn bind(mut task: Task, repo: &Repo) -> Task {
    let grant = |path: &Path| {
        let spelled = path.to_string_lossy().into_owned();
        DirGrant {
            host: spelled.clone(),
            host_path: path.to_path_buf(),
            guest: spelled,
            mode: Access::Ro,
            line: task.line,
        }
    };
    task.implicit_grants = repo.grants();
    task.dirs
        .extend(task.implicit_grants.iter().map(|path| grant(path)));
    task.args
        .insert(0, repo.work_tree.to_string_lossy().into_owned());
    task.repo = Some(repo.work_tree.clone());
    task
}

fn flag_is_on(value: &str) -> bool {
    ["1", "true", "on"]
        .iter()
        .any(|on| value.trim().eq_ignore_ascii_case(on))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const MANIFEST: &str = r#"
version = 1
[[task]]
id = "a_cosmetic"
rationale = "r"
priority = "cosmetic"
component = "a.wasm"
[[task]]
id = "b_flagged"
rationale = "r"
component = "b.wasm"
feature_flag = "CORRAL_B"
[[task]]
id = "c_critical"
rationale = "r"
priority = "critical"
component = "c.wasm"
"#;

    #[test]
    fn orders_by_priority_then_id_and_skips_flags_that_are_off() {
        let manifest = Manifest::parse(Path::new("m.toml"), MANIFEST).unwrap();
        let plan = Plan::new(&manifest, &[], |_| None).unwrap();
        let ids: Vec<_> = plan.start.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["c_critical", "a_cosmetic"]);
        assert_eq!(plan.skip[0].1, Skip::Flag("CORRAL_B".into()));

        let plan = Plan::new(&manifest, &[], |_| Some("On".into())).unwrap();
        let ids: Vec<_> = plan.start.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["c_critical", "b_flagged", "a_cosmetic"]);
    }

    #[test]
    fn only_selects_and_rejects_unknown_ids() {
        let manifest = Manifest::parse(Path::new("m.toml"), MANIFEST).unwrap();
        let plan = Plan::new(&manifest, &["a_cosmetic".into()], |_| None).unwrap();
        assert_eq!(plan.start.len(), 1);
        assert!(Plan::new(&manifest, &["nope".into()], |_| None).is_err());
    }
}
