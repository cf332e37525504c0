//! The scheduler of one run: tasks started in priority order within the
//! global and per-class caps, cross-process locks, the watchdog, and the
//! run's outcome. Each started task is carried out in `task`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::events::{Event, Events, FailReason, Failure, LogLevel, SkipCause, Summary};
use crate::fs::private_dir::PrivateDir;
use crate::manifest::{Manifest, Task};
use crate::mode::Mode;
use crate::plan::{Plan, Skip};
use crate::run::cancel::Cancel;
use crate::run::components::Components;
use crate::run::controls::Controls;
use crate::run::queue::Queue;
use crate::run::results::ResultStore;
use crate::run::task_lock::{LockKey, TaskLock, TaskLocks};
use crate::run::watchdog;
use crate::sandbox::Runtime;
use crate::sandbox::incremental::ChangeFeed;
use crate::sandbox::local_fs;

mod task;

/// How a run is carried out, besides the manifest.
pub struct RunSettings {
    pub mode: Mode,
    pub max_concurrency: u32,
    pub controls: Controls,
    pub cancel: Cancel,
    /// What changed since a task's earlier run (the server's watches);
    /// without it every task that asks is told "unknown".
    pub changes: Option<Arc<dyn ChangeFeed>>,
    /// Hears each task's result once it is stored, before the run ends:
    /// the server answers whoever waits for it from here.
    pub on_result: Option<OnResult>,
}

/// See [`RunSettings::on_result`].
pub type OnResult = Arc<dyn Fn(&Task, &str) + Send + Sync>;

/// Everything the tasks of one run share.
pub struct Scheduler {
    runtime: Arc<Runtime>,
    events: Events,
    results: ResultStore,
    locks: TaskLocks,
    state_dir: PathBuf,
    /// Whether the state directory is on local storage, where work on it
    /// runs inline (see [`Scheduler::on_state`]).
    state_is_local: bool,
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
            state_is_local: local_fs::is_local(&manifest.runtime.state_path),
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

    fn state_error(&self, message: String) {
        self.state_errors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(message);
    }
}
