//! Reading the inotify queue: each event moves the generation of the sets
//! it concerns and enters the journal of what changed; what cannot be
//! followed exactly drops the set.

use std::ffi::OsString;
use std::io;

use inotify::{EventMask, WatchDescriptor};

use super::{Root, SetKey, Watches};

impl Watches {
    /// Reads every queued event and moves the generations they concern.
    pub fn drain(&mut self) {
        loop {
            let mut batch = Vec::new();
            match self.inotify.read_events(&mut self.buffer) {
                Ok(events) => {
                    for event in events {
                        batch.push((event.wd, event.mask, event.name.map(OsString::from)));
                    }
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return,
                Err(error) => {
                    tracing::warn!(%error, "cannot read file events; dropping every watch");
                    self.drop_all();
                    return;
                }
            }
            if batch.is_empty() {
                return;
            }
            for (wd, mask, name) in batch {
                self.apply(wd, mask, name);
            }
        }
    }

    fn apply(&mut self, wd: WatchDescriptor, mask: EventMask, name: Option<OsString>) {
        if mask.contains(EventMask::Q_OVERFLOW) {
            tracing::info!("file event queue overflowed; dropping every watch");
            self.drop_all();
            return;
        }
        let Some(dir) = self.dirs.get(&wd) else {
            return;
        };
        // An event without a name is about the directory itself: it
        // concerns every set that watches it.
        let mut concerned: Vec<SetKey> = dir
            .users
            .iter()
            .filter(|(_, only)| only.is_none() || name.is_none() || only.as_ref() == name.as_ref())
            .map(|(key, _)| key.clone())
            .collect();
        concerned.dedup();
        let dir_path = dir.path.clone();
        // What cannot be followed exactly: the set is dropped and made anew.
        let structural = mask.intersects(
            EventMask::IGNORED | EventMask::DELETE_SELF | EventMask::MOVE_SELF | EventMask::UNMOUNT,
        ) || (mask.contains(EventMask::ISDIR)
            && mask.intersects(EventMask::MOVED_FROM | EventMask::MOVED_TO));
        for key in concerned {
            if structural {
                self.drop_set(&key);
                continue;
            }
            let generation = self.tick();
            if let Some(set) = self.sets.get_mut(&key) {
                set.generation = generation;
                set.record(
                    name.as_ref()
                        .map_or_else(|| dir_path.clone(), |name| dir_path.join(name)),
                    generation,
                );
            }
            // A new directory in a tree is watched from now on (whatever
            // was made in it before is covered by this change).
            if mask.contains(EventMask::ISDIR | EventMask::CREATE)
                && let Some(name) = &name
                && key.iter().any(|root| matches!(root, Root::Tree(_)))
            {
                let mut count = self.sets.get(&key).map_or(0, |set| set.wds.len());
                if let Err(reason) = self.add_tree(&key, &dir_path.join(name), &mut count) {
                    self.make_unusable(&key, reason);
                }
            }
        }
    }
}
