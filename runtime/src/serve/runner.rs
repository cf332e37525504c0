//! Requested tasks become runs: one queue per manifest. While a run is
//! under way, what clients ask for waits; when it ends, everything that
//! waits starts as the next run, each task once however many clients
//! asked for it. Runs of one manifest never overlap, so its caps and
//! priorities hold across every client, and each run writes its own
//! events file (`run::event_files`) ending in its summary, as a detached
//! `corral run` does.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::events::{FailReason, Failure};
use crate::manifest::{Manifest, Task};
use crate::mode::Mode;
use crate::plan::Plan;
use crate::run::cancel::Cancel;
use crate::run::controls::Controls;
use crate::run::pipeline::StateError;
use crate::run::scheduler::{RunOutcome, RunSettings};
use crate::run::{event_files, pipeline};
use crate::sandbox::Runtime;
use crate::sandbox::incremental::ChangeFeed;

/// How one requested task ended: its result, or how it failed.
pub type Outcome = Result<String, Failure>;

/// How long a task that another corral process is running waits before
/// it is asked for again, at first; each retry waits twice as long, up to
/// [`BUSY_RETRY_MAX`] (each retry is a run with its own events file).
const BUSY_RETRY: Duration = Duration::from_millis(20);
const BUSY_RETRY_MAX: Duration = Duration::from_millis(640);
/// How long the last events of a run may take to be written.
const EVENTS_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Counters for `corral serve --status`.
#[derive(Default)]
pub struct Counters {
    pub runs: AtomicU64,
    pub tasks: AtomicU64,
    pub reused: AtomicU64,
}

struct Waiting {
    task: Task,
    /// The task's fingerprint: one run serves every request for it.
    fingerprint: String,
    waiters: Vec<oneshot::Sender<Outcome>>,
    /// Runs that found it held by another process.
    busy: u32,
    /// Until when it may wait for that process before it is answered so.
    give_up: Option<Instant>,
}

/// One manifest's queue.
#[derive(Default)]
struct Queue {
    /// The newest load of the manifest: its runtime settings apply.
    manifest: Option<Arc<Manifest>>,
    controls: Controls,
    waiting: Vec<Waiting>,
    /// The driver running this queue's runs, if one is.
    driver: Option<u64>,
}

pub struct Runner {
    runtime: Arc<Runtime>,
    /// What changed under a task's grants, for `corral:task/incremental`.
    changes: Option<Arc<dyn ChangeFeed>>,
    queues: Mutex<HashMap<PathBuf, Queue>>,
    pub counters: Arc<Counters>,
    /// Cancels every run when the server stops.
    pub cancel: Cancel,
    /// Runs under way, so a stopping server waits for their terminal events.
    active: AtomicU64,
    /// Names the drivers of queues.
    drivers: AtomicU64,
}

impl Runner {
    pub fn new(runtime: Arc<Runtime>, changes: Option<Arc<dyn ChangeFeed>>) -> Arc<Runner> {
        Arc::new(Runner {
            runtime,
            changes,
            queues: Mutex::default(),
            counters: Arc::default(),
            cancel: Cancel::default(),
            active: AtomicU64::new(0),
            drivers: AtomicU64::new(0),
        })
    }

    /// Whether a run is under way.
    pub fn busy(&self) -> bool {
        self.active.load(Ordering::Acquire) > 0
    }

    /// Queues `tasks` (bound already) for the next run of `manifest`; one
    /// receiver per task, in order.
    pub fn submit(
        self: &Arc<Self>,
        manifest: Arc<Manifest>,
        controls: Controls,
        tasks: Vec<Task>,
    ) -> Vec<oneshot::Receiver<Outcome>> {
        let mut receivers = Vec::with_capacity(tasks.len());
        let mut queues = lock(&self.queues);
        let queue = queues.entry(manifest.path.clone()).or_default();
        queue.manifest = Some(Arc::clone(&manifest));
        queue.controls = controls;
        for task in tasks {
            let (sender, receiver) = oneshot::channel();
            receivers.push(receiver);
            let fingerprint = task.fingerprint();
            match queue
                .waiting
                .iter_mut()
                .find(|waiting| waiting.fingerprint == fingerprint)
            {
                Some(waiting) => waiting.waiters.push(sender),
                None => queue.waiting.push(Waiting {
                    task,
                    fingerprint,
                    waiters: vec![sender],
                    busy: 0,
                    give_up: None,
                }),
            }
        }
        if queue.driver.is_none() {
            let driver = self.drivers.fetch_add(1, Ordering::Relaxed);
            queue.driver = Some(driver);
            self.active.fetch_add(1, Ordering::AcqRel);
            let runner = Arc::clone(self);
            let path = manifest.path.clone();
            tokio::spawn(async move { runner.drive(path, driver).await });
        }
        receivers
    }

    /// Runs what waits for one manifest until nothing does.
    async fn drive(self: Arc<Self>, path: PathBuf, driver: u64) {
        // However this ends (a panic included), the queue is let go.
        let _active = Active {
            runner: &self,
            path: &path,
            driver,
        };
        loop {
            let (manifest, controls, batch) = {
                let mut queues = lock(&self.queues);
                let Some(queue) = queues.get_mut(&path) else {
                    break;
                };
                if queue.waiting.is_empty() || self.cancel.is_cancelled() {
                    // In the same hold of the lock as the look: a request
                    // queued after it finds no driver and starts one.
                    for waiting in queue.waiting.drain(..) {
                        answer_all(waiting.waiters, &cancelled());
                    }
                    queues.remove(&path);
                    break;
                }
                let Some(manifest) = queue.manifest.clone() else {
                    break;
                };
                (
                    manifest,
                    queue.controls.clone(),
                    std::mem::take(&mut queue.waiting),
                )
            };
            let (busy, reruns) = self.run_batch(&manifest, controls, batch).await;
            if !busy.is_empty() {
                let wait = busy
                    .iter()
                    .map(|waiting| BUSY_RETRY * 2u32.saturating_pow(waiting.busy.min(8)))
                    .min()
                    .unwrap_or(BUSY_RETRY)
                    .min(BUSY_RETRY_MAX);
                tokio::time::sleep(wait).await;
            }
            let mut queues = lock(&self.queues);
            if let Some(queue) = queues.get_mut(&path) {
                queue.waiting.extend(busy);
                queue.waiting.extend(reruns);
            }
        }
    }

    /// One run of `batch`; returns the tasks another process was running
    /// (skipped as `running`), to ask for again, and those another run
    /// asked to see again while this one held them (see `run::task_lock`).
    async fn run_batch(
        &self,
        manifest: &Manifest,
        controls: Controls,
        mut batch: Vec<Waiting>,
    ) -> (Vec<Waiting>, Vec<Waiting>) {
        let started = Instant::now();
        let opened = event_files::open_run_events(manifest, started);
        let (events, writer) = match opened {
            Ok(opened) => opened,
            Err(message) => {
                let failure = Failure::new(
                    FailReason::Error,
                    format!("cannot write the run's events: {message}"),
                );
                for waiting in batch {
                    answer_all(waiting.waiters, &Err(failure.clone()));
                }
                return (Vec::new(), Vec::new());
            }
        };
        let plan = Plan {
            start: batch.iter().map(|waiting| waiting.task.clone()).collect(),
            skip: Vec::new(),
        };
        // Whoever waits for a task is answered once its result is stored,
        // not after the rest of the run; what is left is answered below.
        let waiters: Arc<Mutex<HashMap<TaskKey, Vec<oneshot::Sender<Outcome>>>>> = Arc::default();
        for waiting in &mut batch {
            lock(&waiters)
                .entry(key_of(&waiting.task))
                .or_default()
                .append(&mut waiting.waiters);
        }
        let early = Arc::clone(&waiters);
        let settings = RunSettings {
            mode: Mode::On,
            max_concurrency: manifest.runtime.max_concurrency,
            controls,
            cancel: self.cancel.clone(),
            changes: self.changes.clone(),
            on_result: Some(Arc::new(move |task: &Task, result: &str| {
                if let Some(waiters) = lock(&early).remove(&key_of(task)) {
                    answer_all(waiters, &Ok(result.to_owned()));
                }
            })),
        };
        self.counters.runs.fetch_add(1, Ordering::Relaxed);
        let outcome = pipeline::execute(manifest, plan, &self.runtime, settings, &events).await;
        drop(events);
        for waiting in &mut batch {
            waiting.waiters = lock(&waiters)
                .remove(&key_of(&waiting.task))
                .unwrap_or_default();
        }
        // The last events are flushed, and old event files pruned, while
        // the answers go out; the batch ends once both are done.
        let state_dir = manifest.runtime.state_path.clone();
        let flushed = tokio::task::spawn_blocking(move || {
            let written = writer.finish(EVENTS_FLUSH_TIMEOUT);
            let pruned = event_files::prune_runs_in(&state_dir);
            if let Err(error) = pruned {
                tracing::warn!(%error, "cannot prune old event files");
            }
            written
        });
        let answered = self.answer_batch(outcome, batch);
        if let Ok(Err(error)) | Err(error) = flushed.await.map_err(std::io::Error::other) {
            tracing::warn!(%error, "cannot write a run's last events");
        }
        answered
    }

    /// Answers the waiters of `batch` from the run's `outcome`; returns
    /// what [`Runner::run_batch`] does.
    fn answer_batch(
        &self,
        outcome: Result<RunOutcome, StateError>,
        batch: Vec<Waiting>,
    ) -> (Vec<Waiting>, Vec<Waiting>) {
        let (mut records, rerun_ids) = match outcome {
            Ok(outcome) => (outcome.tasks, outcome.reruns),
            Err(error) => {
                let failure = Failure::new(FailReason::Error, error.to_string());
                for waiting in batch {
                    answer_all(waiting.waiters, &Err(failure.clone()));
                }
                return (Vec::new(), Vec::new());
            }
        };
        self.counters
            .tasks
            .fetch_add(records.len() as u64, Ordering::Relaxed);
        let mut busy = Vec::new();
        // One more run, answering nobody: its result is stored.
        let reruns = batch
            .iter()
            .filter(|waiting| rerun_ids.iter().any(|id| **id == *waiting.task.id))
            .map(|waiting| Waiting {
                task: waiting.task.clone(),
                fingerprint: waiting.fingerprint.clone(),
                waiters: Vec::new(),
                busy: 0,
                give_up: None,
            })
            .collect();
        for mut waiting in batch {
            let task = &waiting.task;
            let found = records
                .iter()
                .position(|record| record.id == *task.id && record.repo == task.repo);
            match found {
                Some(index) => {
                    let record = records.swap_remove(index);
                    answer_all(waiting.waiters, &record.answer);
                }
                // Never started: cancelled, or run by another process now.
                None if self.cancel.is_cancelled() => answer_all(waiting.waiters, &cancelled()),
                // Never started: another process runs it. Asked for again,
                // until about as long as that run may take has passed.
                None => {
                    let give_up = *waiting
                        .give_up
                        .get_or_insert_with(|| Instant::now() + task.timeout() * 2);
                    if Instant::now() >= give_up {
                        let failure = Failure::new(
                            FailReason::Error,
                            format!(
                                "another corral process kept running {} past its timeout",
                                task.id
                            ),
                        );
                        answer_all(waiting.waiters, &Err(failure));
                    } else {
                        waiting.busy += 1;
                        busy.push(waiting);
                    }
                }
            }
        }
        (busy, reruns)
    }
}

/// Lets a manifest's queue go when its driver ends. A driver that ends by
/// panicking leaves its queue behind: whatever waits there is told so, and
/// the next request starts a new driver.
struct Active<'a> {
    runner: &'a Runner,
    path: &'a PathBuf,
    driver: u64,
}

impl Drop for Active<'_> {
    fn drop(&mut self) {
        let mut queues = lock(&self.runner.queues);
        if queues
            .get(self.path)
            .is_some_and(|queue| queue.driver == Some(self.driver))
            && let Some(queue) = queues.remove(self.path)
        {
            let failure = Failure::new(FailReason::Error, "the server's run of it failed");
            for waiting in queue.waiting {
                answer_all(waiting.waiters, &Err(failure.clone()));
            }
        }
        self.runner.active.fetch_sub(1, Ordering::AcqRel);
    }
}

fn cancelled() -> Outcome {
    Err(Failure::new(
        FailReason::Cancelled,
        "the server is stopping",
    ))
}

/// A task of a batch: its id and repository, as its record names it.
type TaskKey = (String, Option<PathBuf>);

fn key_of(task: &Task) -> TaskKey {
    (task.id.to_string(), task.repo.clone())
}

fn answer_all(waiters: Vec<oneshot::Sender<Outcome>>, outcome: &Outcome) {
    for waiter in waiters {
        // A client that stopped waiting is no error.
        let _ = waiter.send(outcome.clone());
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
