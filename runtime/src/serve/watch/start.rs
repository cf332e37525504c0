//! Starting a set: a watch on every directory of its trees (links never
//! followed, other filesystems refused) and on the directory of each file.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io;
use std::path::Path;

use super::{
    MASK, MAX_DIRS_PER_SET, MAX_SETS, Root, SetKey, WatchSet, WatchedDir, Watches, identity,
};

impl Watches {
    /// Starts a set: every directory of its trees, the directory of each
    /// file. Whatever fails makes it unwatchable, with the reason.
    pub(super) fn start(&mut self, key: &SetKey) {
        if self.sets.len() >= MAX_SETS
            && let Some(oldest) = self
                .sets
                .iter()
                .min_by_key(|(_, set)| set.last_used)
                .map(|(key, _)| key.clone())
        {
            self.drop_set(&oldest);
        }
        let generation = self.tick();
        let identities = key
            .iter()
            .map(|root| {
                let path = match root {
                    Root::Tree(path) => path.clone(),
                    Root::File(path) => path.parent().unwrap_or(path).to_path_buf(),
                };
                let seen = identity(&path);
                (path, seen)
            })
            .collect();
        self.sets.insert(
            key.clone(),
            WatchSet {
                identities,
                generation,
                usable: Ok(()),
                reported: false,
                last_used: generation,
                wds: Vec::new(),
                changed: HashMap::new(),
                known_since: generation,
            },
        );
        let mut count = 0;
        for root in key {
            let added = match root {
                Root::Tree(path) => {
                    watchable_fs(path).and_then(|()| self.add_tree(key, path, &mut count))
                }
                Root::File(path) => self.add_file(key, path),
            };
            if let Err(reason) = added {
                self.make_unusable(key, reason);
                return;
            }
        }
    }

    fn add_file(&mut self, key: &SetKey, path: &Path) -> Result<(), String> {
        let shown = path.display();
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(format!("{shown} has no directory to watch"));
        };
        // A link's target can change without an event in this directory.
        if std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink()) {
            return Err(format!(
                "{shown} is a symbolic link; its target is not watched"
            ));
        }
        watchable_fs(parent)?;
        self.add_dir(key, parent, Some(name.to_os_string()))
    }

    /// Watches `top` and every directory below it, without following
    /// links; a filesystem mounted inside it makes it unwatchable (its
    /// changes may raise no event).
    pub(super) fn add_tree(
        &mut self,
        key: &SetKey,
        top: &Path,
        count: &mut usize,
    ) -> Result<(), String> {
        use std::os::unix::fs::MetadataExt;
        let device = std::fs::metadata(top)
            .map_err(|error| format!("cannot stat {}: {error}", top.display()))?
            .dev();
        let mut stack = vec![top.to_path_buf()];
        while let Some(dir) = stack.pop() {
            *count += 1;
            if *count > MAX_DIRS_PER_SET {
                return Err(format!(
                    "more than {MAX_DIRS_PER_SET} directories under {}",
                    top.display()
                ));
            }
            match self.add_dir(key, &dir, None) {
                Ok(()) => {}
                // Gone already: its removal is an event of its parent.
                Err(_) if !dir.exists() => continue,
                Err(reason) => return Err(reason),
            }
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                Err(error) => return Err(format!("cannot list {}: {error}", dir.display())),
            };
            for entry in entries.flatten() {
                if !entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                    continue;
                }
                if entry.metadata().is_ok_and(|meta| meta.dev() != device) {
                    return Err(format!(
                        "{} is another filesystem mounted inside {}",
                        entry.path().display(),
                        top.display()
                    ));
                }
                stack.push(entry.path());
            }
        }
        Ok(())
    }

    fn add_dir(&mut self, key: &SetKey, dir: &Path, only: Option<OsString>) -> Result<(), String> {
        let wd =
            self.inotify
                .watches()
                .add(dir, MASK)
                .map_err(|error| match error.raw_os_error() {
                    Some(libc_enospc) if libc_enospc == rustix::io::Errno::NOSPC.raw_os_error() => {
                        "the inotify watch limit is reached (sysctl fs.inotify.max_user_watches)"
                            .to_string()
                    }
                    _ => format!("cannot watch {}: {error}", dir.display()),
                })?;
        let entry = self.dirs.entry(wd.clone()).or_insert_with(|| WatchedDir {
            path: dir.to_path_buf(),
            users: Vec::new(),
        });
        // One entry per name a set cares about: two files granted from
        // one directory are both watched.
        if !entry
            .users
            .iter()
            .any(|(user, name)| user == key && *name == only)
        {
            let first_for_set = !entry.users.iter().any(|(user, _)| user == key);
            entry.users.push((key.clone(), only));
            if first_for_set && let Some(set) = self.sets.get_mut(key) {
                set.wds.push(wd);
            }
        }
        Ok(())
    }
}

/// Only local filesystems raise an event for every change: on a network,
/// FUSE or kernel filesystem (`/proc`, `/sys`) changes made elsewhere
/// raise none.
fn watchable_fs(path: &Path) -> Result<(), String> {
    match crate::sandbox::local_fs::is_local(path) {
        true => Ok(()),
        false => Err(format!(
            "{} is not on a local filesystem, where every change raises an event",
            path.display()
        )),
    }
}
