//! Which of the user's start-up files exist: the files a shell runs at
//! every start, and the list of keys that may log in. Tampering with any of
//! them runs code (or lets someone in) silently, which is what the
//! integrity scan watches for.
//!
//! They are granted one by one (`[[task.file]]`): granting their directory,
//! the home directory, would show the task `~/.ssh`'s private keys too.

use std::path::PathBuf;

use super::user_dirs::UserDirs;

/// An existing start-up file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartupFile {
    pub path: PathBuf,
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
pub fn startup_files(dirs: &UserDirs) -> Vec<StartupFile> {
    let mut files: Vec<PathBuf> = HOME_FILES
        .iter()
        .map(|relative| dirs.home.join(relative))
        .chain([dirs.config_home.join("fish/config.fish")])
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files.dedup();
    files.into_iter().map(|path| StartupFile { path }).collect()
}
