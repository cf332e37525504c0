//! One run of a plan from start to summary, shared by `corral run`,
//! `corral bench`, `corral rebaseline` and the server: the state
//! directories made, the scheduler driven to the end (or until `cancel`),
//! and the closing summary emitted. Callers own the executor, the signals
//! and what the outcome means to them (an exit code, an answer).

use std::sync::Arc;

use crate::events::{Event, Events};
use crate::fs::private_dir::PrivateDir;
use crate::manifest::Manifest;
use crate::plan::Plan;
use crate::run::scheduler::{RunOutcome, RunSettings, Scheduler};
use crate::sandbox::Runtime;

/// corral's own state could not be made or opened (exit 4).
#[derive(Debug, thiserror::Error)]
#[error("{context}: {source}")]
pub struct StateError {
    pub context: String,
    #[source]
    pub source: std::io::Error,
}

/// Runs `plan` to the end or until `settings.cancel` fires, then emits
/// the summary, its `wall_ms` measured from the start of `events`.
pub async fn execute(
    manifest: &Manifest,
    plan: Plan,
    runtime: &Arc<Runtime>,
    settings: RunSettings,
    events: &Events,
) -> Result<RunOutcome, StateError> {
    prepare_state_dirs(manifest)?;
    let state = open_state_dir(manifest)?;
    let scheduler = Scheduler::new(
        Arc::clone(runtime),
        manifest,
        &state,
        events.clone(),
        settings,
    )
    .map_err(|source| StateError {
        context: "cannot open the state directory".into(),
        source,
    })?;
    let mut outcome = scheduler.run(plan).await;
    outcome.summary.wall_ms = events.since_start_ms();
    events.emit(Event::Summary(outcome.summary.clone()));
    Ok(outcome)
}

/// The executor for one run of `tasks` tasks: one worker per guest that
/// can run at once, up to the cores (a guest occupies its worker while it
/// runs, and idle workers only cost start-up); one guest at a time needs
/// no second thread, so the current-thread executor skips a worker pool.
pub fn executor(max_concurrency: u32, tasks: usize) -> std::io::Result<tokio::runtime::Runtime> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = cores.min(max_concurrency as usize).min(tasks).max(1);
    let mut builder = if workers == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(workers);
        builder
    };
    builder.enable_time().enable_io().build()
}

/// The manifest's state directory, created on first use, private to the
/// user and never a symbolic link.
pub fn open_state_dir(manifest: &Manifest) -> Result<PrivateDir, StateError> {
    PrivateDir::create(&manifest.runtime.state_path).map_err(|source| StateError {
        context: "cannot open the state directory".into(),
        source,
    })
}

/// Creates the `rw` grants that live inside `state_dir`: corral's own state,
/// made on first use and readable only by the user.
fn prepare_state_dirs(manifest: &Manifest) -> Result<(), StateError> {
    for task in &manifest.tasks {
        for dir in task.dirs.iter().filter(|dir| manifest.is_state_grant(dir)) {
            PrivateDir::create(&dir.host_path).map_err(|source| StateError {
                context: format!(
                    "cannot create state directory {} for task {}",
                    dir.host_path.display(),
                    task.id
                ),
                source,
            })?;
        }
    }
    Ok(())
}
