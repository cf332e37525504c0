//! Results kept for reuse: a task that opted in (`reuse = true`) is
//! answered with its last result while its fingerprint (manifest entry,
//! resolved grants, repository), its component file and every file under
//! its grants are as they were when that result was computed.
//!
//! A ticket is taken before the run starts, with the watch generation at
//! that moment: a change during the run moves the generation, so the
//! result it produced is never reused.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::manifest::{Access, Task};
use crate::sandbox::local_fs::is_local;
use crate::sandbox::warm::FileStamp;
use crate::serve::watch::{Root, SetKey, Watched, Watches};

/// Entries kept; the least recently used goes first.
const MAX_ENTRIES: usize = 512;

/// What a run must match to be reused later.
#[derive(Clone, Debug)]
pub struct Ticket {
    fingerprint: String,
    set: SetKey,
    generation: u64,
    component: Option<FileStamp>,
}

/// What to do with one task of a request.
#[derive(Debug)]
pub enum Lookup {
    /// Answer with this result: nothing changed.
    Reused(String),
    /// Run it; record the result under the ticket once it is done.
    Run(Ticket),
    /// Run it every time: its files cannot be watched. `first` is true the
    /// first time this is said for these grants.
    Unwatchable { reason: String, first: bool },
}

struct Entry {
    ticket: Ticket,
    result: String,
    last_used: u64,
}

/// The watches and the results they vouch for.
pub struct Reuse {
    watches: Watches,
    entries: HashMap<String, Entry>,
    uses: u64,
    /// Whether each component file seen lies on a local filesystem (its
    /// stamp can then be taken without blocking).
    local_components: HashMap<PathBuf, bool>,
}

impl Reuse {
    pub fn new() -> std::io::Result<Reuse> {
        Ok(Reuse {
            watches: Watches::new()?,
            entries: HashMap::new(),
            uses: 0,
            local_components: HashMap::new(),
        })
    }

    /// Sets of grants watched now.
    pub fn watched(&self) -> usize {
        self.watches.len()
    }

    /// Whether `task` (bound, if it is) can be answered from its last
    /// result. May walk its grants the first time: call it off the
    /// executor's threads.
    pub fn lookup(&mut self, task: &Task) -> Lookup {
        if self.local_components.len() >= MAX_ENTRIES {
            self.local_components.clear();
        }
        let path = &task.component_path;
        if !self.local_components.contains_key(path) {
            self.local_components.insert(path.clone(), is_local(path));
        }
        let set = roots(task, false);
        let watched = self.watches.watch(&set);
        self.lookup_in(task, set, watched)
    }

    /// [`Reuse::lookup`] where it cannot block: the task's grants are
    /// watched already, usable and where they were (nothing is walked and
    /// every stat is local), and an earlier lookup found its component on
    /// a local filesystem. `None` otherwise: call [`Reuse::lookup`] off
    /// the executor's threads.
    pub fn lookup_watched(&mut self, task: &Task) -> Option<Lookup> {
        if self.local_components.get(&task.component_path) != Some(&true) {
            return None;
        }
        let set = roots(task, false);
        let watched = self.watches.watched_already(&set)?;
        Some(self.lookup_in(task, set, watched))
    }

    fn lookup_in(&mut self, task: &Task, set: SetKey, watched: Watched) -> Lookup {
        let generation = match watched {
            Watched::Generation(generation) => generation,
            Watched::Unwatchable { reason, first } => return Lookup::Unwatchable { reason, first },
        };
        let ticket = Ticket {
            fingerprint: task.fingerprint(),
            set,
            generation,
            component: FileStamp::of(&task.component_path),
        };
        self.uses += 1;
        if let Some(entry) = self.entries.get_mut(&ticket.fingerprint)
            && entry.ticket.generation == ticket.generation
            && entry.ticket.set == ticket.set
            && entry.ticket.component.is_some()
            && entry.ticket.component == ticket.component
        {
            entry.last_used = self.uses;
            return Lookup::Reused(entry.result.clone());
        }
        Lookup::Run(ticket)
    }

    /// Keeps a done run's result for reuse under the ticket taken before it.
    pub fn record(&mut self, ticket: Ticket, result: String) {
        if self.entries.len() >= MAX_ENTRIES
            && let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, entry)| entry.last_used)
                .map(|(key, _)| key.clone())
        {
            self.entries.remove(&oldest);
        }
        self.uses += 1;
        self.entries.insert(
            ticket.fingerprint.clone(),
            Entry {
                ticket,
                result,
                last_used: self.uses,
            },
        );
    }

    /// The generation of what `task` reads (its read-only grants: what
    /// it writes itself must not wake it again), watching it from now on;
    /// `None` when it cannot be watched.
    pub fn read_generation(&mut self, task: &Task) -> Option<u64> {
        match self.watches.watch(&roots(task, true)) {
            Watched::Generation(generation) => Some(generation),
            Watched::Unwatchable { .. } => None,
        }
    }

    /// The watches themselves, for the change feed.
    pub fn watches(&mut self) -> &mut Watches {
        &mut self.watches
    }

    /// Reads every queued file event.
    pub fn drain(&mut self) {
        self.watches.drain();
    }

    /// A descriptor that becomes readable when a file event is queued.
    pub fn event_fd(&self) -> std::io::Result<std::os::fd::OwnedFd> {
        self.watches.event_fd()
    }

    /// Forgets the result of a task whose last run failed.
    pub fn forget(&mut self, ticket: &Ticket) {
        self.entries.remove(&ticket.fingerprint);
    }
}

/// What the task can see through its grants; with `read_only`, only what
/// it reads and does not write (its read-only directories and its files).
pub fn roots(task: &Task, read_only: bool) -> SetKey {
    let mut roots: SetKey = task
        .dirs
        .iter()
        .filter(|dir| !read_only || dir.mode == Access::Ro)
        .map(|dir| Root::Tree(dir.host_path.clone()))
        .chain(
            task.files
                .iter()
                .map(|file| Root::File(file.host_path.clone())),
        )
        .collect();
    roots.sort();
    roots.dedup();
    roots
}
