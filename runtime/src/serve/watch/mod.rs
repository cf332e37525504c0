//! Which of the files a task can see changed, from inotify.
//!
//! A watch set covers a task's grants: whole trees (every directory in
//! them watched, links never followed) and single files (their directory
//! watched, events for other names ignored). Each set has a generation
//! that moves whenever anything in it may have changed; a result computed
//! while the generation stayed the same is still what a run would give.
//!
//! The kernel queues an event during the system call that changed the
//! file, so draining the queue ([`Watches::drain`]) at the start of a
//! request sees every change that finished before the request was sent:
//! no watcher thread can lag behind. Whatever cannot be followed exactly
//! (a queue overflow, a directory renamed, a watch the kernel dropped)
//! drops the set, and the next request starts it again with a fresh
//! generation: when in doubt, the task runs.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

use inotify::{Inotify, WatchDescriptor, WatchMask};

mod queue;
mod start;

/// Directories one set may watch; a larger tree runs every time.
const MAX_DIRS_PER_SET: usize = 50_000;
/// Sets kept; the least recently used goes first (with its watches).
const MAX_SETS: usize = 64;
/// Changed paths one set remembers; past this it forgets them all, and
/// what changed before then is unknown.
const MAX_CHANGED_PATHS: usize = 16_384;

/// What a task can see, as watched.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Root {
    /// A directory and everything below it.
    Tree(PathBuf),
    /// One file.
    File(PathBuf),
}

/// A set's identity: its roots, sorted.
pub type SetKey = Vec<Root>;

/// Whether a set can vouch for its files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Watched {
    /// Nothing changed while the generation stays this.
    Generation(u64),
    /// It cannot be watched (the reason); `first` is true the first time
    /// this is said for the set.
    Unwatchable { reason: String, first: bool },
}

struct WatchSet {
    /// Device and inode of each root (a file's directory), as the set was
    /// started: a path that now leads elsewhere (a parent renamed, a link
    /// on the way retargeted) raises no event on the watched inodes.
    identities: Vec<(PathBuf, Option<(u64, u64)>)>,
    generation: u64,
    /// `Err(reason)` when it cannot be watched; it then holds no watches.
    usable: Result<(), String>,
    reported: bool,
    last_used: u64,
    wds: Vec<WatchDescriptor>,
    /// Each path that changed since `known_since`, with the tick of its
    /// latest change (a directory's own events name the directory).
    changed: HashMap<PathBuf, u64>,
    /// What changed before this tick is not known.
    known_since: u64,
}

/// The sets that use one watched directory, with the one name each
/// cares about (`None`: every name).
struct WatchedDir {
    path: PathBuf,
    users: Vec<(SetKey, Option<OsString>)>,
}

pub struct Watches {
    inotify: Inotify,
    buffer: Vec<u8>,
    sets: HashMap<SetKey, WatchSet>,
    dirs: HashMap<WatchDescriptor, WatchedDir>,
    /// Source of generations and of use times: every new value is unique,
    /// so a set dropped and made again never repeats a generation.
    counter: u64,
}

const MASK: WatchMask = WatchMask::MODIFY
    .union(WatchMask::ATTRIB)
    .union(WatchMask::CLOSE_WRITE)
    .union(WatchMask::CREATE)
    .union(WatchMask::DELETE)
    .union(WatchMask::DELETE_SELF)
    .union(WatchMask::MOVE_SELF)
    .union(WatchMask::MOVED_FROM)
    .union(WatchMask::MOVED_TO)
    .union(WatchMask::DONT_FOLLOW)
    .union(WatchMask::ONLYDIR)
    .union(WatchMask::EXCL_UNLINK);

impl Watches {
    pub fn new() -> io::Result<Watches> {
        Ok(Watches {
            inotify: Inotify::init()?,
            buffer: vec![0; 64 * 1024],
            sets: HashMap::new(),
            dirs: HashMap::new(),
            counter: 0,
        })
    }

    /// A duplicate of the inotify descriptor: readable while events are
    /// queued (the same queue; [`Watches::drain`] still reads it).
    pub fn event_fd(&self) -> io::Result<std::os::fd::OwnedFd> {
        use std::os::fd::AsFd;
        Ok(rustix::io::dup(self.inotify.as_fd())?)
    }

    /// Sets watched now.
    pub fn len(&self) -> usize {
        self.sets.len()
    }

    /// The state of the set for `roots`, starting to watch them if they
    /// are not watched yet. Drains the queue first.
    pub fn watch(&mut self, roots: &[Root]) -> Watched {
        self.drain();
        let key = key_of(roots);
        if !self.sets.contains_key(&key) {
            self.start(&key);
            // Changes made while the walk ran are in the queue now.
            self.drain();
        }
        if self.moved(&key) {
            self.drop_set(&key);
            self.start(&key);
            self.drain();
        }
        self.state_of(&key)
    }

    /// [`Watches::watch`] for a set that is watched already, usable and
    /// where it was: it then walks nothing, and every stat it takes is on
    /// a local filesystem (where a usable set's roots are), so it cannot
    /// block. `None` where `watch` would have to (re)start the set.
    pub fn watched_already(&mut self, roots: &[Root]) -> Option<Watched> {
        self.drain();
        let key = key_of(roots);
        let usable = self.sets.get(&key).is_some_and(|set| set.usable.is_ok());
        (usable && !self.moved(&key)).then(|| self.state_of(&key))
    }

    /// Whether a root of the set now leads elsewhere (a parent renamed, a
    /// link on the way retargeted): its watches see nothing of that.
    fn moved(&self, key: &SetKey) -> bool {
        self.sets.get(key).is_some_and(|set| {
            set.identities
                .iter()
                .any(|(path, seen)| identity(path) != *seen)
        })
    }

    /// The set's state for a lookup, marking it used.
    fn state_of(&mut self, key: &SetKey) -> Watched {
        let now = self.tick();
        let Some(set) = self.sets.get_mut(key) else {
            return Watched::Unwatchable {
                reason: "the watch was dropped while it was made".into(),
                first: false,
            };
        };
        set.last_used = now;
        match &set.usable {
            Ok(()) => Watched::Generation(set.generation),
            Err(reason) => {
                let first = !set.reported;
                set.reported = true;
                Watched::Unwatchable {
                    reason: reason.clone(),
                    first,
                }
            }
        }
    }

    /// A point in the history of the set for `roots` (watching it from
    /// now on), or why it has none: everything that changes after it is
    /// in [`Watches::changed_since`]. Drains the queue first.
    pub fn cursor(&mut self, roots: &[Root]) -> Result<u64, String> {
        match self.watch(roots) {
            Watched::Generation(_) => Ok(self.tick()),
            Watched::Unwatchable { reason, .. } => Err(reason),
        }
    }

    /// The paths under `roots` that changed after `cursor`, sorted, or why
    /// that is not known. Drains the queue first.
    pub fn changed_since(&mut self, roots: &[Root], cursor: u64) -> Result<Vec<PathBuf>, String> {
        if let Watched::Unwatchable { reason, .. } = self.watch(roots) {
            return Err(reason);
        }
        let set = self
            .sets
            .get(&key_of(roots))
            .ok_or("the watch was dropped while it was made")?;
        if cursor < set.known_since {
            return Err(
                "the files were not watched since then, or more changed than is kept".into(),
            );
        }
        let mut paths: Vec<PathBuf> = set
            .changed
            .iter()
            .filter(|(_, tick)| **tick > cursor)
            .map(|(path, _)| path.clone())
            .collect();
        paths.sort();
        Ok(paths)
    }

    fn tick(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    fn make_unusable(&mut self, key: &SetKey, reason: String) {
        self.release(key);
        if let Some(set) = self.sets.get_mut(key) {
            set.usable = Err(reason);
        }
    }

    /// Forgets a set and its watches; its next use starts it again.
    fn drop_set(&mut self, key: &SetKey) {
        self.release(key);
        self.sets.remove(key);
    }

    fn drop_all(&mut self) {
        let keys: Vec<SetKey> = self.sets.keys().cloned().collect();
        for key in keys {
            self.drop_set(&key);
        }
    }

    /// Removes the set's watches that no other set uses.
    fn release(&mut self, key: &SetKey) {
        let Some(set) = self.sets.get_mut(key) else {
            return;
        };
        for wd in std::mem::take(&mut set.wds) {
            let Some(dir) = self.dirs.get_mut(&wd) else {
                continue;
            };
            dir.users.retain(|(user, _)| user != key);
            if dir.users.is_empty() {
                self.dirs.remove(&wd);
                let _ = self.inotify.watches().remove(wd);
            }
        }
    }
}

impl WatchSet {
    fn record(&mut self, path: PathBuf, tick: u64) {
        if self.changed.len() >= MAX_CHANGED_PATHS && !self.changed.contains_key(&path) {
            self.changed.clear();
            self.known_since = tick;
            return;
        }
        self.changed.insert(path, tick);
    }
}

fn key_of(roots: &[Root]) -> SetKey {
    let mut key: SetKey = roots.to_vec();
    key.sort();
    key.dedup();
    key
}

/// The device and inode `path` leads to now, links followed.
fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path)
        .ok()
        .map(|meta| (meta.dev(), meta.ino()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generation(watches: &mut Watches, roots: &[Root]) -> u64 {
        match watches.watch(roots) {
            Watched::Generation(generation) => generation,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_change_anywhere_in_a_tree_moves_its_generation_at_once() {
        let root = tempfile::tempdir().unwrap();
        let deep = root.path().join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(deep.join("f"), "1").unwrap();
        let mut watches = Watches::new().unwrap();
        let roots = [Root::Tree(root.path().to_path_buf())];
        let first = generation(&mut watches, &roots);
        assert_eq!(generation(&mut watches, &roots), first, "nothing changed");
        std::fs::write(deep.join("f"), "2").unwrap();
        let second = generation(&mut watches, &roots);
        assert_ne!(second, first, "a write deep down, seen without waiting");
        // A new directory is watched from then on.
        std::fs::create_dir(deep.join("new")).unwrap();
        let third = generation(&mut watches, &roots);
        assert_ne!(third, second);
        std::fs::write(deep.join("new/g"), "x").unwrap();
        assert_ne!(generation(&mut watches, &roots), third);
        // Reading changes nothing.
        let now = generation(&mut watches, &roots);
        std::fs::read(deep.join("f")).unwrap();
        assert_eq!(generation(&mut watches, &roots), now);
    }

    #[test]
    fn a_file_root_ignores_its_neighbours_and_a_renamed_directory_restarts() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("watched");
        std::fs::write(&file, "1").unwrap();
        let mut watches = Watches::new().unwrap();
        let roots = [Root::File(file.clone())];
        let first = generation(&mut watches, &roots);
        std::fs::write(root.path().join("neighbour"), "x").unwrap();
        assert_eq!(generation(&mut watches, &roots), first);
        // Replaced by rename, as editors save.
        std::fs::write(root.path().join("tmp"), "2").unwrap();
        std::fs::rename(root.path().join("tmp"), &file).unwrap();
        assert_ne!(generation(&mut watches, &roots), first);

        let tree = tempfile::tempdir().unwrap();
        std::fs::create_dir(tree.path().join("d")).unwrap();
        let roots = [Root::Tree(tree.path().to_path_buf())];
        let before = generation(&mut watches, &roots);
        std::fs::rename(tree.path().join("d"), tree.path().join("e")).unwrap();
        let after = generation(&mut watches, &roots);
        assert_ne!(after, before);
        std::fs::write(tree.path().join("e/f"), "x").unwrap();
        assert_ne!(
            generation(&mut watches, &roots),
            after,
            "the renamed dir is watched"
        );
    }

    #[test]
    fn only_a_set_watched_usable_and_in_place_is_answered_without_a_walk() {
        let parent = tempfile::tempdir().unwrap();
        let tree = parent.path().join("tree");
        std::fs::create_dir_all(tree.join("d")).unwrap();
        let mut watches = Watches::new().unwrap();
        let roots = [Root::Tree(tree.clone())];
        assert_eq!(watches.watched_already(&roots), None, "never watched");
        let first = generation(&mut watches, &roots);
        assert_eq!(
            watches.watched_already(&roots),
            Some(Watched::Generation(first))
        );
        std::fs::write(tree.join("d/f"), "x").unwrap();
        let Some(Watched::Generation(changed)) = watches.watched_already(&roots) else {
            panic!("still watched");
        };
        assert_ne!(changed, first, "the queue is drained first");
        // The root now leads to another directory: only `watch` restarts.
        std::fs::rename(&tree, parent.path().join("old")).unwrap();
        std::fs::create_dir(&tree).unwrap();
        assert_eq!(watches.watched_already(&roots), None);
        let proc_roots = [Root::Tree(PathBuf::from("/proc/self"))];
        let _ = watches.watch(&proc_roots);
        assert_eq!(watches.watched_already(&proc_roots), None, "unusable");
    }

    #[test]
    fn two_files_of_one_directory_and_a_renamed_parent_are_followed() {
        let root = tempfile::tempdir().unwrap();
        let home = root.path().join("home");
        std::fs::create_dir(&home).unwrap();
        for name in ["a", "b"] {
            std::fs::write(home.join(name), "1").unwrap();
        }
        let mut watches = Watches::new().unwrap();
        let roots = [Root::File(home.join("a")), Root::File(home.join("b"))];
        let first = generation(&mut watches, &roots);
        std::fs::write(home.join("b"), "2").unwrap();
        let second = generation(&mut watches, &roots);
        assert_ne!(second, first, "the second file of the directory");
        // The directory is replaced by another under the same name.
        std::fs::rename(&home, root.path().join("old")).unwrap();
        std::fs::create_dir(&home).unwrap();
        std::fs::write(home.join("a"), "other").unwrap();
        std::fs::write(home.join("b"), "2").unwrap();
        assert_ne!(generation(&mut watches, &roots), second);

        let tree = root.path().join("tree");
        std::fs::create_dir_all(tree.join("sub")).unwrap();
        let roots = [Root::Tree(tree.join("sub"))];
        let before = generation(&mut watches, &roots);
        std::fs::rename(&tree, root.path().join("tree.old")).unwrap();
        std::fs::create_dir_all(tree.join("sub")).unwrap();
        assert_ne!(
            generation(&mut watches, &roots),
            before,
            "a parent replaced"
        );
    }

    #[test]
    fn the_journal_names_what_changed_after_a_cursor_and_forgets_when_it_must() {
        let root = tempfile::tempdir().unwrap();
        let top = root.path().to_path_buf();
        std::fs::create_dir(top.join("a")).unwrap();
        std::fs::write(top.join("a/f"), "1").unwrap();
        let mut watches = Watches::new().unwrap();
        let roots = [Root::Tree(top.clone())];
        let first = watches.cursor(&roots).unwrap();
        assert_eq!(watches.changed_since(&roots, first), Ok(Vec::new()));
        std::fs::write(top.join("a/f"), "2").unwrap();
        std::fs::create_dir(top.join("b")).unwrap();
        std::fs::write(top.join("b/g"), "x").unwrap();
        // `b/g` was made before `b` was watched: `b` covers it.
        let changed = watches.changed_since(&roots, first).unwrap();
        assert_eq!(changed, vec![top.join("a/f"), top.join("b")]);
        std::fs::write(top.join("b/g"), "y").unwrap();
        let changed = watches.changed_since(&roots, first).unwrap();
        assert_eq!(
            changed,
            vec![top.join("a/f"), top.join("b"), top.join("b/g")]
        );
        let second = watches.cursor(&roots).unwrap();
        assert_eq!(watches.changed_since(&roots, second), Ok(Vec::new()));
        assert_eq!(
            watches.changed_since(&roots, first),
            Ok(changed),
            "an older cursor still sees its changes"
        );

        // More distinct paths than are kept: what came before is unknown.
        let many = top.join("many");
        std::fs::create_dir(&many).unwrap();
        let third = watches.cursor(&roots).unwrap();
        for batch in 0..3 {
            for n in 0..MAX_CHANGED_PATHS / 2 {
                std::fs::File::create(many.join(format!("{batch}-{n}"))).unwrap();
            }
            // Read as it goes, so the kernel's own queue does not overflow.
            watches.drain();
        }
        assert!(watches.changed_since(&roots, first).is_err());
        assert!(watches.changed_since(&roots, third).is_err());
        let fourth = watches.cursor(&roots).unwrap();
        assert_eq!(watches.changed_since(&roots, fourth), Ok(Vec::new()));

        // A renamed directory drops the set: every cursor is unknown.
        std::fs::rename(top.join("b"), top.join("c")).unwrap();
        assert!(watches.changed_since(&roots, fourth).is_err());
    }

    #[test]
    fn kernel_filesystems_cannot_be_watched() {
        let mut watches = Watches::new().unwrap();
        let roots = [Root::File(PathBuf::from("/proc/self/status"))];
        assert!(matches!(watches.watch(&roots), Watched::Unwatchable { .. }));
    }

    #[test]
    fn a_linked_file_cannot_be_watched_and_says_so_once() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("target"), "1").unwrap();
        let link = root.path().join("link");
        std::os::unix::fs::symlink(root.path().join("target"), &link).unwrap();
        let mut watches = Watches::new().unwrap();
        let roots = [Root::File(link)];
        assert!(matches!(
            watches.watch(&roots),
            Watched::Unwatchable { first: true, .. }
        ));
        assert!(matches!(
            watches.watch(&roots),
            Watched::Unwatchable { first: false, .. }
        ));
    }
}
