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

use crate::events::{EventFormat, EventTarget, Events, FailReason, Failure, RunTags};
use crate::manifest::{Manifest, Task};
use crate::mode::Mode;
use crate::plan::Plan;
use crate::run::cancel::Cancel;
use crate::run::controls::Controls;
use crate::run::scheduler::RunSettings;
use crate::run::{event_files, pipeline};
use crate::sandbox::Runtime;

/// How one requested task ended: its result, or how it failed.
pub type Outcome = Result<String, Failure>;

/// How long a task that another corral process is running waits before
/// it is asked for again.
const BUSY_RETRY: Duration = Duration::from_millis(20);
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
    waiters: Vec<oneshot::Sender<Outcome>>,
}

/// One manifest's queue.
#[derive(Default)]
struct Queue {
    /// The newest load of the manifest: its runtime settings apply.
    manifest: Option<Arc<Manifest>>,
    controls: Controls,
    waiting: Vec<Waiting>,
    running: bool,
}

pub struct Runner {
    runtime: Arc<Runtime>,
    queues: Mutex<HashMap<PathBuf, Queue>>,
    pub counters: Arc<Counters>,
    /// Cancels every run when the server stops.
    pub cancel: Cancel,
    /// Runs under way, so a stopping server waits for their terminal events.
    active: AtomicU64,
}

impl Runner {
    pub fn new(runtime: Arc<Runtime>) -> Arc<Runner> {
        Arc::new(Runner {
            runtime,
            queues: Mutex::default(),
            counters: Arc::default(),
            cancel: Cancel::default(),
            active: AtomicU64::new(0),
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
                .find(|waiting| waiting.task.fingerprint() == fingerprint)
            {
                Some(waiting) => waiting.waiters.push(sender),
                None => queue.waiting.push(Waiting {
                    task,
                    waiters: vec![sender],
                }),
            }
        }
        if !queue.running {
            queue.running = true;
            self.active.fetch_add(1, Ordering::AcqRel);
            let runner = Arc::clone(self);
            let path = manifest.path.clone();
            tokio::spawn(async move { runner.drive(path).await });
        }
        receivers
    }

    /// Runs what waits for one manifest until nothing does.
    async fn drive(self: Arc<Self>, path: PathBuf) {
        loop {
            let (manifest, controls, batch) = {
                let mut queues = lock(&self.queues);
                let Some(queue) = queues.get_mut(&path) else {
                    break;
                };
                if queue.waiting.is_empty() || self.cancel.is_cancelled() {
                    // Whatever still waits when the server stops is told so.
                    for waiting in queue.waiting.drain(..) {
                        answer_all(waiting.waiters, &cancelled());
                    }
                    queue.running = false;
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
            let busy = self.run_batch(&manifest, controls, batch).await;
            if !busy.is_empty() {
                tokio::time::sleep(BUSY_RETRY).await;
                let mut queues = lock(&self.queues);
                if let Some(queue) = queues.get_mut(&path) {
                    queue.waiting.extend(busy);
                }
            }
        }
        self.active.fetch_sub(1, Ordering::AcqRel);
    }

    /// One run of `batch`; returns the tasks another process was running
    /// (skipped as `running`), to ask for again.
    async fn run_batch(
        &self,
        manifest: &Manifest,
        controls: Controls,
        batch: Vec<Waiting>,
    ) -> Vec<Waiting> {
        let started = Instant::now();
        let opened = pipeline::open_state_dir(manifest)
            .map_err(|error| error.to_string())
            .and_then(|state| {
                event_files::new_run_events_file(&state).map_err(|error| error.to_string())
            })
            .and_then(|path| {
                let tags = RunTags {
                    phase: manifest.runtime.phase.to_string(),
                    mode: Mode::On,
                };
                Events::open(
                    &EventTarget::File(path),
                    EventFormat::Segment,
                    tags,
                    started,
                    None,
                )
                .map_err(|error| error.to_string())
            });
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
                return Vec::new();
            }
        };
        let plan = Plan {
            start: batch.iter().map(|waiting| waiting.task.clone()).collect(),
            skip: Vec::new(),
        };
        let settings = RunSettings {
            mode: Mode::On,
            max_concurrency: manifest.runtime.max_concurrency,
            controls,
            cancel: self.cancel.clone(),
        };
        self.counters.runs.fetch_add(1, Ordering::Relaxed);
        let outcome = pipeline::execute(manifest, plan, &self.runtime, settings, &events).await;
        drop(events);
        let written =
            tokio::task::spawn_blocking(move || writer.finish(EVENTS_FLUSH_TIMEOUT)).await;
        if let Ok(Err(error)) | Err(error) = written.map_err(std::io::Error::other) {
            tracing::warn!(%error, "cannot write a run's last events");
        }
        let mut records = match outcome {
            Ok(outcome) => outcome.tasks,
            Err(error) => {
                let failure = Failure::new(FailReason::Error, error.to_string());
                for waiting in batch {
                    answer_all(waiting.waiters, &Err(failure.clone()));
                }
                return Vec::new();
            }
        };
        self.counters
            .tasks
            .fetch_add(records.len() as u64, Ordering::Relaxed);
        let mut busy = Vec::new();
        for waiting in batch {
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
                None => busy.push(waiting),
            }
        }
        busy
    }
}

fn cancelled() -> Outcome {
    Err(Failure::new(
        FailReason::Cancelled,
        "the server is stopping",
    ))
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
