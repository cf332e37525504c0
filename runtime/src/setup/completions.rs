//! Which shell completion directories this machine has, as the shells
//! report them.
//!
//! The directories differ between distributions, package managers and
//! plugin managers, so zsh is asked for its `$fpath` and fish for its
//! `$fish_complete_path`; bash-completion has no such variable, so its
//! documented directories are checked, plus the one its `pkg-config` file
//! names. Only directories that exist are kept, each once: a directory
//! inside another kept one is dropped, since the scan walks subdirectories
//! and would otherwise index the same files twice.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::user_dirs::UserDirs;

/// A shell that reads completion definitions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CompletionShell {
    Zsh,
    Bash,
    Fish,
}

impl CompletionShell {
    pub fn as_str(self) -> &'static str {
        match self {
            CompletionShell::Zsh => "zsh",
            CompletionShell::Bash => "bash",
            CompletionShell::Fish => "fish",
        }
    }
}

/// One existing completion directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompletionDir {
    pub shell: CompletionShell,
    /// As reported (not resolved), so the manifest shows the familiar name.
    pub path: PathBuf,
}

/// A shell that does not answer in this long is treated as absent: its
/// start-up files are not read, so it should answer in milliseconds.
const SHELL_TIMEOUT: Duration = Duration::from_secs(5);

/// Every existing completion directory of zsh, bash and fish, in that order
/// and each shell's own order, without duplicates or nested repeats.
pub fn completion_dirs(dirs: &UserDirs) -> Vec<CompletionDir> {
    let mut found = Vec::new();
    let mut add = |shell, paths: Vec<PathBuf>| {
        found.extend(paths.into_iter().map(|path| CompletionDir { shell, path }));
    };
    // -f: no start-up files, so only zsh's own (compiled-in) $fpath.
    add(
        CompletionShell::Zsh,
        ask("zsh", &["-fc", "print -rl -- $fpath"]),
    );
    let mut bash = vec![
        PathBuf::from("/usr/share/bash-completion/completions"),
        dirs.data_home.join("bash-completion/completions"),
    ];
    bash.extend(ask(
        "pkg-config",
        &["--variable=completionsdir", "bash-completion"],
    ));
    add(CompletionShell::Bash, bash);
    // --no-config skips the user's config.fish; fish's own share/config.fish
    // is what sets $fish_complete_path, so it alone is sourced.
    add(
        CompletionShell::Fish,
        ask(
            "fish",
            &[
                "--no-config",
                "-c",
                "source $__fish_data_dir/config.fish; printf '%s\\n' $fish_complete_path",
            ],
        ),
    );
    keep_existing_outermost(found)
}

/// The lines a command prints that are absolute paths; nothing if it is
/// not installed, fails or hangs.
fn ask(program: &str, args: &[&str]) -> Vec<PathBuf> {
    ask_lines(program, args)
        .iter()
        .map(|line| line.trim())
        .filter(|line| line.starts_with('/'))
        .map(PathBuf::from)
        .collect()
}

/// The lines a command prints; nothing if it is not installed, fails or
/// hangs.
pub(super) fn ask_lines(program: &str, args: &[&str]) -> Vec<String> {
    let Ok(mut child) = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        return Vec::new();
    };
    let started = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => break,
            Ok(None) if started.elapsed() < SHELL_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Vec::new();
            }
            _ => return Vec::new(),
        }
    }
    let mut text = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = std::io::Read::read_to_string(&mut stdout, &mut text);
    }
    text.lines().map(str::to_string).collect()
}

/// Keeps the directories that exist, each once, dropping any that lies
/// inside another kept one (judged on resolved paths).
fn keep_existing_outermost(found: Vec<CompletionDir>) -> Vec<CompletionDir> {
    let resolved: Vec<(CompletionDir, PathBuf)> = found
        .into_iter()
        .filter_map(|dir| {
            let real = std::fs::canonicalize(&dir.path).ok()?;
            real.is_dir().then_some((dir, real))
        })
        .collect();
    let inside_another = |i: usize, real: &Path| {
        resolved.iter().enumerate().any(|(j, (_, other))| {
            (real != other && real.starts_with(other)) || (real == other && j < i)
        })
    };
    resolved
        .iter()
        .enumerate()
        .filter(|(i, (_, real))| !inside_another(*i, real))
        .map(|(_, (dir, _))| dir.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_and_repeated_directories_are_kept_once() {
        let root = tempfile::tempdir().unwrap();
        let outer = root.path().join("Completion");
        let inner = outer.join("Unix");
        std::fs::create_dir_all(&inner).unwrap();
        let dir = |shell, path: &Path| CompletionDir {
            shell,
            path: path.to_path_buf(),
        };
        let kept = keep_existing_outermost(vec![
            dir(CompletionShell::Zsh, &inner),
            dir(CompletionShell::Zsh, &outer),
            dir(CompletionShell::Bash, &outer),
            dir(CompletionShell::Fish, &root.path().join("missing")),
        ]);
        assert_eq!(kept, vec![dir(CompletionShell::Zsh, &outer)]);
    }
}
