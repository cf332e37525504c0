//! The `corral:task/incremental` interface: a cursor taken before the task
//! starts and the paths that changed under its grants since an earlier
//! cursor, so a task can redo only what a change calls for.
//!
//! The changes come from a [`ChangeFeed`], which the server backs with its
//! file watches; a run without a server has none, and every feed is then
//! unknown. Paths are turned from host paths into the guest's own through
//! the task's grants; one that cannot be named makes the feed unknown, so
//! a task is never told less than what changed.

use std::path::Path;
use std::sync::Arc;

use crate::manifest::Task;
use crate::sandbox::bindings::corral::task::incremental::{self, Changes};
use crate::sandbox::files::FUEL_PER_STAT;
use crate::sandbox::host::StoreData;

/// Where a task's private state directory appears in the guest.
pub const STATE_GUEST_PATH: &str = "/.corral/state";

/// The cursor of a run that no feed backs: every later feed is unknown.
const NO_FEED: &str = "none";

/// What changed under a task's grants, in host paths.
pub enum HostChanges {
    Unknown(String),
    Known(Vec<std::path::PathBuf>),
}

/// A source of change feeds (the server's file watches).
pub trait ChangeFeed: Send + Sync {
    /// A cursor for everything `task` can see, taken now. Blocking.
    fn cursor(&self, task: &Task) -> String;
    /// What changed under `task`'s grants since `cursor`. Blocking.
    fn changes_since(&self, task: &Task, cursor: &str) -> HostChanges;
    /// [`ChangeFeed::cursor`] if it is had at once, without blocking;
    /// `None` sends the caller to the blocking pool.
    fn cursor_at_once(&self, task: &Task) -> Option<String>;
    /// [`ChangeFeed::changes_since`] if it is had at once, as above.
    fn changes_at_once(&self, task: &Task, cursor: &str) -> Option<HostChanges>;
}

/// What an attempt of a task that imports the interface is given.
pub struct Setup<'a> {
    /// The host directory preopened at [`STATE_GUEST_PATH`].
    pub state_dir: &'a Path,
    pub feed: Option<Arc<dyn ChangeFeed>>,
}

/// One attempt's side of the interface.
pub struct Incremental {
    cursor: String,
    feed: Option<(Arc<dyn ChangeFeed>, Arc<Task>)>,
}

impl Incremental {
    /// [`Incremental::start`] with a feed, if its cursor is had at once.
    pub fn start_at_once(feed: &Arc<dyn ChangeFeed>, task: &Task) -> Option<Incremental> {
        Some(Incremental {
            cursor: feed.cursor_at_once(task)?,
            feed: Some((Arc::clone(feed), Arc::new(task.clone()))),
        })
    }

    /// Takes the cursor for `task` now (blocking: the feed may start
    /// watching its grants).
    pub fn start(feed: Option<Arc<dyn ChangeFeed>>, task: &Task) -> Incremental {
        match feed {
            Some(feed) => Incremental {
                cursor: feed.cursor(task),
                feed: Some((feed, Arc::new(task.clone()))),
            },
            None => Incremental {
                cursor: NO_FEED.into(),
                feed: None,
            },
        }
    }
}

impl incremental::Host for StoreData {
    fn state_dir(&mut self) -> String {
        STATE_GUEST_PATH.into()
    }

    fn cursor(&mut self) -> String {
        self.incremental
            .as_ref()
            .map_or_else(|| NO_FEED.into(), |incremental| incremental.cursor.clone())
    }

    async fn changes_since(&mut self, cursor: String) -> Changes {
        let Some((feed, task)) = self
            .incremental
            .as_ref()
            .and_then(|incremental| incremental.feed.clone())
        else {
            return Changes::Unknown("changes are known only to a running `corral serve`".into());
        };
        let found = match feed.changes_at_once(&task, &cursor) {
            Some(changes) => guest_changes(&task, changes),
            None => tokio::task::spawn_blocking(move || {
                let changes = feed.changes_since(&task, &cursor);
                guest_changes(&task, changes)
            })
            .await
            .unwrap_or_else(|error| Changes::Unknown(format!("the change feed failed: {error}"))),
        };
        if let Changes::Known(paths) = &found {
            self.charge(paths.len() as u64 * FUEL_PER_STAT);
        }
        found
    }
}

/// The feed in the guest's paths.
fn guest_changes(task: &Task, changes: HostChanges) -> Changes {
    let paths = match changes {
        HostChanges::Unknown(reason) => return Changes::Unknown(reason),
        HostChanges::Known(paths) => paths,
    };
    let mut named = Vec::with_capacity(paths.len());
    for path in &paths {
        match guest_path_of(task, path) {
            Some(guest) => named.push(guest),
            None => {
                return Changes::Unknown(format!(
                    "{} changed and has no guest path",
                    path.display()
                ));
            }
        }
    }
    named.sort();
    named.dedup();
    Changes::Known(named)
}

/// Where a host path appears in the guest: under the directory grant with
/// the longest host prefix, or as a granted file. `None` for a path no
/// grant covers or one that is not UTF-8.
fn guest_path_of(task: &Task, host: &Path) -> Option<String> {
    let dir = task
        .dirs
        .iter()
        .filter_map(|dir| {
            let rest = host.strip_prefix(&dir.host_path).ok()?;
            let rest = rest.to_str()?;
            Some((dir.host_path.as_os_str().len(), &dir.guest, rest))
        })
        .max_by_key(|(len, _, _)| *len)
        .map(|(_, guest, rest)| match rest {
            "" => guest.clone(),
            rest => format!("{}/{rest}", guest.trim_end_matches('/')),
        });
    dir.or_else(|| {
        task.files
            .iter()
            .find(|file| file.host_path == host)
            .map(|file| file.guest.clone())
    })
}
