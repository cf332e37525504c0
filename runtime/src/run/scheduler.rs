//! The run queue: priorities, global and per-class caps, retries, the
//! watchdog, and exactly one terminal event for every task that starts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::escape::escape;
use crate::events::{
    BudgetCheck, Event, Events, FailReason, Failure, LogLevel, SkipCause, Summary,
};
use crate::fs::private_dir::PrivateDir;
use crate::manifest::{Access, Manifest, Task};
use crate::mode::Mode;
use crate::plan::{Plan, Skip};
use crate::run::cancel::Cancel;
use crate::run::components::Components;
use crate::run::controls::Controls;
use crate::run::queue::Queue;
use crate::run::results::{ResultStore, StoredResult};
use crate::run::retry;
use crate::run::shadow::scratch_copy;
use crate::run::task_lock::{LockKey, TaskLock, TaskLocks};
use crate::run::watchdog;
use crate::sandbox::Runtime;
use crate::sandbox::attempt::{self, Attempt, Completed};
use crate::sandbox::incremental::{ChangeFeed, Setup};
use crate::sandbox::policy::Grant;
use crate::sandbox::task_state;

/// How a run is carried out, besides the manifest.
pub struct RunSettings {
    pub mode: Mode,
    pub max_concurrency: u32,
    pub controls: Controls,
    pub cancel: Cancel,
    /// What changed since a task's earlier run (the server's watches);
    /// without it every task that asks is told "unknown".
    pub changes: Option<Arc<dyn ChangeFeed>>,
}

/// Everything the tasks of one run share.
pub struct Scheduler {
    runtime: Arc<Runtime>,
    events: Events,
    results: ResultStore,
    locks: TaskLocks,
    state_dir: PathBuf,
    settings: RunSettings,
    class_caps: HashMap<String, usize>,
    components: Components,
    /// Milliseconds since `started` at the last sign of life of any task.
    last_progress_ms: AtomicU64,
    started: Instant,
    /// What failed on corral's own state (locks, results): exit 4.
    state_errors: std::sync::Mutex<Vec<String>>,
}

/// What a run reports besides its summary line.
pub struct RunOutcome {
    pub summary: Summary,
    /// Tasks refused because their component did not match its pin.
    pub integrity_failures: u32,
    /// Every started task that ended, in end order: `corral bench`'s samples.
    pub tasks: Vec<TaskRecord>,
    /// Repository-bound tasks another run asked to see rerun while this
    /// run held them (see `task_lock`): the caller starts one more run.
    pub reruns: Vec<String>,
    /// Failures of corral's own state (a lock or result file it cannot
    /// use), each naming the path: the run exits 4.
    pub state_errors: Vec<String>,
}

/// How one started task ended.
#[derive(Clone, Debug)]
pub struct TaskRecord {
    pub id: String,
    /// The repository a bound task ran for.
    pub repo: Option<PathBuf>,
    pub ms: f64,
    /// The fuel of a done task; `None` when it failed.
    pub fuel: Option<u64>,
    /// The result of a done task, or how it failed.
    pub answer: Result<String, Failure>,
}

/// How one task ended.
struct TaskEnd {
    ms: f64,
    fuel: Option<u64>,
    /// Whether a done task with a budget exceeded it.
    budget_over: Option<bool>,
    answer: Result<String, Failure>,
}

impl Scheduler {
    /// `state` is the manifest's state directory, open; results and task
    /// locks live there.
    pub fn new(
        runtime: Arc<Runtime>,
        manifest: &Manifest,
        state: &PrivateDir,
        events: Events,
        settings: RunSettings,
    ) -> std::io::Result<Self> {
        Ok(Scheduler {
            runtime,
            events,
            results: ResultStore::open(state)?,
            locks: TaskLocks::open(state)?,
            state_dir: manifest.runtime.state_path.clone(),
            settings,
            class_caps: manifest
                .classes
                .iter()
                .map(|(name, cap)| (name.to_string(), *cap as usize))
                .collect(),
            components: Components::default(),
            last_progress_ms: AtomicU64::new(0),
            started: Instant::now(),
            state_errors: std::sync::Mutex::default(),
        })
    }

    /// Runs the plan to the end (or until cancelled) and returns the counts.
    pub async fn run(mut self, plan: Plan) -> RunOutcome {
        let mut integrity_failures = 0;
        let mut starts: u32 = 0;
        let mut records = Vec::with_capacity(plan.start.len());
        let mut reruns = Vec::new();
        let mut summary = Summary {
            skipped: plan.skip.len() as u32,
            ..Summary::default()
        };
        for (task, skip) in &plan.skip {
            self.events.emit(Event::TaskSkipped {
                label: task.label.to_string(),
                cause: match skip {
                    Skip::Flag(flag) => SkipCause::Flag(flag.clone()),
                    Skip::NoRepo => SkipCause::NoRepo,
                    Skip::Refused(why) => SkipCause::Refused(why.clone()),
                },
            });
        }
        for task in &plan.start {
            self.components.expect(task);
        }
        let stall_limit = watchdog::stall_limit(&plan.start);
        self.events.emit(self.events.queue_init(plan.start.len()));
        let this = Arc::new(self);
        this.components.prefetch(&this.runtime, &this.events);

        let mut queue = Queue::new(
            plan.start,
            this.settings.max_concurrency as usize,
            this.class_caps.clone(),
        );
        let mut running = JoinSet::new();
        let mut in_flight: HashMap<tokio::task::Id, Task> = HashMap::new();
        loop {
            // Start, in priority order, every queued task whose caps allow;
            // once the run is cancelled, nothing more starts.
            while !this.settings.cancel.is_cancelled()
                && let Some(task) = queue.next()
            {
                let Some(lock) = this.lock(&task) else {
                    queue.finished(&task);
                    summary.skipped += 1;
                    continue;
                };
                this.mark_progress();
                // `_start` is emitted here, as the slot is granted, so start
                // events appear in scheduling (priority) order.
                let start_ms = this.events.since_start_ms();
                let started = Instant::now();
                this.events.emit(Event::TaskStart {
                    label: task.label.to_string(),
                    ms: start_ms,
                });
                if !task.implicit_grants.is_empty() {
                    let grants: Vec<String> = task
                        .implicit_grants
                        .iter()
                        .map(|path| path.display().to_string())
                        .collect();
                    this.events.emit(Event::Log {
                        label: task.label.to_string(),
                        level: LogLevel::Info,
                        message: format!("granted ro for the repository: {}", grants.join(" ")),
                    });
                }
                starts += 1;
                let handle = running.spawn(Arc::clone(&this).run_task(task.clone(), started, lock));
                in_flight.insert(handle.id(), task);
            }
            if queue.running() == 0 {
                break;
            }
            let joined = tokio::select! {
                joined = running.join_next_with_id() => joined,
                () = this.stalled(stall_limit), if !this.settings.controls.disable_watchdog => {
                    this.trip_watchdog(in_flight.values(), stall_limit);
                    continue;
                }
            };
            let Some(joined) = joined else { break };
            let (id, end) = match joined {
                Ok((id, end)) => (id, end),
                Err(error) => {
                    // The task's future panicked: it never emitted its end.
                    let task = &in_flight[&error.id()];
                    this.events.emit(Event::TaskFail {
                        label: task.label.to_string(),
                        ms: 0.0,
                        attempts: 0,
                        reason: FailReason::Trap,
                        message: format!("host error while running the task: {error}"),
                    });
                    let end = TaskEnd {
                        ms: 0.0,
                        fuel: None,
                        budget_over: None,
                        answer: Err(Failure::new(FailReason::Trap, error.to_string())),
                    };
                    (error.id(), end)
                }
            };
            let Some(task) = in_flight.remove(&id) else {
                continue;
            };
            queue.finished(&task);
            if this.rerun_requested(&task) {
                reruns.push(task.id.to_string());
            }
            summary.total += 1;
            summary.accumulated_ms += end.ms;
            summary.fuel_total += end.fuel.unwrap_or(0);
            match end.budget_over {
                Some(true) => summary.budget_over += 1,
                Some(false) => summary.budget_ok += 1,
                None => {}
            }
            match end.answer.as_ref().map_err(|failure| failure.reason) {
                Ok(_) => summary.done += 1,
                Err(FailReason::Timeout) => summary.timeout += 1,
                Err(reason) => {
                    summary.fail += 1;
                    integrity_failures += u32::from(reason == FailReason::Integrity);
                }
            }
            records.push(TaskRecord {
                id: task.id.to_string(),
                repo: task.repo.clone(),
                ms: end.ms,
                fuel: end.fuel,
                answer: end.answer,
            });
        }
        this.components.close();
        // Each join above is one terminal event; anything else is a task
        // that started and was never accounted for.
        summary.unterminated = starts.saturating_sub(summary.total);
        if this.settings.mode == Mode::On
            && let Err(error) = this.results.sync()
        {
            tracing::error!(%error, "cannot make the stored results durable");
        }
        let state_errors = std::mem::take(
            &mut *this
                .state_errors
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        RunOutcome {
            summary,
            integrity_failures,
            tasks: records,
            reruns,
            state_errors,
        }
    }

    /// The task's cross-process lock (see `task_lock`), `Some(None)` where
    /// none is needed; `None` after emitting `_skipped reason=running` when
    /// another process is running the task, or `reason=state` when the
    /// lock file cannot be used.
    fn lock(&self, task: &Task) -> Option<Option<TaskLock>> {
        if self.settings.mode != Mode::On {
            return Some(None);
        }
        let key = LockKey::of(task);
        let taken = match self.locks.try_lock(&key) {
            Ok(None) if task.repo.is_some() => self.locks.request_rerun(&key),
            taken => taken,
        };
        match taken {
            Ok(Some(lock)) => Some(Some(lock)),
            Ok(None) => {
                self.events.emit(Event::TaskSkipped {
                    label: task.label.to_string(),
                    cause: SkipCause::Running,
                });
                None
            }
            Err(error) => {
                // A lock that is a symlink, another's or unreadable is not
                // corral's own: the task does not run unlocked.
                let message = format!("cannot take the lock of {}: {error}", task.id);
                self.events.emit(Event::TaskSkipped {
                    label: task.label.to_string(),
                    cause: SkipCause::State(message.clone()),
                });
                self.state_error(message);
                None
            }
        }
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

    /// Whether a run that found `task` locked by this one asked for a
    /// rerun; called once the task's lock is dropped.
    fn rerun_requested(&self, task: &Task) -> bool {
        // A cancelled run starts nothing more: the request stays for the
        // next run of the task.
        if task.repo.is_none()
            || self.settings.mode != Mode::On
            || self.settings.cancel.is_cancelled()
        {
            return false;
        }
        self.locks
            .take_rerun(&LockKey::of(task))
            .inspect_err(
                |error| tracing::warn!(task = %task.id, %error, "cannot read a rerun request"),
            )
            .unwrap_or(false)
    }

    fn mark_progress(&self) {
        let now = self.started.elapsed().as_millis() as u64;
        self.last_progress_ms.store(now, Ordering::Relaxed);
    }

    /// Resolves once no task has shown progress for `limit`. Compiling a
    /// component is progress: a first compilation may take longer than any
    /// task's timeout, and is not a stalled host.
    async fn stalled(&self, limit: Duration) {
        loop {
            let last = Duration::from_millis(self.last_progress_ms.load(Ordering::Relaxed));
            let due = self.started + last + limit;
            if Instant::now() >= due {
                if !self.components.loading() {
                    return;
                }
                self.mark_progress();
                continue;
            }
            tokio::time::sleep_until(due.into()).await;
        }
    }

    /// Records the stall, cancels the stuck tasks and disables later runs.
    fn trip_watchdog<'a>(&self, stuck: impl Iterator<Item = &'a Task>, limit: Duration) {
        let tasks: Vec<String> = stuck.map(|task| task.id.to_string()).collect();
        self.events.emit(Event::Watchdog {
            stalled_ms: limit.as_secs_f64() * 1000.0,
            tasks: tasks.clone(),
        });
        if let Err(error) = watchdog::trip(&self.state_dir, limit, &tasks) {
            tracing::error!(%error, "cannot write the watchdog sentinel");
        }
        self.settings.cancel.cancel(format!(
            "watchdog: no progress for {} ms",
            limit.as_millis()
        ));
        self.mark_progress();
    }

    /// Runs every attempt of one started task and emits its one end. The
    /// clock was read for `_start` before `started`, so `_start` + `ms`
    /// never ends after the task really did.
    /// `_lock` is held until the result is stored.
    async fn run_task(
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

    /// The task's private state directory, made ready (blocking work off
    /// the executor); failing to make it is corral's own state failing.
    async fn task_state(&self, task: &Task, sha256: &str) -> Result<PathBuf, Failure> {
        let (state_dir, staging, sha256) =
            (self.state_dir.clone(), task.clone(), sha256.to_owned());
        tokio::task::spawn_blocking(move || task_state::prepare(&state_dir, &staging, &sha256))
            .await
            .map_err(std::io::Error::other)
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
        let capped = tokio::task::spawn_blocking(move || task_state::enforce_cap(&dir))
            .await
            .map_err(std::io::Error::other)
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
        tokio::task::spawn_blocking(move || results.write(&id, &stored))
            .await
            .map_err(std::io::Error::other)
            .and_then(|written| written)
            .map(|()| (fuel_consumed, result))
            .map_err(|error| {
                let message = format!("cannot store the result of {}: {error}", task.id);
                self.state_error(message.clone());
                Failure::new(FailReason::Error, message)
            })
    }

    fn state_error(&self, message: String) {
        self.state_errors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(message);
    }
}
