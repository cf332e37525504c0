//! One started task: its attempts and retries, its private state made
//! ready and capped, its result stored, a failure kept beside the result,
//! and the one end event it is owed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crate::escape::escape;
use crate::events::{BudgetCheck, Event, FailReason, Failure, LogLevel};
use crate::manifest::{Access, Task};
use crate::mode::Mode;
use crate::run::results::StoredResult;
use crate::run::retry;
use crate::run::shadow::scratch_copy;
use crate::run::task_lock::TaskLock;
use crate::sandbox::attempt::{self, Attempt, Completed};
use crate::sandbox::incremental::Setup;
use crate::sandbox::policy::Grant;
use crate::sandbox::task_state;

use super::{Scheduler, TaskEnd};

impl Scheduler {
    /// Runs every attempt of one started task and emits its one end. The
    /// clock was read for `_start` before `started`, so `_start` + `ms`
    /// never ends after the task really did.
    /// `_lock` is held until the result is stored.
    pub(super) async fn run_task(
        self: Arc<Self>,
        task: Task,
        started: Instant,
        _lock: Option<TaskLock>,
    ) -> TaskEnd {
        let mut attempts = 0;
        let cancel = self.settings.cancel.clone();
        let outcome = tokio::select! {
            outcome = self.attempts(&task, &mut attempts) => outcome,
            cause = cancel.cancelled() => Err(Failure::new(FailReason::Cancelled, cause)),
        };
        let outcome = match outcome {
            Ok(completed) => self.store_result(&task, completed).await,
            Err(failure) => Err(failure),
        };
        self.record_failure(&task, outcome.as_ref().err());
        if let (Ok((_, result)), Some(on_result)) = (&outcome, &self.settings.on_result) {
            on_result(&task, result);
        }
        self.mark_progress();
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let label = task.label.to_string();
        match outcome {
            Ok((fuel, result)) => {
                let budget = BudgetCheck::of(task.budget_ms, task.budget_fuel, ms, fuel);
                let budget_over = budget.as_ref().map(|budget| budget.over);
                self.events.emit(Event::TaskDone {
                    label,
                    ms,
                    attempts,
                    fuel,
                    budget,
                });
                TaskEnd {
                    ms,
                    fuel: Some(fuel),
                    budget_over,
                    answer: Ok(result),
                }
            }
            Err(failure) => {
                self.events.emit(Event::TaskFail {
                    label,
                    ms,
                    attempts,
                    reason: failure.reason,
                    message: failure.message.clone(),
                });
                TaskEnd {
                    ms,
                    fuel: None,
                    budget_over: None,
                    answer: Err(failure),
                }
            }
        }
    }

    /// Attempts the task until it succeeds, fails for good or runs out of
    /// retries; `attempts` counts the attempts made.
    async fn attempts(&self, task: &Task, attempts: &mut u32) -> Result<Completed, Failure> {
        let component = self.components.get(&self.runtime, task).await?;
        // A component ready (perhaps after a long first compile) is progress.
        self.mark_progress();
        let state_dir = match component.incremental {
            true => Some(self.task_state(task, &component.sha256).await?),
            false => None,
        };
        // Shadow mode: scratch copies of the rw grants, removed on drop.
        // The copies count against the task's timeout.
        let mut scratch = HashMap::new();
        if self.settings.mode == Mode::Shadow {
            let deadline = Instant::now() + task.timeout();
            for dir in task.dirs.iter().filter(|dir| dir.mode == Access::Rw) {
                let source = dir.host_path.clone();
                let copy = tokio::task::spawn_blocking(move || scratch_copy(&source, deadline))
                    .await
                    .map_err(std::io::Error::other)
                    .and_then(|copied| copied)
                    .map_err(|error| {
                        let reason = match error.kind() {
                            std::io::ErrorKind::TimedOut => FailReason::Timeout,
                            _ => FailReason::Denied,
                        };
                        Failure::new(
                            reason,
                            format!("cannot make a shadow copy of {}: {error}", dir.guest),
                        )
                    })?;
                scratch.insert(dir.guest.clone(), copy);
            }
        }
        loop {
            *attempts += 1;
            let latency = self.settings.controls.fake_latency.draw();
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            self.mark_progress();
            let grants = task
                .dirs
                .iter()
                .map(|dir| Grant {
                    host: scratch
                        .get(&dir.guest)
                        .map_or(dir.host_path.as_path(), |copy| copy.path()),
                    guest: &dir.guest,
                    access: dir.mode,
                })
                .collect();
            let attempt = Attempt {
                task,
                number: *attempts,
                grants,
                events: &self.events,
                forced_timeout: self.settings.controls.force_timeout.as_deref()
                    == Some(task.id.as_str()),
                incremental: state_dir.as_deref().map(|state_dir| Setup {
                    state_dir,
                    feed: self.settings.changes.clone(),
                }),
            };
            let outcome = attempt::run_attempt(&self.runtime, &component.pre, attempt).await;
            if let Some(state_dir) = &state_dir {
                self.cap_task_state(task, state_dir).await;
            }
            match outcome {
                Err(failure) if retry::should_retry(&failure, *attempts, task.retries) => {
                    tracing::info!(task = %task.id, attempt = *attempts, %failure, "retrying");
                    self.mark_progress();
                    tokio::time::sleep(retry::backoff(*attempts)).await;
                }
                outcome => return outcome,
            }
        }
    }

    /// Runs `work` on corral's own state: inline when the state directory
    /// is on local storage (a few bounded file calls, cheaper than the
    /// hand-off to the blocking pool and back, ~4 context switches), on
    /// the blocking pool otherwise, where a hung filesystem cannot hold
    /// the executor.
    async fn on_state<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> std::io::Result<T> {
        if self.state_is_local {
            return Ok(work());
        }
        tokio::task::spawn_blocking(work)
            .await
            .map_err(std::io::Error::other)
    }

    /// The task's private state directory, made ready; failing to make it
    /// is corral's own state failing.
    async fn task_state(&self, task: &Task, sha256: &str) -> Result<PathBuf, Failure> {
        let (state_dir, staging, sha256) =
            (self.state_dir.clone(), task.clone(), sha256.to_owned());
        self.on_state(move || task_state::prepare(&state_dir, &staging, &sha256))
            .await
            .and_then(|prepared| prepared)
            .map_err(|error| {
                let message = format!("cannot prepare the private state of {}: {error}", task.id);
                self.state_error(message.clone());
                Failure::new(FailReason::Error, message)
            })
    }

    /// Drops the task's state if its attempt left it past the caps.
    async fn cap_task_state(&self, task: &Task, state_dir: &Path) {
        let dir = state_dir.to_path_buf();
        let capped = self
            .on_state(move || task_state::enforce_cap(&dir))
            .await
            .and_then(|capped| capped);
        match capped {
            Ok(None) => {}
            Ok(Some(usage)) => self.events.emit(Event::Log {
                label: task.label.to_string(),
                level: LogLevel::Warn,
                message: format!(
                    "private state dropped: {} bytes in {} entries exceed the caps of {} bytes and {} entries",
                    usage.bytes,
                    usage.entries,
                    task_state::MAX_STATE_BYTES,
                    task_state::MAX_STATE_ENTRIES
                ),
            }),
            Err(error) => tracing::warn!(task = %task.id, %error, "cannot measure private state"),
        }
    }

    /// Stores a done task's result (not in shadow mode) and returns the
    /// fuel it consumed with the result.
    async fn store_result(
        &self,
        task: &Task,
        completed: Completed,
    ) -> Result<(u64, String), Failure> {
        let Completed {
            result,
            fuel_consumed,
        } = completed;
        if self.settings.mode == Mode::Shadow {
            return Ok((fuel_consumed, result));
        }
        let results = self.results.clone();
        let id = task.id.to_string();
        let stored = StoredResult {
            repo: task.repo.clone(),
            result: result.clone(),
        };
        self.on_state(move || results.write(&id, &stored))
            .await
            .and_then(|written| written)
            .map(|()| (fuel_consumed, result))
            .map_err(|error| {
                let message = format!("cannot store the result of {}: {error}", task.id);
                self.state_error(message.clone());
                Failure::new(FailReason::Error, message)
            })
    }

    /// Keeps `<id>.failed` beside a task's result (its repository's, for
    /// a bound task) while its last run failed: a failed run stores no
    /// result, and a check whose last result was clean, or a status whose
    /// last counts were right, must not look current while it is failing.
    /// A run cancelled by a signal or the watchdog says nothing about the
    /// task.
    fn record_failure(&self, task: &Task, failure: Option<&Failure>) {
        if self.settings.mode != Mode::On {
            return;
        }
        let repo = task.repo.as_deref();
        let recorded = match failure {
            None => self.results.clear_failure(&task.id, repo),
            Some(failure) if failure.reason == FailReason::Cancelled => return,
            Some(failure) => self.results.record_failure(
                &task.id,
                repo,
                &format!("{} {}", failure.reason.as_str(), escape(&failure.message)),
            ),
        };
        if let Err(error) = recorded {
            tracing::warn!(task = %task.id, %error, "cannot record the task's failure");
        }
    }
}
