//! Which of the user's start-up files exist: the files a shell runs at
//! every start, and the list of keys that may log in. Tampering with any of
//! them runs code (or lets someone in) silently, which is what the
//! integrity scan watches for.
//!
//! They are granted one by one (`[[task.file]]`): granting their directory,
//! the home directory, would show the task `~/.ssh`'s private keys too.

use std::path::PathBuf;

use super::user_dirs::UserDirs;
use crate::fs::system_tree::system_tree;
use crate::sandbox::MAX_FILE_BYTES;

/// An existing start-up file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartupFile {
    pub path: PathBuf,
    /// Where it really is, when it is a symlink (a dotfile manager's).
    pub target: Option<PathBuf>,
}

/// The start-up files found: those to watch, and those left out, each with
/// why (a link into `/proc`, `/sys` or `/dev`, or a file larger than a
/// granted file may be, which would fail every scan).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StartupFiles {
    pub watched: Vec<StartupFile>,
    pub skipped: Vec<(PathBuf, String)>,
}

/// The start-up files corral knows, relative to the home directory, except
/// fish's, which follows `$XDG_CONFIG_HOME`.
const HOME_FILES: &[&str] = &[
    ".zshenv",
    ".zprofile",
    ".zshrc",
    ".bashrc",
    ".bash_profile",
    ".profile",
    ".ssh/authorized_keys",
];

/// The start-up files that exist as regular files (a symlink to one counts:
/// dotfile managers link them into a checkout), sorted by path.
pub fn startup_files(dirs: &UserDirs) -> StartupFiles {
    let mut paths: Vec<PathBuf> = HOME_FILES
        .iter()
        .map(|relative| dirs.home.join(relative))
        .chain([dirs.config_home.join("fish/config.fish")])
        .collect();
    paths.sort();
    paths.dedup();
    let mut files = StartupFiles::default();
    for path in paths {
        let Ok(real) = std::fs::canonicalize(&path) else {
            continue;
        };
        if let Some(root) = system_tree(&real) {
            let why = format!("it leads to {}, inside {root}", real.display());
            files.skipped.push((path, why));
            continue;
        }
        let Ok(metadata) = std::fs::metadata(&real) else {
            continue;
        };
        if !metadata.is_file() {
            continue;
        }
        if metadata.len() > MAX_FILE_BYTES {
            let why = format!(
                "{} bytes, over the {MAX_FILE_BYTES}-byte bound on granted files",
                metadata.len()
            );
            files.skipped.push((path, why));
            continue;
        }
        let target = (real != path).then_some(real);
        files.watched.push(StartupFile { path, target });
    }
    files
}
