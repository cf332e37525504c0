//! The server's change feed for `corral:task/incremental`, from the same
//! watches that vouch for reused results.
//!
//! A cursor names this server instance, the set of grants it was taken
//! for and a point in that set's history: `<instance>.<set>.<tick>`. A
//! cursor of another server (this one restarted), of other grants (the
//! manifest changed them) or from before what the set remembers makes
//! the feed unknown. Cursors come back from the guest, so they are parsed
//! as hostile: anything malformed is simply unknown.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::digest::sha256_hex;
use crate::manifest::Task;
use crate::sandbox::incremental::{ChangeFeed, HostChanges};
use crate::serve::reuse::{Reuse, roots};
use crate::serve::watch::{Root, SetKey};

pub struct WatchedChanges {
    reuse: Arc<Mutex<Reuse>>,
    /// Different for every server process.
    instance: String,
}

impl WatchedChanges {
    pub fn new(reuse: Arc<Mutex<Reuse>>) -> WatchedChanges {
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos());
        let instance = sha256_hex(format!("{}.{started}", std::process::id()))[..16].to_owned();
        WatchedChanges { reuse, instance }
    }

    fn lock(&self) -> MutexGuard<'_, Reuse> {
        self.reuse
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The watches and `task`'s grants, if those are watched already and
    /// nobody else holds the watches: then nothing waits or walks.
    fn at_once(&self, task: &Task) -> Option<(MutexGuard<'_, Reuse>, SetKey)> {
        let mut reuse = self.reuse.try_lock().ok()?;
        let roots = roots(task, false);
        reuse.watches().watched_already(&roots)?;
        Some((reuse, roots))
    }

    fn cursor_in(&self, reuse: &mut Reuse, roots: &[Root]) -> String {
        match reuse.watches().cursor(roots) {
            Ok(tick) => format!("{}.{}.{tick}", self.instance, set_name(roots)),
            Err(reason) => format!("unwatched: {reason}"),
        }
    }

    fn changes_in(&self, reuse: &mut Reuse, roots: &[Root], cursor: &str) -> HostChanges {
        let mut parts = cursor.splitn(3, '.');
        let (Some(instance), Some(set), Some(tick)) = (parts.next(), parts.next(), parts.next())
        else {
            return HostChanges::Unknown(match cursor.strip_prefix("unwatched: ") {
                Some(reason) => format!("the files were not watched: {reason}"),
                None => "the cursor is not one of this server's".into(),
            });
        };
        let Ok(tick) = tick.parse::<u64>() else {
            return HostChanges::Unknown("the cursor is not one of this server's".into());
        };
        if instance != self.instance {
            return HostChanges::Unknown("the cursor is from another server process".into());
        }
        if set != set_name(roots) {
            return HostChanges::Unknown("the task's grants changed since the cursor".into());
        }
        match reuse.watches().changed_since(roots, tick) {
            Ok(paths) => HostChanges::Known(paths),
            Err(reason) => HostChanges::Unknown(reason),
        }
    }
}

/// A short name of a set of grants.
fn set_name(roots: &[Root]) -> String {
    sha256_hex(format!("{roots:?}"))[..16].to_owned()
}

impl ChangeFeed for WatchedChanges {
    fn cursor(&self, task: &Task) -> String {
        self.cursor_in(&mut self.lock(), &roots(task, false))
    }

    fn changes_since(&self, task: &Task, cursor: &str) -> HostChanges {
        self.changes_in(&mut self.lock(), &roots(task, false), cursor)
    }

    fn cursor_at_once(&self, task: &Task) -> Option<String> {
        let (mut reuse, roots) = self.at_once(task)?;
        Some(self.cursor_in(&mut reuse, &roots))
    }

    fn changes_at_once(&self, task: &Task, cursor: &str) -> Option<HostChanges> {
        let (mut reuse, roots) = self.at_once(task)?;
        Some(self.changes_in(&mut reuse, &roots, cursor))
    }
}
