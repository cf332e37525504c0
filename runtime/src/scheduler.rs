//! The run queue: priorities, global and per-class caps, retries, and one
//! terminal event for every task that starts.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;
use tokio::task::JoinSet;

use crate::bindings::TaskPre;
use crate::engine::Runtime;
use crate::events::{Event, Events, Summary};
use crate::host::TaskState;
use crate::manifest::{Manifest, Task};
use crate::outcome::{FailReason, Failure};
use crate::plan::Plan;
use crate::policy::Grant;
use crate::results::ResultStore;
use crate::sandbox::{self, Attempt};

/// First retry waits this long; each further retry doubles it.
const RETRY_BACKOFF: Duration = Duration::from_millis(50);
const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(1);

type Loaded = Result<Arc<TaskPre<TaskState>>, Failure>;

/// Everything the tasks of one run share.
pub struct Scheduler {
    runtime: Arc<Runtime>,
    events: Events,
    results: ResultStore,
    max_concurrency: usize,
    class_caps: HashMap<String, usize>,
    /// Each distinct component is loaded once, by whichever task needs it
    /// first; the others wait for the same result.
    components: HashMap<(PathBuf, Option<String>), Arc<OnceCell<Loaded>>>,
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
        max_concurrency: u32,
    ) -> Self {
        Scheduler {
            runtime,
            events,
            results: ResultStore::new(&manifest.runtime.state_path),
            max_concurrency: max_concurrency as usize,
            class_caps: manifest
                .classes
                .iter()
                .map(|(name, cap)| (name.clone(), *cap as usize))
                .collect(),
            components: HashMap::new(),
        }
    }

    /// Runs the plan to the end and returns the summary counts.
    pub async fn run(mut self, plan: Plan) -> Summary {
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
        self.events.emit(Event::QueueInit {
            ms: self.events.since_start_ms(),
            tasks: plan.start.len(),
        });
        let this = Arc::new(self);
        this.prefetch_components();

        let mut queue = plan.start;
        let mut running = JoinSet::new();
        let mut in_flight: HashMap<tokio::task::Id, Task> = HashMap::new();
        let mut class_running: HashMap<String, usize> = HashMap::new();
        loop {
            // Start, in priority order, every queued task whose caps allow.
            let mut index = 0;
            while in_flight.len() < this.max_concurrency && index < queue.len() {
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
                let handle = running.spawn(Arc::clone(&this).run_task(task.clone()));
                in_flight.insert(handle.id(), task);
            }
            let Some(joined) = running.join_next_with_id().await else {
                break;
            };
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
                    (
                        error.id(),
                        TaskEnd {
                            ms: 0.0,
                            failure: Some(FailReason::Trap),
                        },
                    )
                }
            };
            let task = in_flight.remove(&id).expect("every spawned task is in flight");
            if let Some(class) = &task.class {
                *class_running.entry(class.clone()).or_default() -= 1;
            }
            summary.total += 1;
            summary.accumulated_ms += end.ms;
            match end.failure {
                None => summary.done += 1,
                Some(FailReason::Timeout) => summary.timeout += 1,
                Some(_) => summary.fail += 1,
            }
        }
        summary
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

    async fn component(&self, path: &std::path::Path, pin: Option<&str>) -> Loaded {
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

    /// Runs every attempt of one task and emits its start and its one end.
    async fn run_task(self: Arc<Self>, task: Task) -> TaskEnd {
        let started = Instant::now();
        self.events.emit(Event::TaskStart {
            label: task.label.clone(),
            ms: self.events.since_start_ms(),
        });
        let component = self
            .component(&task.component_path, task.sha256.as_deref())
            .await;
        let mut attempt = 1;
        let outcome = loop {
            let result = match &component {
                Ok(component) => {
                    let grants = task
                        .dirs
                        .iter()
                        .map(|dir| Grant {
                            host: &dir.host_path,
                            guest: &dir.guest,
                            access: dir.mode,
                        })
                        .collect();
                    let attempt = Attempt {
                        task: &task,
                        number: attempt,
                        grants,
                        events: &self.events,
                    };
                    sandbox::run_attempt(&self.runtime, component, attempt).await
                }
                Err(failure) => Err(failure.clone()),
            };
            match result {
                Err(failure) if failure.reason.is_retryable() && attempt <= task.retries => {
                    tracing::info!(task = %task.id, attempt, %failure, "retrying");
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
                result => break result,
            }
        };
        let outcome = match outcome {
            Ok(completed) => self
                .store_result(&task, completed.result)
                .await
                .map(|()| completed.fuel_consumed),
            Err(failure) => Err(failure),
        };
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let label = task.label.clone();
        match outcome {
            Ok(fuel) => {
                self.events.emit(Event::TaskDone {
                    label,
                    ms,
                    attempts: attempt,
                    fuel,
                });
                TaskEnd { ms, failure: None }
            }
            Err(failure) => {
                self.events.emit(Event::TaskFail {
                    label,
                    ms,
                    attempts: attempt,
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

    async fn store_result(&self, task: &Task, result: String) -> Result<(), Failure> {
        let results = self.results.clone();
        let id = task.id.clone();
        tokio::task::spawn_blocking(move || results.write(&id, &result))
            .await
            .map_err(std::io::Error::other)
            .and_then(|written| written)
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
