//! `corral run --detach`: the shell gets its prompt back at once while the
//! run finishes in a new session, detached from the terminal, writing its
//! events to a file.
//!
//! Each detached run gets its own event file, `STATE_DIR/runs/<ms>-<pid>.events`,
//! created by the parent with `O_EXCL` (so simultaneous shells never share
//! one), and `STATE_DIR/last-run.events` is a link to the newest, replaced
//! atomically; `corral watch` and `corral report` read through it. The
//! newest [`KEEP_RUNS`] files are kept.

use std::ffi::OsString;
use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use rustix::fs::OFlags;

use crate::fs::named;
use crate::fs::private_dir::PrivateDir;

/// The link to the newest detached run's events, in the state directory.
pub const DEFAULT_EVENTS_FILE: &str = "last-run.events";
/// Where each detached run's events go, in the state directory.
const RUNS_DIR: &str = "runs";
/// Event files of earlier detached runs kept for `watch` and `report`.
const KEEP_RUNS: usize = 20;
/// Tells the child that it is the detached half, so it starts a session.
pub const DETACHED_ENV: &str = "CORRAL_DETACHED_CHILD";

/// Starts this same command again without `--detach`, with no terminal,
/// and returns without waiting for it. The child leaves the terminal's
/// session itself (see [`leave_session_if_detached`]), so spawning needs
/// no `pre_exec` and uses the fast `posix_spawn` path.
pub fn spawn_detached(args: &[OsString], events_file: Option<&Path>) -> io::Result<u32> {
    let mut command = Command::new(std::env::current_exe()?);
    command.args(args.iter().skip(1).filter(|arg| *arg != "--detach"));
    if let Some(file) = events_file {
        command.arg("--events").arg(file);
    }
    command
        .env(DETACHED_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Ok(command.spawn()?.id())
}

/// In the detached child: start a new session, so closing the terminal
/// (SIGHUP) or Ctrl-C in it never reaches the run.
pub fn leave_session_if_detached() {
    if std::env::var_os(DETACHED_ENV).is_some() {
        // SAFETY: called before corral starts any thread; the variable only steers
        // this process and is not passed on to guests (their environment
        // is exactly the manifest's).
        unsafe { std::env::remove_var(DETACHED_ENV) };
        let _ = rustix::process::setsid();
    }
}

/// Creates a new event file for a detached run, points `last-run.events`
/// at it and prunes old ones; returns its path.
pub fn new_run_events_file(state: &PrivateDir) -> io::Result<PathBuf> {
    let runs = state.subdir(RUNS_DIR)?;
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = format!("{millis:016}-{}-{n}.events", std::process::id());
    runs.open_file(&name, OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL)?;
    state.replace_symlink(DEFAULT_EVENTS_FILE, &format!("{RUNS_DIR}/{name}"))?;
    let mut names: Vec<String> = runs
        .names()?
        .into_iter()
        .filter(|name| name.ends_with(".events"))
        .collect();
    names.sort();
    let excess = names.len().saturating_sub(KEEP_RUNS);
    for old in &names[..excess] {
        runs.remove(old)?;
    }
    Ok(runs.path().join(name))
}

/// Checks that a named event file can be written, without disturbing a
/// FIFO's reader (a FIFO is opened by the detached run itself).
pub fn check_events_file(path: &Path) -> io::Result<()> {
    let pipe = std::fs::symlink_metadata(path)
        .is_ok_and(|meta| meta.file_type().is_fifo() || meta.file_type().is_char_device());
    if !pipe {
        named::open_for_writing(path, named::FIFO_OPEN_TIMEOUT)?;
    }
    Ok(())
}

/// Drops `--events VALUE` and `--events=VALUE` from a command line, so the
/// detached run can be given its own event file.
pub fn without_events_arg(args: Vec<OsString>) -> Vec<OsString> {
    let mut kept = Vec::with_capacity(args.len());
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "--events" {
            args.next();
        } else if !arg.to_string_lossy().starts_with("--events=") {
            kept.push(arg);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_only_the_events_argument() {
        let args = [
            "corral",
            "run",
            "--events",
            "-",
            "--only",
            "a",
            "--events=x",
            "--mode",
            "on",
        ]
        .map(OsString::from)
        .to_vec();
        assert_eq!(
            without_events_arg(args),
            ["corral", "run", "--only", "a", "--mode", "on"].map(OsString::from)
        );
    }

    #[test]
    fn each_run_gets_its_own_file_and_the_link_follows_the_newest() {
        let root = tempfile::tempdir().unwrap();
        let state = PrivateDir::create(root.path()).unwrap();
        let files: Vec<PathBuf> = (0..KEEP_RUNS + 3)
            .map(|_| new_run_events_file(&state).unwrap())
            .collect();
        let newest = files.last().unwrap();
        assert_eq!(
            std::fs::canonicalize(root.path().join(DEFAULT_EVENTS_FILE)).unwrap(),
            std::fs::canonicalize(newest).unwrap()
        );
        let kept = std::fs::read_dir(root.path().join(RUNS_DIR))
            .unwrap()
            .count();
        assert_eq!(kept, KEEP_RUNS);
    }
}
