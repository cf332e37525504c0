//! The run queue: priorities, global and per-class caps, retries, the
//! watchdog, and exactly one terminal event for every task that starts.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;
use tokio::task::JoinSet;

use crate::bindings::TaskPre;
use crate::cancel::Cancel;
use crate::controls::Controls;
use crate::engine::Runtime;
use crate::events::{Event, Events, Mode, Summary};
use crate::host::TaskState;
use crate::manifest::{Access, Manifest, Task};
use crate::outcome::{FailReason, Failure};
use crate::plan::Plan;
use crate::policy::Grant;
use crate::results::ResultStore;
use crate::sandbox::{self, Attempt, Completed};
use crate::shadow::scratch_copy;
use crate::watchdog;

/// First retry waits this long; each further retry doubles it.
const RETRY_BACKOFF: Duration = Duration::from_millis(50);
const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(1);

type Loaded = Result<Arc<TaskPre<TaskState>>, Failure>;

/// How a run is carried out, besides the manifest.
pub struct RunSettings {
    pub mode: Mode,
    pub max_concurrency: u32,
    pub controls: Controls,
    pub cancel: Cancel,
}

/// Everything the tasks of one run share.
pub struct Scheduler {
    runtime: Arc<Runtime>,
    events: Events,
    results: ResultStore,
    state_dir: PathBuf,
    settings: RunSettings,
    class_caps: HashMap<String, usize>,
    /// Each distinct component is loaded once, by whichever task needs it
    /// first; the others wait for the same result.
    components: HashMap<(PathBuf, Option<String>), Arc<OnceCell<Loaded>>>,
    /// Milliseconds since `started` at the last sign of life of any task.
    last_progress_ms: AtomicU64,
    started: Instant,
}

/// What a run reports besides its summary line.
pub struct RunOutcome {
    pub summary: Summary,
    /// Tasks refused because their component did not match its pin.
    pub integrity_failures: u32,
}

/// How one task ended.
struct TaskEnd {
    ms: f64,
    failure: Option<FailReason>,
}

impl Scheduler {
    pub fn new(
        runtime: Arc<Runtime>,
        manifest: &Manifest,
        events: Events,
        settings: RunSettings,
    ) -> Self {
        Scheduler {
            runtime,
            events,
            results: ResultStore::new(&manifest.runtime.state_path),
            state_dir: manifest.runtime.state_path.clone(),
            settings,
            class_caps: manifest
                .classes
                .iter()
                .map(|(name, cap)| (name.clone(), *cap as usize))
                .collect(),
            components: HashMap::new(),
            last_progress_ms: AtomicU64::new(0),
            started: Instant::now(),
        }
    }

    /// Runs the plan to the end (or until cancelled) and returns the counts.
    pub async fn run(mut self, plan: Plan) -> RunOutcome {
        let mut integrity_failures = 0;
        let mut summary = Summary {
            skipped: plan.skip.len() as u32,
            ..Summary::default()
        };
        for (task, flag) in &plan.skip {
            self.events.emit(Event::TaskSkipped {
                label: task.label.clone(),
                flag: flag.clone(),
            });
        }
        for task in &plan.start {
            self.components
                .entry((task.component_path.clone(), task.sha256.clone()))
                .or_default();
        }
        let stall_limit = watchdog::stall_limit(&plan.start);
        self.events.emit(self.events.queue_init(plan.start.len()));
        let this = Arc::new(self);
        this.prefetch_components();

        let max_concurrency = this.settings.max_concurrency as usize;
        let mut queue = plan.start;
        let mut running = JoinSet::new();
        let mut in_flight: HashMap<tokio::task::Id, Task> = HashMap::new();
        let mut class_running: HashMap<String, usize> = HashMap::new();
        loop {
            // Start, in priority order, every queued task whose caps allow;
            // once the run is cancelled, nothing more starts.
            let mut index = 0;
            while !this.settings.cancel.is_cancelled()
                && in_flight.len() < max_concurrency
                && index < queue.len()
            {
                let class = queue[index].class.clone();
                let class_full = class.as_ref().is_some_and(|class| {
                    class_running.get(class).copied().unwrap_or(0)
                        >= this.class_caps.get(class).copied().unwrap_or(usize::MAX)
                });
                if class_full {
                    index += 1;
                    continue;
                }
                let task = queue.remove(index);
                if let Some(class) = class {
                    *class_running.entry(class).or_default() += 1;
                }
                this.mark_progress();
                // `_start` is emitted here, as the slot is granted, so start
                // events appear in scheduling (priority) order.
                let start_ms = this.events.since_start_ms();
                let started = Instant::now();
                this.events.emit(Event::TaskStart {
                    label: task.label.clone(),
                    ms: start_ms,
                });
                let handle = running.spawn(Arc::clone(&this).run_task(task.clone(), started));
                in_flight.insert(handle.id(), task);
            }
            if in_flight.is_empty() {
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
                        label: task.label.clone(),
                        ms: 0.0,
                        attempts: 0,
                        reason: FailReason::Trap,
                        message: format!("host error while running the task: {error}"),
                    });
                    let end = TaskEnd {
                        ms: 0.0,
                        failure: Some(FailReason::Trap),
                    };
                    (error.id(), end)
                }
            };
            let Some(task) = in_flight.remove(&id) else {
                continue;
            };
            if let Some(class) = &task.class {
                *class_running.entry(class.clone()).or_default() -= 1;
            }
            summary.total += 1;
            summary.accumulated_ms += end.ms;
            match end.failure {
                None => summary.done += 1,
                Some(FailReason::Timeout) => summary.timeout += 1,
                Some(reason) => {
                    summary.fail += 1;
                    integrity_failures += u32::from(reason == FailReason::Integrity);
                }
            }
        }
        if summary.done > 0
            && this.settings.mode == Mode::On
            && let Err(error) = this.results.sync()
        {
            tracing::error!(%error, "cannot make the stored results durable");
        }
        RunOutcome {
            summary,
            integrity_failures,
        }
    }

    fn mark_progress(&self) {
        let now = self.started.elapsed().as_millis() as u64;
        self.last_progress_ms.store(now, Ordering::Relaxed);
    }

    /// Resolves once no task has shown progress for `limit`.
    async fn stalled(&self, limit: Duration) {
        loop {
            let last = Duration::from_millis(self.last_progress_ms.load(Ordering::Relaxed));
            let due = self.started + last + limit;
            if Instant::now() >= due {
                return;
            }
            tokio::time::sleep_until(due.into()).await;
        }
    }

    /// Records the stall, cancels the stuck tasks and disables later runs.
    fn trip_watchdog<'a>(&self, stuck: impl Iterator<Item = &'a Task>, limit: Duration) {
        let tasks: Vec<String> = stuck.map(|task| task.id.clone()).collect();
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

    /// Starts compiling every component at once, so a task rarely waits for
    /// compilation when its turn comes.
    fn prefetch_components(self: &Arc<Self>) {
        for (path, pin) in self.components.keys() {
            let this = Arc::clone(self);
            let (path, pin) = (path.clone(), pin.clone());
            tokio::spawn(async move { this.component(&path, pin.as_deref()).await });
        }
    }

    async fn component(&self, path: &Path, pin: Option<&str>) -> Loaded {
        let key = (path.to_path_buf(), pin.map(str::to_string));
        let cell = Arc::clone(&self.components[&key]);
        cell.get_or_init(|| async {
            let runtime = Arc::clone(&self.runtime);
            let (path, pin) = key.clone();
            tokio::task::spawn_blocking(move || runtime.load(&path, pin.as_deref()))
                .await
                .unwrap_or_else(|error| {
                    Err(Failure::new(
                        FailReason::Load,
                        format!("loading {} failed: {error}", key.0.display()),
                    ))
                })
                .map(Arc::new)
        })
        .await
        .clone()
    }

    /// Runs every attempt of one started task and emits its one end. The
    /// clock was read for `_start` before `started`, so `_start` + `ms`
    /// never ends after the task really did.
    async fn run_task(self: Arc<Self>, task: Task, started: Instant) -> TaskEnd {
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
        self.mark_progress();
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let label = task.label.clone();
        match outcome {
            Ok(fuel) => {
                self.events.emit(Event::TaskDone {
                    label,
                    ms,
                    attempts,
                    fuel,
                });
                TaskEnd { ms, failure: None }
            }
            Err(failure) => {
                self.events.emit(Event::TaskFail {
                    label,
                    ms,
                    attempts,
                    reason: failure.reason,
                    message: failure.message,
                });
                TaskEnd {
                    ms,
                    failure: Some(failure.reason),
                }
            }
        }
    }

    /// Attempts the task until it succeeds, fails for good or runs out of
    /// retries; `attempts` counts the attempts made.
    async fn attempts(&self, task: &Task, attempts: &mut u32) -> Result<Completed, Failure> {
        let component = self
            .component(&task.component_path, task.sha256.as_deref())
            .await?;
        // Shadow mode: scratch copies of the rw grants, removed on drop.
        let mut scratch = HashMap::new();
        if self.settings.mode == Mode::Shadow {
            for dir in task.dirs.iter().filter(|dir| dir.mode == Access::Rw) {
                let source = dir.host_path.clone();
                let copy = tokio::task::spawn_blocking(move || scratch_copy(&source))
                    .await
                    .map_err(std::io::Error::other)
                    .and_then(|copied| copied)
                    .map_err(|error| {
                        Failure::new(
                            FailReason::Denied,
                            format!("cannot make a shadow copy of {}: {error}", dir.guest),
                        )
                    })?;
                scratch.insert(dir.guest.clone(), copy);
            }
        }
        loop {
            *attempts += 1;
            if !self.settings.controls.fake_latency.is_zero() {
                tokio::time::sleep(self.settings.controls.fake_latency).await;
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
            };
            match sandbox::run_attempt(&self.runtime, &component, attempt).await {
                Err(failure) if failure.reason.is_retryable() && *attempts <= task.retries => {
                    tracing::info!(task = %task.id, attempt = *attempts, %failure, "retrying");
                    self.mark_progress();
                    tokio::time::sleep(backoff(*attempts)).await;
                }
                outcome => return outcome,
            }
        }
    }

    /// Stores a done task's result (not in shadow mode) and returns the
    /// fuel it consumed.
    async fn store_result(&self, task: &Task, completed: Completed) -> Result<u64, Failure> {
        if self.settings.mode == Mode::Shadow {
            return Ok(completed.fuel_consumed);
        }
        let results = self.results.clone();
        let id = task.id.clone();
        tokio::task::spawn_blocking(move || results.write(&id, &completed.result))
            .await
            .map_err(std::io::Error::other)
            .and_then(|written| written)
            .map(|()| completed.fuel_consumed)
            .map_err(|error| {
                Failure::new(
                    FailReason::Error,
                    format!("cannot store the result of {}: {error}", task.id),
                )
            })
    }
}

fn backoff(attempt: u32) -> Duration {
    RETRY_BACKOFF
        .saturating_mul(1 << (attempt - 1).min(16))
        .min(MAX_RETRY_BACKOFF)
}
