//! What the server (or a client with no server) answers to a request for
//! results: the manifest loaded anew (an edit counts at the next request),
//! the same checks as `corral run` (flags, files, pins, `--locked`,
//! `require_ack`, the watchdog), each task's result reused when nothing it
//! can see changed, and the rest run through the runner.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::events::{
    Event, EventWriter, Events, FailReason, Failure, LogLevel, SkipCause, Summary,
};
use crate::manifest::{Manifest, ManifestError, Task};
use crate::plan::{Plan, Skip};
use crate::review::policy::{self, Policy, PolicyError};
use crate::run::controls::Controls;
use crate::run::results::ResultStore;
use crate::run::{event_files, watchdog};
use crate::sandbox::Runtime;
use crate::sandbox::incremental::ChangeFeed;
use crate::sandbox::warm::FileStamp;
use crate::serve::changes::WatchedChanges;
use crate::serve::protocol::{Answer, State, TaskAnswer, Verdict};
use crate::serve::reuse::{Lookup, Reuse, Ticket};
use crate::serve::runner::{Counters, Outcome, Runner};

/// A request for results, as parsed.
#[derive(Clone, Debug)]
pub struct ResultsRequest {
    pub manifest: PathBuf,
    pub cwd: PathBuf,
    pub ids: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub policy: Policy,
}

pub struct Answerer {
    runner: Arc<Runner>,
    /// `None` where nothing is watched (a client that runs in-process).
    reuse: Option<Arc<Mutex<Reuse>>>,
    /// Per manifest, the events of answers that started no run (reused
    /// results, grants that cannot be watched), in their own events file
    /// that ends, when the server stops, with a summary counting them.
    notes: Mutex<HashMap<PathBuf, Notes>>,
    /// Manifests as parsed, each with the stamp of the file it was read
    /// from: an edit changes the stamp, and the next request reads it.
    manifests: Mutex<HashMap<PathBuf, (FileStamp, Arc<Manifest>)>>,
}

/// Manifests kept parsed.
const MAX_MANIFESTS: usize = 16;

/// One manifest's events of answers that started no run.
struct Notes {
    events: Events,
    writer: EventWriter,
    reused: u32,
}

/// What becomes of one started task.
enum Pending {
    Reused(String),
    /// Submitted to the runner, in order; the ticket keeps its result for
    /// reuse.
    Running(Option<Ticket>),
}

impl Answerer {
    /// With `watch`, results of tasks that opted in are reused while
    /// their files are unchanged.
    /// Without inotify (its per-user instances used up), nothing is
    /// reused: every task runs, and a warning says why.
    pub fn new(runtime: Arc<Runtime>, watch: bool) -> std::io::Result<Arc<Answerer>> {
        let reuse = match watch.then(Reuse::new) {
            Some(Ok(reuse)) => Some(Arc::new(Mutex::new(reuse))),
            Some(Err(error)) => {
                tracing::warn!(%error, "cannot watch files: no result is reused, every task runs");
                None
            }
            None => None,
        };
        let changes = reuse
            .as_ref()
            .map(|reuse| Arc::new(WatchedChanges::new(Arc::clone(reuse))) as Arc<dyn ChangeFeed>);
        Ok(Arc::new(Answerer {
            runner: Runner::new(runtime, changes),
            reuse,
            notes: Mutex::default(),
            manifests: Mutex::default(),
        }))
    }

    pub fn counters(&self) -> &Counters {
        &self.runner.counters
    }

    /// Grant sets watched now (off the executor's threads: a walk may
    /// hold the watches).
    pub async fn watched(&self) -> usize {
        let Some(reuse) = &self.reuse else {
            return 0;
        };
        let reuse = Arc::clone(reuse);
        tokio::task::spawn_blocking(move || lock(&reuse).watched())
            .await
            .unwrap_or(0)
    }

    /// Whether a run is under way.
    pub fn busy(&self) -> bool {
        self.runner.busy()
    }

    /// Cancels the runs under way (each started task still ends in one
    /// terminal event), waits for them and closes the note files.
    pub async fn shutdown(&self) {
        self.runner.cancel.cancel("the server is stopping");
        while self.runner.busy() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let notes: Vec<Notes> = lock(&self.notes).drain().map(|(_, notes)| notes).collect();
        for notes in notes {
            notes.events.emit(Event::Summary(Summary {
                skipped: notes.reused,
                reused: notes.reused,
                wall_ms: notes.events.since_start_ms(),
                ..Summary::default()
            }));
            drop(notes.events);
            let writer = notes.writer;
            let _ =
                tokio::task::spawn_blocking(move || writer.finish(Duration::from_secs(2))).await;
        }
    }

    pub async fn results(&self, request: ResultsRequest) -> Answer {
        match self.try_results(request).await {
            Ok(answer) => answer,
            Err((verdict, message)) => Answer::Error { verdict, message },
        }
    }

    /// The manifest and plan of a request, checked as `corral run` checks
    /// them (flags, files, pins and policy).
    fn prepare(
        &self,
        request: &ResultsRequest,
    ) -> Result<(Arc<Manifest>, Plan, Controls), (Verdict, String)> {
        let usage = |error: &dyn std::fmt::Display| (Verdict::Usage, error.to_string());
        let manifest = self
            .manifest(&request.manifest)
            .map_err(|error| usage(&error))?;
        let env = |name: &str| request.env.get(name).cloned();
        let controls = Controls::from_env(env).map_err(|error| usage(&error))?;
        let plan = Plan::new(&manifest, &request.ids, env)
            .map_err(|error| usage(&error))?
            .bind_context(Some(&request.cwd));
        manifest
            .check_files(&plan.start)
            .map_err(|error| usage(&error))?;
        policy::enforce(&manifest, &plan.start, request.policy).map_err(|error| match error {
            PolicyError::Refused(message) => (Verdict::Refused, message),
            PolicyError::Unreadable(error) => (Verdict::Internal, error.to_string()),
        })?;
        Ok((manifest, plan, controls))
    }

    /// What the tasks of `request` read, as watch generations (`None`
    /// where it cannot be watched), watched from now on: a follower
    /// compares them to tell whether anything it shows may have changed.
    pub async fn read_generations(&self, request: &ResultsRequest) -> Vec<Option<u64>> {
        let (Ok((_, plan, _)), Some(reuse)) = (self.prepare(request), &self.reuse) else {
            return Vec::new();
        };
        let reuse = Arc::clone(reuse);
        tokio::task::spawn_blocking(move || {
            let mut reuse = lock(&reuse);
            plan.start
                .iter()
                .map(|task| reuse.read_generation(task))
                .collect()
        })
        .await
        .unwrap_or_default()
    }

    /// A descriptor that becomes readable when a file event is queued
    /// (called once, at start-up, before any walk).
    pub fn event_fd(&self) -> Option<std::io::Result<std::os::fd::OwnedFd>> {
        self.reuse.as_ref().map(|reuse| lock(reuse).event_fd())
    }

    /// Reads the queued file events (off the executor's threads).
    pub async fn drain_watches(&self) {
        if let Some(reuse) = &self.reuse {
            let reuse = Arc::clone(reuse);
            let _ = tokio::task::spawn_blocking(move || lock(&reuse).drain()).await;
        }
    }

    async fn try_results(&self, request: ResultsRequest) -> Result<Answer, (Verdict, String)> {
        let (manifest, plan, controls) = self.prepare(&request)?;
        let env = |name: &str| request.env.get(name).cloned();
        let mut answers: Vec<TaskAnswer> = plan.skip.iter().map(skipped).collect();
        let state_dir = manifest.runtime.state_path.clone();
        let off = match watchdog::tripped(&state_dir) {
            Some(sentinel) => Some(format!(
                "watchdog {}; runs are off until `corral enable`",
                sentinel.trim()
            )),
            None => (env("CORRAL_MODE").as_deref() == Some("off"))
                .then(|| "CORRAL_MODE=off: nothing runs".to_string()),
        };
        if let Some(reason) = off {
            for task in &plan.start {
                answers.push(last_known(
                    &state_dir,
                    task,
                    State::Stale,
                    Some(reason.clone()),
                ));
            }
            return Ok(Answer::Results {
                verdict: Verdict::Done,
                results: answers,
            });
        }
        let mut pending = Vec::with_capacity(plan.start.len());
        let mut to_run = Vec::new();
        for task in &plan.start {
            let lookup = self.lookup(task).await;
            match lookup {
                Some(Lookup::Reused(result)) => {
                    self.note(
                        &manifest,
                        Event::TaskSkipped {
                            label: task.label.to_string(),
                            cause: SkipCause::Unchanged,
                        },
                    );
                    self.runner.counters.reused.fetch_add(1, Ordering::Relaxed);
                    pending.push(Pending::Reused(result));
                    continue;
                }
                Some(Lookup::Unwatchable {
                    ref reason,
                    first: true,
                }) => {
                    self.note(
                        &manifest,
                        Event::Log {
                            label: task.label.to_string(),
                            level: LogLevel::Warn,
                            message: format!(
                                "its grants cannot be watched, so it runs every time: {reason}"
                            ),
                        },
                    );
                }
                _ => {}
            }
            let ticket = match lookup {
                Some(Lookup::Run(ticket)) => Some(ticket),
                _ => None,
            };
            to_run.push(task.clone());
            pending.push(Pending::Running(ticket));
        }
        // One receiver per submitted task, in the order of `Running`.
        let mut receivers = self
            .runner
            .submit(Arc::clone(&manifest), controls, to_run)
            .into_iter();
        let mut verdict = Verdict::Done;
        for (task, pending) in plan.start.iter().zip(pending) {
            let answer = match pending {
                Pending::Reused(result) => TaskAnswer {
                    id: task.id.to_string(),
                    state: State::Fresh,
                    repo: task.repo.clone(),
                    result: Some(result),
                    reason: None,
                    reused: true,
                    grants: task.implicit_grants.clone(),
                },
                Pending::Running(ticket) => {
                    let answered = match receivers.next() {
                        Some(receiver) => receiver.await.ok(),
                        None => None,
                    };
                    let outcome = answered.unwrap_or_else(|| {
                        Err(Failure::new(
                            FailReason::Error,
                            "the run ended without an answer",
                        ))
                    });
                    self.settle(ticket, &outcome).await;
                    match outcome {
                        Ok(result) => TaskAnswer {
                            id: task.id.to_string(),
                            state: State::Fresh,
                            repo: task.repo.clone(),
                            result: Some(result),
                            reason: None,
                            reused: false,
                            grants: task.implicit_grants.clone(),
                        },
                        Err(failure) => {
                            verdict = worse(
                                verdict,
                                match failure.reason {
                                    FailReason::Integrity => Verdict::Refused,
                                    _ => Verdict::TaskFailed,
                                },
                            );
                            let reason = format!("{} {}", failure.reason.as_str(), failure.message);
                            last_known(&state_dir, task, State::Failed, Some(reason))
                        }
                    }
                }
            };
            answers.push(answer);
        }
        Ok(Answer::Results {
            verdict,
            results: answers,
        })
    }

    /// The manifest at `path`, parsed again only when its file changed.
    fn manifest(&self, path: &Path) -> Result<Arc<Manifest>, ManifestError> {
        let stamp = FileStamp::of(path);
        if let Some(stamp) = stamp
            && let Some((seen, manifest)) = lock(&self.manifests).get(path)
            && *seen == stamp
        {
            return Ok(Arc::clone(manifest));
        }
        let manifest = Arc::new(Manifest::load(path)?);
        if let Some(stamp) = stamp {
            let mut manifests = lock(&self.manifests);
            if manifests.len() >= MAX_MANIFESTS {
                manifests.clear();
            }
            manifests.insert(path.to_path_buf(), (stamp, Arc::clone(&manifest)));
        }
        Ok(manifest)
    }

    async fn lookup(&self, task: &Task) -> Option<Lookup> {
        let reuse = Arc::clone(self.reuse.as_ref().filter(|_| task.reuse)?);
        // Watched already (every prompt after the first in a repository):
        // a read of the event queue and a few stats on local filesystems,
        // answered here rather than through two thread hand-offs. A walk,
        // anything that may block, or watches busy with another request go
        // to the blocking pool.
        if let Ok(mut reuse) = reuse.try_lock()
            && let Some(found) = reuse.lookup_watched(task)
        {
            return Some(found);
        }
        let task = task.clone();
        tokio::task::spawn_blocking(move || lock(&reuse).lookup(&task))
            .await
            .ok()
    }

    /// Keeps a done result for reuse, or forgets the last one: at once if
    /// nobody holds the watches, else off the executor's threads (a walk
    /// may hold them).
    async fn settle(&self, ticket: Option<Ticket>, outcome: &Outcome) {
        let (Some(ticket), Some(reuse)) = (ticket, &self.reuse) else {
            return;
        };
        let result = outcome.as_ref().ok().cloned();
        let settle = move |reuse: &mut Reuse| match result {
            Some(result) => reuse.record(ticket, result),
            None => reuse.forget(&ticket),
        };
        if let Ok(mut held) = reuse.try_lock() {
            return settle(&mut held);
        }
        let reuse = Arc::clone(reuse);
        let _ = tokio::task::spawn_blocking(move || settle(&mut lock(&reuse))).await;
    }

    /// Writes an event about an answer that started no run.
    fn note(&self, manifest: &Manifest, event: Event) {
        let mut notes = lock(&self.notes);
        if !notes.contains_key(&manifest.path) {
            let opened = event_files::open_run_events(manifest, Instant::now());
            match opened {
                Ok((events, writer)) => {
                    let opened = Notes {
                        events,
                        writer,
                        reused: 0,
                    };
                    notes.insert(manifest.path.clone(), opened);
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot open the server's events file");
                    return;
                }
            }
        }
        if let Some(notes) = notes.get_mut(&manifest.path) {
            let reused = matches!(
                event,
                Event::TaskSkipped {
                    cause: SkipCause::Unchanged,
                    ..
                }
            );
            notes.reused += u32::from(reused);
            notes.events.emit(event);
        }
    }
}

fn skipped((task, skip): &(Task, Skip)) -> TaskAnswer {
    let reason = match skip {
        Skip::Flag(flag) => format!("flag {flag} is off"),
        Skip::NoRepo => "no_repo: the directory is in no git repository".to_string(),
        Skip::Refused(why) => format!("refused: {why}"),
    };
    TaskAnswer {
        id: task.id.to_string(),
        state: State::Skipped,
        repo: None,
        result: None,
        reason: Some(reason),
        reused: false,
        grants: Vec::new(),
    }
}

/// The task's last stored result (its repository's, when bound), in a
/// state that says it is not fresh.
fn last_known(state_dir: &Path, task: &Task, state: State, reason: Option<String>) -> TaskAnswer {
    let stored = match &task.repo {
        Some(repo) => ResultStore::read_for_repo(state_dir, &task.id, repo),
        None => ResultStore::read(state_dir, &task.id, false),
    };
    TaskAnswer {
        id: task.id.to_string(),
        state,
        repo: task.repo.clone(),
        result: stored.ok().flatten().map(|stored| stored.result),
        reason,
        reused: false,
        grants: task.implicit_grants.clone(),
    }
}

/// The verdict of a request is its worst task's.
fn worse(a: Verdict, b: Verdict) -> Verdict {
    let rank = |verdict| match verdict {
        Verdict::Done => 0,
        Verdict::TaskFailed => 1,
        Verdict::Refused => 2,
        Verdict::Usage => 3,
        Verdict::Internal => 4,
    };
    if rank(b) > rank(a) { b } else { a }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
