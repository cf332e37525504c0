//! The components of one run: each distinct component (path and pin) is
//! loaded once, by whichever task needs it first, while the others wait for
//! the same result. All are started at once so a task rarely waits for
//! compilation when its turn comes. A first compilation can take seconds
//! (an 18 MB Python component: ~20 s): the tasks that wait for it are told
//! in a log event, and the watchdog counts it as progress.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::OnceCell;

use crate::events::{Event, Events, FailReason, Failure, LogLevel};
use crate::manifest::Task;
use crate::sandbox::{Compiling, Linked, Runtime};

type Loaded = Result<Linked, Failure>;
type Key = (PathBuf, Option<String>);

/// One component and the labels of the tasks that run it.
#[derive(Default)]
struct Entry {
    cell: Arc<OnceCell<Loaded>>,
    labels: Vec<String>,
}

#[derive(Default)]
pub struct Components {
    entries: HashMap<Key, Entry>,
    /// Loads under way, so the watchdog does not take a long first
    /// compilation for a stalled host.
    loading: Arc<AtomicUsize>,
    /// Where compile notices go while the run lasts. Loads that outlive
    /// the run (a task skipped, the run cancelled) must not keep the event
    /// writer open, so they reach it only through here.
    notices: Arc<Mutex<Option<Events>>>,
}

fn key(task: &Task) -> Key {
    (
        task.component_path.clone(),
        task.sha256.as_ref().map(ToString::to_string),
    )
}

impl Components {
    /// Registers a task's component before the run starts.
    pub fn expect(&mut self, task: &Task) {
        let entry = self.entries.entry(key(task)).or_default();
        entry.labels.push(task.label.to_string());
    }

    /// Starts loading every registered component in the background;
    /// compile notices go to `events` until [`Components::close`].
    pub fn prefetch(&self, runtime: &Arc<Runtime>, events: &Events) {
        *lock(&self.notices) = Some(events.clone());
        for key in self.entries.keys() {
            tokio::spawn(self.loader(key, runtime));
        }
    }

    /// The task's loaded component, waiting for it if it is being loaded.
    pub async fn get(&self, runtime: &Arc<Runtime>, task: &Task) -> Loaded {
        self.loader(&key(task), runtime).await
    }

    /// Ends the notices: the run is over.
    pub fn close(&self) {
        lock(&self.notices).take();
    }

    /// Whether a component is being read or compiled right now.
    pub fn loading(&self) -> bool {
        self.loading.load(Ordering::Acquire) > 0
    }

    fn loader(&self, key: &Key, runtime: &Arc<Runtime>) -> impl Future<Output = Loaded> + use<> {
        let entry = &self.entries[key];
        let cell = Arc::clone(&entry.cell);
        let labels = entry.labels.clone();
        let (runtime, loading) = (Arc::clone(runtime), Arc::clone(&self.loading));
        let notices = Arc::clone(&self.notices);
        let (path, pin) = key.clone();
        async move {
            let init = || async {
                loading.fetch_add(1, Ordering::AcqRel);
                let shown = path.display().to_string();
                let announce = move |compiling: Compiling| {
                    let Compiling::Started {
                        component_bytes: bytes,
                    } = compiling
                    else {
                        return;
                    };
                    let Some(events) = lock(&notices).clone() else {
                        return;
                    };
                    for label in &labels {
                        events.emit(Event::Log {
                            label: label.clone(),
                            level: LogLevel::Info,
                            message: format!(
                                "compiling its component ({:.1} MB) for the first time; later runs load it from the cache",
                                bytes as f64 / 1e6
                            ),
                        });
                    }
                };
                let loaded = tokio::task::spawn_blocking(move || {
                    runtime.load(&path, pin.as_deref(), &announce)
                })
                .await
                .unwrap_or_else(|error| {
                    Err(Failure::new(
                        FailReason::Load,
                        format!("loading {shown} failed: {error}"),
                    ))
                });
                loading.fetch_sub(1, Ordering::AcqRel);
                loaded
            };
            cell.get_or_init(init).await.clone()
        }
    }
}

/// The notices slot; a panic elsewhere cannot poison a plain `Option`.
fn lock(notices: &Mutex<Option<Events>>) -> MutexGuard<'_, Option<Events>> {
    notices
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
