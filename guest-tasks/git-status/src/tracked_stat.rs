//! The stat data of tracked files, taken as cheaply as the target allows,
//! for `uptodate.rs`.
//!
//! Entries arrive in index order, so the directories leading to them change
//! rarely. Under WASI each directory is opened once, relative to its
//! parent's descriptor and without following symlinks, and each file is
//! stat-ed relative to it: one host call and one system call, where std's
//! `symlink_metadata` on the full path costs two and six. Natively std is
//! used, the same calls gix-status makes, so that the tests run this logic.
//!
//! Either way a path is only answered for when gix-status would take the
//! same stat data and see no change of type or mode: leading directories
//! must be real directories (not symlinks), and the file must match the
//! entry's mode under the repository's `core.symlinks`/`core.fileMode`.

use gix::bstr::{BStr, ByteSlice};
use gix::index::entry::{Mode, Stat, stat};

pub use imp::TrackedStat;

/// Splits `rela` into its leading directories and its file name.
fn split(rela: &BStr) -> (Vec<&BStr>, &BStr) {
    let mut dirs: Vec<&BStr> = rela.split_str("/").map(|c| c.as_bstr()).collect();
    let name = dirs.pop().unwrap_or_default();
    (dirs, name)
}

#[cfg(not(target_family = "wasm"))]
mod imp {
    use std::collections::HashSet;
    use std::path::{Path, PathBuf};

    use gix::bstr::BString;

    use super::*;

    pub struct TrackedStat {
        root: PathBuf,
        fs: gix::fs::Capabilities,
        /// Leading directories found to be real directories.
        dirs: HashSet<BString>,
    }

    impl TrackedStat {
        pub fn new(workdir: &Path, fs: gix::fs::Capabilities, _: stat::Options) -> Option<Self> {
            Some(TrackedStat {
                root: workdir.to_owned(),
                fs,
                dirs: HashSet::new(),
            })
        }

        /// The stat data of `rela`, if it is a file of `mode`'s type.
        pub fn of(&mut self, rela: &BStr, mode: Mode) -> Option<Stat> {
            let (dirs, _) = split(rela);
            let mut prefix = BString::default();
            for dir in dirs {
                if !prefix.is_empty() {
                    prefix.push(b'/');
                }
                prefix.extend_from_slice(dir);
                if self.dirs.contains(&prefix) {
                    continue;
                }
                let path = self.root.join(gix::path::from_bstr(prefix.as_bstr()).ok()?);
                let meta = std::fs::symlink_metadata(path).ok()?;
                if !meta.is_dir() {
                    return None;
                }
                self.dirs.insert(prefix.clone());
            }
            let path = self.root.join(gix::path::from_bstr(rela).ok()?);
            let meta = gix::index::fs::Metadata::from_path_no_follow(&path).ok()?;
            let changed = meta.is_dir()
                || mode
                    .change_to_match_fs(&meta, self.fs.symlink, self.fs.executable_bit)
                    .is_some();
            if changed {
                return None;
            }
            Stat::from_fs(&meta).ok()
        }
    }
}

#[cfg(target_family = "wasm")]
mod imp {
    use std::path::Path;

    use gix::bstr::BString;
    use gix::index::entry::stat::Time;
    use wasip2::filesystem::preopens::get_directories;
    use wasip2::filesystem::types::{
        Descriptor, DescriptorFlags, DescriptorType, OpenFlags, PathFlags,
    };

    use super::*;

    pub struct TrackedStat {
        root: Descriptor,
        fs: gix::fs::Capabilities,
        /// The open directories leading to the last path (`None` where one
        /// could not be opened as a real directory).
        open: Vec<(BString, Option<Descriptor>)>,
    }

    impl TrackedStat {
        /// `None` when the comparison needs more than WASI's stat gives
        /// (permission bits, inode, owner, a faithful ctime): gix-status
        /// then does all the work, as `Options::limited_metadata` avoids.
        pub fn new(
            workdir: &Path,
            fs: gix::fs::Capabilities,
            options: stat::Options,
        ) -> Option<Self> {
            if fs.executable_bit || options.check_stat || options.trust_ctime {
                return None;
            }
            let (preopen, rest) = get_directories()
                .into_iter()
                .filter_map(|(dir, path)| {
                    let rest = workdir.strip_prefix(&path).ok()?.to_str()?.to_owned();
                    Some((dir, path.len(), rest))
                })
                .max_by_key(|(_, len, _)| *len)
                .map(|(dir, _, rest)| (dir, rest))?;
            let root = if rest.is_empty() {
                preopen
            } else {
                preopen
                    .open_at(
                        PathFlags::SYMLINK_FOLLOW,
                        &rest,
                        OpenFlags::DIRECTORY,
                        DescriptorFlags::READ,
                    )
                    .ok()?
            };
            Some(TrackedStat {
                root,
                fs,
                open: Vec::new(),
            })
        }

        /// The stat data of `rela`, if it is a file of `mode`'s type.
        pub fn of(&mut self, rela: &BStr, mode: Mode) -> Option<Stat> {
            let (dirs, name) = split(rela);
            let common = self
                .open
                .iter()
                .zip(&dirs)
                .take_while(|((open, _), dir)| open == *dir)
                .count();
            self.open.truncate(common);
            for dir in &dirs[common..] {
                let parent = match self.open.last() {
                    Some((_, parent)) => parent.as_ref(),
                    None => Some(&self.root),
                };
                let opened = parent.zip(dir.to_str().ok()).and_then(|(parent, dir)| {
                    parent
                        .open_at(
                            PathFlags::empty(),
                            dir,
                            OpenFlags::DIRECTORY,
                            DescriptorFlags::READ,
                        )
                        .ok()
                });
                self.open.push((dir.to_owned().into(), opened));
            }
            let dir = match self.open.last() {
                Some((_, dir)) => dir.as_ref()?,
                None => &self.root,
            };
            let stat = dir.stat_at(PathFlags::empty(), name.to_str().ok()?).ok()?;
            let is_file = stat.type_ == DescriptorType::RegularFile;
            let is_dir = stat.type_ == DescriptorType::Directory;
            let is_symlink = stat.type_ == DescriptorType::SymbolicLink;
            let changed = is_dir
                || mode
                    .change_to_match_fs_with_values(
                        is_file,
                        is_dir,
                        is_symlink,
                        false,
                        self.fs.symlink,
                        false,
                    )
                    .is_some();
            if changed {
                return None;
            }
            let mtime = stat.data_modification_timestamp?;
            Some(Stat {
                // Truncated to 32 bits as git and gix-index do.
                mtime: Time {
                    secs: mtime.seconds as u32,
                    nsecs: mtime.nanoseconds,
                },
                size: stat.size as u32,
                ..Stat::default()
            })
        }
    }
}
