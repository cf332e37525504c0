//! A directory that only the user can enter, used through its descriptor.
//!
//! Every name is opened relative to the directory's descriptor with
//! `O_NOFOLLOW`, temporary files are created with `O_EXCL` under names
//! that carry this process's id, and files are replaced by `renameat`,
//! which replaces a planted symbolic link rather than following it. A
//! crash can leave a temporary file behind; the next writer removes those
//! of processes that no longer exist.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rustix::fs::{AtFlags, Mode, OFlags};

/// Suffix of temporary files: `.<name>.<pid>.<n>.tmp`.
const TEMP_SUFFIX: &str = ".tmp";

/// A private directory, open.
#[derive(Debug)]
pub struct PrivateDir {
    fd: OwnedFd,
    path: PathBuf,
}

impl PrivateDir {
    /// Creates `path` (and its parents) with mode 0700 if missing and opens
    /// it; refuses it if its last component is a symbolic link or not a
    /// directory.
    pub fn create(path: &Path) -> io::Result<PrivateDir> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
            .map_err(|error| refused(path, error))?;
        Self::open(path)
    }

    /// Opens an existing directory, refusing a symbolic link.
    pub fn open(path: &Path) -> io::Result<PrivateDir> {
        let fd = rustix::fs::open(
            path,
            OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|errno| refused(path, errno.into()))?;
        Ok(PrivateDir {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// A subdirectory, created (0700) if missing, opened without following.
    pub fn subdir(&self, name: &str) -> io::Result<PrivateDir> {
        match rustix::fs::mkdirat(&self.fd, name, Mode::RWXU) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => {}
            Err(errno) => return Err(self.error(name, errno.into())),
        }
        self.open_subdir(name)
    }

    /// An existing subdirectory, opened without following a link.
    pub fn open_subdir(&self, name: &str) -> io::Result<PrivateDir> {
        let fd = rustix::fs::openat(
            &self.fd,
            name,
            OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|errno| self.error(name, errno.into()))?;
        Ok(PrivateDir {
            fd,
            path: self.path.join(name),
        })
    }

    /// Keeps at most `keep` subdirectories (besides `spare`, which always
    /// stays): the least recently modified go, with the files in them.
    pub fn prune_subdirs(&self, keep: usize, spare: &str) -> io::Result<()> {
        let mut dated = Vec::new();
        for name in self.names()? {
            let Ok(stat) = rustix::fs::statat(&self.fd, &name, AtFlags::SYMLINK_NOFOLLOW) else {
                continue;
            };
            if name != spare && rustix::fs::FileType::from_raw_mode(stat.st_mode).is_dir() {
                dated.push(((stat.st_mtime, stat.st_mtime_nsec), name));
            }
        }
        if dated.len() < keep {
            return Ok(());
        }
        dated.sort();
        for (_, name) in &dated[..=dated.len() - keep] {
            let dir = self.open_subdir(name)?;
            for file in dir.names()? {
                dir.remove(&file)?;
            }
            match rustix::fs::unlinkat(&self.fd, name.as_str(), AtFlags::REMOVEDIR) {
                Ok(()) | Err(rustix::io::Errno::NOENT) | Err(rustix::io::Errno::NOTEMPTY) => {}
                Err(errno) => return Err(self.error(name, errno.into())),
            }
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens `name` with `flags` (plus `O_NOFOLLOW | O_CLOEXEC`), new files
    /// private to the user.
    pub fn open_file(&self, name: &str, flags: OFlags) -> io::Result<File> {
        rustix::fs::openat(
            &self.fd,
            name,
            flags | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::RUSR | Mode::WUSR,
        )
        .map(File::from)
        .map_err(|errno| self.error(name, errno.into()))
    }

    /// The status of `name` itself (a link is not followed).
    pub fn stat(&self, name: &str) -> io::Result<rustix::fs::Stat> {
        rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|errno| self.error(name, errno.into()))
    }

    /// The content of `name`, or `None` if it does not exist.
    pub fn read(&self, name: &str) -> io::Result<Option<String>> {
        let mut file = match self.open_file(name, OFlags::RDONLY) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error),
        };
        let mut text = String::new();
        file.read_to_string(&mut text)?;
        Ok(Some(text))
    }

    /// Replaces `name` with `bytes` for its readers: a temporary file
    /// written, then renamed over it, so a reader, or a writer killed
    /// half-way, sees the old content or the new. Not synced: for files a
    /// later run recomputes (results), where an fsync on the way to the
    /// answer costs more than a crash could.
    pub fn replace(&self, name: &str, bytes: &[u8]) -> io::Result<()> {
        self.replace_synced(name, bytes, false)
    }

    /// [`PrivateDir::replace`], durable: the content synced before the
    /// rename, then the directory ([`PrivateDir::sync`]).
    pub fn write_atomically(&self, name: &str, bytes: &[u8]) -> io::Result<()> {
        self.replace_synced(name, bytes, true)?;
        self.sync()
    }

    fn replace_synced(&self, name: &str, bytes: &[u8], sync: bool) -> io::Result<()> {
        let temp = self.temp_name(name);
        let mut file = self.open_file(&temp, OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL)?;
        let written = file
            .write_all(bytes)
            .and_then(|()| if sync { file.sync_data() } else { Ok(()) })
            .and_then(|()| {
                rustix::fs::renameat(&self.fd, &temp, &self.fd, name).map_err(Into::into)
            });
        if written.is_err() {
            let _ = rustix::fs::unlinkat(&self.fd, &temp, AtFlags::empty());
        }
        written.map_err(|error| self.error(name, error))
    }

    /// Points the symbolic link `name` at `target`, replacing it atomically.
    pub fn replace_symlink(&self, name: &str, target: &str) -> io::Result<()> {
        let temp = self.temp_name(name);
        rustix::fs::symlinkat(target, &self.fd, &temp)
            .and_then(|()| rustix::fs::renameat(&self.fd, &temp, &self.fd, name))
            .map_err(|errno| {
                let _ = rustix::fs::unlinkat(&self.fd, &temp, AtFlags::empty());
                self.error(name, errno.into())
            })
    }

    /// Removes `name`; returns whether it existed.
    pub fn remove(&self, name: &str) -> io::Result<bool> {
        match rustix::fs::unlinkat(&self.fd, name, AtFlags::empty()) {
            Ok(()) => Ok(true),
            Err(rustix::io::Errno::NOENT) => Ok(false),
            Err(errno) => Err(self.error(name, errno.into())),
        }
    }

    /// The names in the directory, without `.` and `..`.
    pub fn names(&self) -> io::Result<Vec<String>> {
        let fd = rustix::fs::openat(
            &self.fd,
            ".",
            OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let mut names = Vec::new();
        for entry in rustix::fs::Dir::read_from(fd)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if name != "." && name != ".." {
                names.push(name);
            }
        }
        Ok(names)
    }

    /// Makes the renames done in the directory durable.
    pub fn sync(&self) -> io::Result<()> {
        rustix::fs::fsync(&self.fd).map_err(Into::into)
    }

    /// Removes the temporary files of processes that no longer exist: what
    /// a writer killed between create and rename leaves behind.
    pub fn sweep_temporaries(&self) -> io::Result<()> {
        for name in self.names()? {
            let Some(pid) = temp_owner(&name) else {
                continue;
            };
            let alive = rustix::process::Pid::from_raw(pid)
                .is_some_and(|pid| rustix::process::test_kill_process(pid).is_ok());
            if !alive {
                let _ = rustix::fs::unlinkat(&self.fd, &name, AtFlags::empty());
            }
        }
        Ok(())
    }

    fn temp_name(&self, name: &str) -> String {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        format!(".{name}.{}.{n}{TEMP_SUFFIX}", std::process::id())
    }

    fn error(&self, name: &str, error: io::Error) -> io::Error {
        refused(&self.path.join(name), error)
    }
}

/// The process id in a temporary file name made by [`PrivateDir`].
fn temp_owner(name: &str) -> Option<i32> {
    let inner = name.strip_prefix('.')?.strip_suffix(TEMP_SUFFIX)?;
    let mut parts = inner.rsplitn(3, '.');
    let _counter: u64 = parts.next()?.parse().ok()?;
    parts.next()?.parse().ok()
}

/// Names the path, and says plainly when the cause is a symbolic link.
fn refused(path: &Path, error: io::Error) -> io::Error {
    let link = std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink());
    let reason = if link {
        "is a symbolic link; corral does not follow links for its own files".to_string()
    } else {
        error.to_string()
    };
    io::Error::new(error.kind(), format!("{}: {reason}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_files_and_refuses_planted_links() {
        let root = tempfile::tempdir().unwrap();
        let outside = root.path().join("outside");
        std::fs::write(&outside, "keep").unwrap();
        let dir = PrivateDir::create(&root.path().join("state")).unwrap();
        dir.write_atomically("result", b"one").unwrap();
        dir.write_atomically("result", b"two").unwrap();
        assert_eq!(dir.read("result").unwrap().as_deref(), Some("two"));

        std::os::unix::fs::symlink(&outside, dir.path().join("planted")).unwrap();
        assert!(dir.read("planted").is_err(), "a link is not followed");
        dir.replace("planted", b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep");

        std::os::unix::fs::symlink(root.path(), dir.path().join("sub")).unwrap();
        let error = dir.subdir("sub").unwrap_err();
        assert!(error.to_string().contains("symbolic link"), "{error}");
    }

    #[test]
    fn temporaries_of_dead_processes_are_swept() {
        let root = tempfile::tempdir().unwrap();
        let dir = PrivateDir::create(root.path()).unwrap();
        // A pid that cannot exist (above the kernel's pid_max limit).
        let dead = ".result.99999999.0.tmp";
        let mine = format!(".result.{}.7.tmp", std::process::id());
        std::fs::write(root.path().join(dead), "torn").unwrap();
        std::fs::write(root.path().join(&mine), "in progress").unwrap();
        dir.sweep_temporaries().unwrap();
        let mut names = dir.names().unwrap();
        names.sort();
        assert_eq!(names, [mine]);
        assert_eq!(temp_owner(".a.b.12.3.tmp"), Some(12));
    }
}
