//! The full stat data and blob ids of tracked files, taken as cheaply as
//! the target allows, for `uptodate.rs`.
//!
//! Entries arrive in index order, so the files of one directory come in
//! runs. Inside the component each directory is opened once, relative to
//! its parent's descriptor and without following symlinks, and a run of
//! names is stat-ed with one `corral:task/files.stat-names` call: full
//! `lstat` data (mode, inode, device, owner, ctime), which WASI's own stat
//! lacks. A file's blob id is hashed natively by the host
//! (`files.digest`). Natively std and gix do the same, so that the tests
//! run this logic.
//!
//! A path is only answered for when its leading directories are real
//! directories (not symlinks), as gix-status requires.

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

        /// What each of `names` in directory `dir` (`""` for the top) is.
        pub fn in_dir(&mut self, dir: &BStr, names: &[&BStr]) -> Vec<Option<Seen>> {
            let Some(dir) = self.real_dir(dir) else {
                return vec![None; names.len()];
            };
            names
                .iter()
                .map(|name| {
                    let path = dir.join(gix::path::from_bstr(*name).ok()?);
                    let meta = gix::index::fs::Metadata::from_path_no_follow(&path).ok()?;
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

        /// The blob ids of the bytes of regular files `names` in `dir`.
        pub fn blob_ids(
            &mut self,
            dir: &BStr,
            names: &[&BStr],
            kind: gix::hash::Kind,
        ) -> Vec<Option<ObjectId>> {
            let Some(dir) = self.real_dir(dir) else {
                return vec![None; names.len()];
            };
            names
                .iter()
                .map(|name| {
                    let path = dir.join(gix::path::from_bstr(*name).ok()?);
                    if !std::fs::symlink_metadata(&path).ok()?.is_file() {
                        return None;
                    }
                    let data = std::fs::read(path).ok()?;
                    gix::objs::compute_hash(kind, gix::objs::Kind::Blob, &data).ok()
                })
                .collect()
        }

        /// `dir` under the work tree, if every component of it is a real
        /// directory.
        fn real_dir(&mut self, dir: &BStr) -> Option<PathBuf> {
            let mut prefix = BString::default();
            for component in dir.split(|b| *b == b'/').filter(|c| !c.is_empty()) {
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
            Some(self.root.join(gix::path::from_bstr(dir).ok()?))
        }
    }
}

#[cfg(target_family = "wasm")]
mod imp {
    use std::path::Path;

    use corral_task_files::{self as files, Descriptor, DescriptorType, DigestAlgorithm, FileStat};
    use gix::bstr::{BString, ByteSlice};
    use gix::index::entry::stat::Time;
    use wasip2::filesystem::types::{DescriptorFlags, OpenFlags, PathFlags};

    use super::*;

    pub struct TrackedStat {
        root: Descriptor,
        /// The open directories leading to the last directory asked for
        /// (`None` where one could not be opened as a real directory).
        open: Vec<(BString, Option<Descriptor>)>,
    }

    impl TrackedStat {
        pub fn new(workdir: &Path) -> Option<Self> {
            Some(TrackedStat {
                root: files::open_dir(workdir.to_str()?)?,
                open: Vec::new(),
            })
        }

        /// What each of `names` in directory `dir` (`""` for the top) is.
        pub fn in_dir(&mut self, dir: &BStr, names: &[&BStr]) -> Vec<Option<Seen>> {
            let answers = self.ask(dir, names, |dir, names| files::stat_names(dir, names));
            answers.into_iter().map(|stat| stat.map(seen)).collect()
        }

        /// The blob ids of the bytes of regular files `names` in `dir`,
        /// hashed by the host.
        pub fn blob_ids(
            &mut self,
            dir: &BStr,
            names: &[&BStr],
            kind: gix::hash::Kind,
        ) -> Vec<Option<ObjectId>> {
            let algorithm = match kind {
                gix::hash::Kind::Sha1 => DigestAlgorithm::GitBlobSha1,
                _ => DigestAlgorithm::GitBlobSha256,
            };
            let answers = self.ask(dir, names, |dir, names| {
                files::digest_names(dir, names, algorithm)
            });
            answers
                .into_iter()
                .map(|digest| ObjectId::try_from(digest?.as_slice()).ok())
                .collect()
        }

        /// One batched host call about `names` in `dir`: an answer per name,
        /// `None` where there is none (and for all when `dir` is not a real
        /// directory or a name is not UTF-8).
        fn ask<T, E>(
            &mut self,
            dir: &BStr,
            names: &[&BStr],
            call: impl FnOnce(&Descriptor, &[String]) -> Result<Vec<Result<T, E>>, E>,
        ) -> Vec<Option<T>> {
            let answered = names
                .iter()
                .map(|name| name.to_str().ok().map(str::to_owned))
                .collect::<Option<Vec<String>>>()
                .zip(self.descend(dir))
                .and_then(|(names, dir)| call(dir, &names).ok());
            match answered {
                Some(answers) => answers.into_iter().map(Result::ok).collect(),
                None => names.iter().map(|_| None).collect(),
            }
        }

        /// The descriptor of `dir`, opening what is not open yet.
        fn descend(&mut self, dir: &BStr) -> Option<&Descriptor> {
            let components: Vec<&BStr> = dir
                .split(|b| *b == b'/')
                .filter(|c| !c.is_empty())
                .map(|c| c.as_bstr())
                .collect();
            let common = self
                .open
                .iter()
                .zip(&components)
                .take_while(|((open, _), component)| open == *component)
                .count();
            self.open.truncate(common);
            for component in &components[common..] {
                let parent = match self.open.last() {
                    Some((_, parent)) => parent.as_ref(),
                    None => Some(&self.root),
                };
                let opened = parent
                    .zip(component.to_str().ok())
                    .and_then(|(parent, component)| {
                        parent
                            .open_at(
                                PathFlags::empty(),
                                component,
                                OpenFlags::DIRECTORY,
                                DescriptorFlags::READ,
                            )
                            .ok()
                    });
                self.open.push(((*component).to_owned(), opened));
            }
            match self.open.last() {
                Some((_, dir)) => dir.as_ref(),
                None => Some(&self.root),
            }
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
