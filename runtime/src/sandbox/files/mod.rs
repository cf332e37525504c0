//! The `corral:task/files` interface: full `lstat` data, directory listings
//! and digests, computed natively on descriptors the task already holds.
//!
//! No new authority: every call goes through a descriptor from the task's
//! own resource table (a granted directory or one opened under it), a name
//! is one path component and is never followed if it is a symlink, and a
//! digest reads a file the task opened for reading. The work is bounded per
//! call (names, entries) and counted against the task's fuel (see
//! [`StoreData::check_host_fuel`]); it runs on the blocking pool, so the
//! executor never waits on a disk.

use std::io;
use std::sync::Arc;

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use wasmtime::component::Resource;
use wasmtime_wasi::filesystem::Descriptor;
use wasmtime_wasi::p2::FsError;
use wasmtime_wasi::p2::bindings::clocks::wall_clock::Datetime;
use wasmtime_wasi::p2::bindings::filesystem::types::{DescriptorType, ErrorCode};

use crate::sandbox::bindings::corral::task::files::{
    self, Descend, DigestAlgorithm, DirEntry, FileStat, WalkError,
};
use crate::sandbox::host::StoreData;
use digest::hash;
use walk::Walk;

mod digest;
mod walk;

/// Names one `stat-names` call may ask for.
const MAX_NAMES: usize = 4096;
/// Entries one `list-dir` call may return.
const MAX_ENTRIES: usize = 65_536;
/// Fuel charged per name stat-ed or entry listed: about what a guest pays
/// to make one WASI call and decode its answer.
pub const FUEL_PER_STAT: u64 = 64;
/// Fuel charged per byte hashed (hashing in wasm costs 10-20 per byte).
pub const FUEL_PER_BYTE: u64 = 1;

impl files::Host for StoreData {
    async fn stat_names(
        &mut self,
        dir: Resource<Descriptor>,
        names: Vec<String>,
    ) -> Result<Vec<Result<FileStat, ErrorCode>>, ErrorCode> {
        let dir = self.directory(&dir)?;
        if names.len() > MAX_NAMES {
            return Err(ErrorCode::Overflow);
        }
        self.charge(names.len() as u64 * FUEL_PER_STAT);
        blocking(self.inline_files, move || {
            let mut parents = Parents::new(&dir);
            Ok(names
                .iter()
                .map(|path| {
                    let (parent, name) = parents.of(path)?;
                    lstat_at(parent, name)
                })
                .collect())
        })
        .await
    }

    async fn list_dir(&mut self, dir: Resource<Descriptor>) -> Result<Vec<DirEntry>, ErrorCode> {
        let dir = self.directory(&dir)?;
        let listed = blocking(self.inline_files, move || {
            let mut entries = Vec::new();
            // Its own descriptor: the task's may be `O_PATH`, and a listing
            // must not move a shared position.
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
            let own =
                rustix::fs::openat(&dir, ".", flags, Mode::empty()).map_err(io::Error::from)?;
            for entry in rustix::fs::Dir::new(own).map_err(io::Error::from)? {
                let entry = entry.map_err(io::Error::from)?;
                let name = entry.file_name().to_bytes();
                if name == b"." || name == b".." {
                    continue;
                }
                if entries.len() == MAX_ENTRIES {
                    return Err(ErrorCode::Overflow);
                }
                let name = std::str::from_utf8(name)
                    .map_err(|_| ErrorCode::IllegalByteSequence)?
                    .to_owned();
                // Gone between the listing and the stat: not an entry any more.
                match lstat_at(&dir, &name) {
                    Ok(stat) => entries.push(DirEntry { name, stat }),
                    Err(ErrorCode::NoEntry) => {}
                    Err(error) => return Err(error),
                }
            }
            entries.sort_unstable_by(|a, b| a.name.cmp(&b.name));
            Ok(entries)
        })
        .await?;
        self.charge(listed.len() as u64 * FUEL_PER_STAT);
        Ok(listed)
    }

    async fn digest(
        &mut self,
        file: Resource<Descriptor>,
        algorithm: DigestAlgorithm,
    ) -> Result<Vec<u8>, ErrorCode> {
        let Ok(Descriptor::File(file)) = self.table.get(&file) else {
            return Err(ErrorCode::BadDescriptor);
        };
        if !file.open_mode.contains(wasmtime_wasi::OpenMode::READ) {
            return Err(ErrorCode::BadDescriptor);
        }
        let file = Arc::clone(&file.file);
        let size = file.metadata().map_err(error_code)?.len();
        let mut budget = Budget::new(self);
        let deadline = self.deadline;
        let digest = match budget.spend(size) {
            Ok(()) => {
                blocking(self.inline_files, move || {
                    hash(&file, size, algorithm, deadline, &mut Vec::new())
                })
                .await
            }
            Err(error) => Err(error),
        };
        self.charge(budget.spent());
        digest
    }

    async fn digest_names(
        &mut self,
        dir: Resource<Descriptor>,
        names: Vec<String>,
        algorithm: DigestAlgorithm,
    ) -> Result<Vec<Result<Vec<u8>, ErrorCode>>, ErrorCode> {
        let dir = self.directory(&dir)?;
        if names.len() > MAX_NAMES {
            return Err(ErrorCode::Overflow);
        }
        let mut budget = Budget::new(self);
        let deadline = self.deadline;
        let (digests, budget) = blocking(self.inline_files, move || {
            let mut buf = Vec::new();
            let mut parents = Parents::new(&dir);
            let digests = names
                .iter()
                .map(|path| {
                    budget.spend(FUEL_PER_STAT)?;
                    let (parent, name) = parents.of(path)?;
                    let file = open_regular(parent, name)?;
                    let size = file.metadata().map_err(error_code)?.len();
                    budget.spend(size * FUEL_PER_BYTE)?;
                    hash(&file, size, algorithm, deadline, &mut buf)
                })
                .collect();
            Ok((digests, budget))
        })
        .await?;
        self.charge(budget.spent());
        Ok(digests)
    }

    async fn walk_tree(
        &mut self,
        dir: Resource<Descriptor>,
        descend: Descend,
    ) -> Result<Vec<DirEntry>, WalkError> {
        let root_failed = |code| WalkError {
            path: String::new(),
            code,
        };
        let dir = self.directory(&dir).map_err(root_failed)?;
        let mut budget = Budget::new(self);
        let deadline = self.deadline;
        let (walked, budget) = blocking(self.inline_files, move || {
            let walked = Walk {
                entering: descend.into(),
                budget: &mut budget,
                deadline,
                found: Vec::new(),
            }
            .run(&dir);
            Ok((walked, budget))
        })
        .await
        .map_err(root_failed)?;
        self.charge(budget.spent());
        walked
    }
}

/// The fuel a host call may spend: what the task had left when it called.
/// A call that needs more does not do the work and charges everything, so
/// the task runs out of fuel at its next host call or as it ends.
struct Budget {
    left: u64,
    spent: u64,
}

impl Budget {
    fn new(data: &StoreData) -> Self {
        Budget {
            left: data.fuel_at_call(),
            spent: 0,
        }
    }

    fn spend(&mut self, fuel: u64) -> Result<(), ErrorCode> {
        if fuel > self.left {
            self.spent = u64::MAX;
            self.left = 0;
            return Err(ErrorCode::InsufficientMemory);
        }
        self.left -= fuel;
        self.spent += fuel;
        Ok(())
    }

    fn spent(&self) -> u64 {
        self.spent
    }
}

impl StoreData {
    /// The directory behind `dir`, shared with the blocking pool.
    fn directory(&self, dir: &Resource<Descriptor>) -> Result<Arc<std::fs::File>, ErrorCode> {
        match self.table.get(dir) {
            Ok(Descriptor::Dir(dir)) => Ok(Arc::clone(&dir.dir)),
            Ok(Descriptor::File(_)) => Err(ErrorCode::NotDirectory),
            Err(_) => Err(ErrorCode::BadDescriptor),
        }
    }
}

/// One path component: no separator, not empty, not `.` or `..`.
fn is_component(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0'])
}

/// The parent directories of relative paths under one directory, opened
/// one component at a time without following a symlink (a symlink or
/// anything else where a directory should be fails the path with
/// `not-directory`), and kept open while consecutive paths share them:
/// sorted paths open each directory once.
struct Parents<'a> {
    root: &'a std::fs::File,
    /// The directories leading to the last parent, by component.
    open: Vec<(String, Result<std::fs::File, ErrorCode>)>,
}

impl<'a> Parents<'a> {
    fn new(root: &'a std::fs::File) -> Self {
        Parents {
            root,
            open: Vec::new(),
        }
    }

    /// The open parent of `path` and its last component.
    fn of<'p>(&mut self, path: &'p str) -> Result<(&std::fs::File, &'p str), ErrorCode> {
        let mut components: Vec<&str> = path.split('/').collect();
        let name = components.pop().unwrap_or_default();
        if !is_component(name) || !components.iter().all(|c| is_component(c)) {
            return Err(ErrorCode::Invalid);
        }
        let common = self
            .open
            .iter()
            .zip(&components)
            .take_while(|((open, _), component)| open == *component)
            .count();
        self.open.truncate(common);
        for component in &components[common..] {
            let parent = match self.open.last() {
                Some((_, parent)) => parent.as_ref().map_err(|error| *error),
                None => Ok(self.root),
            };
            let opened = parent.and_then(|parent| {
                let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
                rustix::fs::openat(parent, *component, flags, Mode::empty())
                    .map(std::fs::File::from)
                    .map_err(|errno| match errno {
                        // A symlink where a directory should be.
                        rustix::io::Errno::LOOP => ErrorCode::NotDirectory,
                        errno => error_code(errno.into()),
                    })
            });
            self.open.push((component.to_string(), opened));
        }
        let parent = match self.open.last() {
            Some((_, parent)) => parent.as_ref().map_err(|error| *error)?,
            None => self.root,
        };
        Ok((parent, name))
    }
}

fn lstat_at(dir: &std::fs::File, name: &str) -> Result<FileStat, ErrorCode> {
    let stat = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
        .map_err(|errno| error_code(errno.into()))?;
    let kind = match FileType::from_raw_mode(stat.st_mode) {
        FileType::RegularFile => DescriptorType::RegularFile,
        FileType::Directory => DescriptorType::Directory,
        FileType::Symlink => DescriptorType::SymbolicLink,
        FileType::Fifo => DescriptorType::Fifo,
        FileType::Socket => DescriptorType::Socket,
        FileType::CharacterDevice => DescriptorType::CharacterDevice,
        FileType::BlockDevice => DescriptorType::BlockDevice,
        FileType::Unknown => DescriptorType::Unknown,
    };
    let time = |seconds: i64, nanos: i64| Datetime {
        seconds: seconds.max(0) as u64,
        nanoseconds: nanos.clamp(0, 999_999_999) as u32,
    };
    Ok(FileStat {
        type_: kind,
        mode: stat.st_mode & 0o7777,
        size: stat.st_size.max(0) as u64,
        mtime: time(stat.st_mtime, stat.st_mtime_nsec as i64),
        ctime: time(stat.st_ctime, stat.st_ctime_nsec as i64),
        ino: stat.st_ino,
        dev: stat.st_dev,
        uid: stat.st_uid,
        gid: stat.st_gid,
        nlink: stat.st_nlink,
    })
}

/// Opens `name` in `dir` for reading if it is a regular file: never
/// following a symlink, and never blocking on a FIFO or device.
fn open_regular(dir: &std::fs::File, name: &str) -> Result<std::fs::File, ErrorCode> {
    let flags =
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
    let file: std::fs::File = rustix::fs::openat(dir, name, flags, Mode::empty())
        .map_err(|errno| match errno {
            // O_NOFOLLOW on a symlink.
            rustix::io::Errno::LOOP => ErrorCode::Invalid,
            errno => error_code(errno.into()),
        })?
        .into();
    if !file.metadata().map_err(error_code)?.is_file() {
        return Err(ErrorCode::Invalid);
    }
    Ok(file)
}

/// WASI's error code for an I/O error, as wasmtime-wasi maps it.
fn error_code(error: io::Error) -> ErrorCode {
    FsError::from(error).downcast().unwrap_or(ErrorCode::Io)
}

/// Runs file work as WASI runs the task's own file calls: on this thread
/// when every grant is on a local filesystem (a hand-off per call costs
/// more than the work), else on the blocking pool, so a hung filesystem
/// cannot hold an executor thread (see `policy::runs_inline`).
async fn blocking<T: Send + 'static>(
    inline: bool,
    work: impl FnOnce() -> Result<T, ErrorCode> + Send + 'static,
) -> Result<T, ErrorCode> {
    if inline {
        return work();
    }
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or(Err(ErrorCode::Io))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_single_components() {
        for good in ["a", ".git", "..a", "a b", "…"] {
            assert!(is_component(good), "{good:?}");
        }
        for bad in ["", ".", "..", "a/b", "/a", "a/", "a\0"] {
            assert!(!is_component(bad), "{bad:?}");
        }
    }

    #[test]
    fn parents_are_opened_without_following_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("a/b/f"), b"x").unwrap();
        std::os::unix::fs::symlink("a", dir.path().join("l")).unwrap();
        let root = std::fs::File::open(dir.path()).unwrap();
        let mut parents = Parents::new(&root);
        for path in ["a/b/f", "a/b/g", "a/f"] {
            let (parent, name) = parents.of(path).unwrap();
            assert_eq!(name, path.rsplit('/').next().unwrap());
            let stat = lstat_at(parent, name);
            assert_eq!(stat.is_ok(), path == "a/b/f", "{path}");
        }
        assert!(matches!(parents.of("l/b/f"), Err(ErrorCode::NotDirectory)));
        assert!(matches!(
            parents.of("a/b/f/x"),
            Err(ErrorCode::NotDirectory)
        ));
        for bad in ["a//f", "../f", "a/./f", "/a", "a/"] {
            assert!(matches!(parents.of(bad), Err(ErrorCode::Invalid)), "{bad}");
        }
    }

    #[test]
    fn lstat_does_not_follow_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), b"x").unwrap();
        std::os::unix::fs::symlink("f", dir.path().join("l")).unwrap();
        let handle = std::fs::File::open(dir.path()).unwrap();
        let file = lstat_at(&handle, "f").unwrap();
        let link = lstat_at(&handle, "l").unwrap();
        assert_eq!(file.type_, DescriptorType::RegularFile);
        assert_eq!(link.type_, DescriptorType::SymbolicLink);
        assert_ne!(file.ino, link.ino);
        assert!(matches!(
            lstat_at(&handle, "missing"),
            Err(ErrorCode::NoEntry)
        ));
    }
}
