//! The full stat data and blob ids of tracked files, taken as cheaply as
//! the target allows, for `uptodate.rs`.
//!
//! Inside the component up to 4096 paths are stat-ed with one
//! `corral:task/files.stat-names` call: full `lstat` data (mode, inode,
//! device, owner, ctime), which WASI's own stat lacks, with the leading
//! directories opened by the host without following symlinks. Blob ids are
//! hashed natively by the host (`files.digest-names`). Natively std and
//! gix do the same, so that the tests run this logic.
//!
//! A path is only answered for when its leading directories are real
//! directories (not symlinks), as gix-status requires.
//!
//! `walk` lists the whole work tree the same way in one host call
//! (`files.walk-tree`), entering only the directories it is given.

use gix::ObjectId;
use gix::bstr::BStr;
use gix::index::entry::Stat;

pub use imp::TrackedStat;

/// What a tracked path is on disk.
#[derive(Debug, Clone, Copy)]
pub struct Seen {
    /// git's stat data: 32-bit fields, truncated as git and gix-index do.
    pub stat: Stat,
    pub is_file: bool,
    pub is_dir: bool,
    pub is_symlink: bool,
    /// The owner's execute bit, as git reads it.
    pub is_executable: bool,
}

#[cfg(not(target_family = "wasm"))]
mod imp {
    use std::collections::HashSet;
    use std::path::{Path, PathBuf};

    use gix::bstr::{BString, ByteSlice};

    use super::*;

    pub struct TrackedStat {
        root: PathBuf,
        /// Leading directories found to be real directories.
        dirs: HashSet<BString>,
    }

    impl TrackedStat {
        pub fn new(workdir: &Path) -> Option<Self> {
            Some(TrackedStat {
                root: workdir.to_owned(),
                dirs: HashSet::new(),
            })
        }

        /// What each of `paths` (relative to the work tree) is.
        pub fn stats(&mut self, paths: &[&BStr]) -> Vec<Option<Seen>> {
            paths
                .iter()
                .map(|rela| {
                    let meta =
                        gix::index::fs::Metadata::from_path_no_follow(&self.real_path(rela)?)
                            .ok()?;
                    Some(Seen {
                        stat: Stat::from_fs(&meta).ok()?,
                        is_file: meta.is_file(),
                        is_dir: meta.is_dir(),
                        is_symlink: meta.is_symlink(),
                        is_executable: meta.is_executable(),
                    })
                })
                .collect()
        }

        /// Every entry under the work tree, sorted by path, entering only
        /// the directories in `enter` (and the top); `None` if a name is not
        /// UTF-8 or a directory cannot be listed.
        pub fn walk(&mut self, enter: &HashSet<String>) -> Option<Vec<(String, Seen)>> {
            let mut found = Vec::new();
            let mut pending = vec![String::new()];
            while let Some(dir) = pending.pop() {
                for entry in std::fs::read_dir(self.root.join(&dir)).ok()? {
                    let entry = entry.ok()?;
                    let name = entry.file_name().into_string().ok()?;
                    let path = match dir.as_str() {
                        "" => name,
                        dir => format!("{dir}/{name}"),
                    };
                    let meta = gix::index::fs::Metadata::from_path_no_follow(&entry.path()).ok()?;
                    if meta.is_dir() && enter.contains(&path) {
                        pending.push(path.clone());
                    }
                    found.push((
                        path,
                        Seen {
                            stat: Stat::from_fs(&meta).ok()?,
                            is_file: meta.is_file(),
                            is_dir: meta.is_dir(),
                            is_symlink: meta.is_symlink(),
                            is_executable: meta.is_executable(),
                        },
                    ));
                }
            }
            found.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            Some(found)
        }

        /// The blob ids of the bytes of the regular files `paths`.
        pub fn blob_ids(
            &mut self,
            paths: &[&BStr],
            kind: gix::hash::Kind,
        ) -> Vec<Option<ObjectId>> {
            paths
                .iter()
                .map(|rela| {
                    let path = self.real_path(rela)?;
                    if !std::fs::symlink_metadata(&path).ok()?.is_file() {
                        return None;
                    }
                    let data = std::fs::read(path).ok()?;
                    gix::objs::compute_hash(kind, gix::objs::Kind::Blob, &data).ok()
                })
                .collect()
        }

        /// `rela` under the work tree, if each of its leading directories
        /// is a real directory.
        fn real_path(&mut self, rela: &BStr) -> Option<PathBuf> {
            let mut prefix = BString::default();
            let leading = rela
                .rfind_byte(b'/')
                .map_or(&rela[..0], |slash| &rela[..slash]);
            for component in leading.split(|b| *b == b'/').filter(|c| !c.is_empty()) {
                if !prefix.is_empty() {
                    prefix.push(b'/');
                }
                prefix.extend_from_slice(component);
                if self.dirs.contains(&prefix) {
                    continue;
                }
                let path = self.root.join(gix::path::from_bstr(prefix.as_bstr()).ok()?);
                if !std::fs::symlink_metadata(path).ok()?.is_dir() {
                    return None;
                }
                self.dirs.insert(prefix.clone());
            }
            Some(self.root.join(gix::path::from_bstr(rela).ok()?))
        }
    }
}

#[cfg(target_family = "wasm")]
mod imp {
    use std::collections::HashSet;
    use std::path::Path;

    use corral_task_files::{self as files, Descriptor, DescriptorType, DigestAlgorithm, FileStat};
    use gix::bstr::ByteSlice;
    use gix::index::entry::stat::Time;

    use super::*;

    /// Paths asked about per host call at most (the host's own cap).
    const BATCH: usize = 4096;

    pub struct TrackedStat {
        root: Descriptor,
    }

    impl TrackedStat {
        pub fn new(workdir: &Path) -> Option<Self> {
            Some(TrackedStat {
                root: files::open_dir(workdir.to_str()?)?,
            })
        }

        /// What each of `paths` (relative to the work tree) is.
        pub fn stats(&mut self, paths: &[&BStr]) -> Vec<Option<Seen>> {
            let answers = self.ask(paths, files::stat_names);
            answers.into_iter().map(|stat| stat.map(seen)).collect()
        }

        /// Every entry under the work tree, sorted by path, entering only
        /// the directories in `enter` (and the top): one host `walk-tree`
        /// call. `None` if the host cannot (a name not UTF-8, a tree larger
        /// than one call may return).
        pub fn walk(&mut self, enter: &HashSet<String>) -> Option<Vec<(String, Seen)>> {
            let only = files::Descend::Only(enter.iter().cloned().collect());
            let entries = files::walk_tree(&self.root, &only).ok()?;
            Some(
                entries
                    .into_iter()
                    .map(|entry| (entry.name, seen(entry.stat)))
                    .collect(),
            )
        }

        /// The blob ids of the bytes of the regular files `paths`, hashed
        /// by the host.
        pub fn blob_ids(
            &mut self,
            paths: &[&BStr],
            kind: gix::hash::Kind,
        ) -> Vec<Option<ObjectId>> {
            let algorithm = match kind {
                gix::hash::Kind::Sha1 => DigestAlgorithm::GitBlobSha1,
                _ => DigestAlgorithm::GitBlobSha256,
            };
            let answers = self.ask(paths, |root, paths| {
                files::digest_names(root, paths, algorithm)
            });
            answers
                .into_iter()
                .map(|digest| ObjectId::try_from(digest?.as_slice()).ok())
                .collect()
        }

        /// Batched host calls about `paths`: an answer per path, `None`
        /// where there is none (and for a whole batch that fails, or when
        /// a path is not UTF-8).
        fn ask<T, E>(
            &self,
            paths: &[&BStr],
            call: impl Fn(&Descriptor, &[String]) -> Result<Vec<Result<T, E>>, E>,
        ) -> Vec<Option<T>> {
            let mut answers = Vec::with_capacity(paths.len());
            for batch in paths.chunks(BATCH) {
                let answered = batch
                    .iter()
                    .map(|path| path.to_str().ok().map(str::to_owned))
                    .collect::<Option<Vec<String>>>()
                    .and_then(|paths| call(&self.root, &paths).ok());
                match answered {
                    Some(batch) => answers.extend(batch.into_iter().map(Result::ok)),
                    None => answers.extend(batch.iter().map(|_| None)),
                }
            }
            answers
        }
    }

    fn seen(stat: FileStat) -> Seen {
        // Truncated to 32 bits as git and gix-index do.
        let time = |t: wasip2::clocks::wall_clock::Datetime| Time {
            secs: t.seconds as u32,
            nsecs: t.nanoseconds,
        };
        let is_file = stat.type_ == DescriptorType::RegularFile;
        Seen {
            stat: Stat {
                mtime: time(stat.mtime),
                ctime: time(stat.ctime),
                dev: stat.dev as u32,
                ino: stat.ino as u32,
                uid: stat.uid,
                gid: stat.gid,
                size: stat.size as u32,
            },
            is_file,
            is_dir: stat.type_ == DescriptorType::Directory,
            is_symlink: stat.type_ == DescriptorType::SymbolicLink,
            is_executable: is_file && stat.mode & 0o100 != 0,
        }
    }
}
