//! Where runs that nobody watches write their events: each its own file,
//! `STATE_DIR/runs/<ms>-<pid>-<n>.events`, created with `O_EXCL` (so
//! simultaneous shells and the server never share one), and
//! `STATE_DIR/last-run.events`, a link to the newest, replaced atomically;
//! `corral watch` and `corral report` read through it. The newest
//! [`KEEP_RUNS`] files are kept, pruned in the background ([`prune_runs`]).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use rustix::fs::OFlags;

use crate::events::{EventFormat, EventTarget, EventWriter, Events, RunTags};
use crate::fs::private_dir::PrivateDir;
use crate::manifest::Manifest;
use crate::mode::Mode;
use crate::run::pipeline;

/// The link to the newest detached run's events, in the state directory.
pub const DEFAULT_EVENTS_FILE: &str = "last-run.events";
/// Where each detached run's events go, in the state directory.
const RUNS_DIR: &str = "runs";
/// Event files of earlier detached runs kept for `watch` and `report`.
const KEEP_RUNS: usize = 20;

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
    Ok(runs.path().join(name))
}

/// Removes all but the newest [`KEEP_RUNS`] event files. It reads the
/// whole directory, so it is called by runs in the background (the
/// detached child, the server), never where a shell waits.
pub fn prune_runs(state: &PrivateDir) -> io::Result<()> {
    let runs = state.subdir(RUNS_DIR)?;
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
    Ok(())
}

/// [`prune_runs`] in the state directory at `state_dir`.
pub fn prune_runs_in(state_dir: &Path) -> io::Result<()> {
    prune_runs(&PrivateDir::open(state_dir)?)
}

/// A new events file of `manifest`'s (as [`new_run_events_file`]; the
/// caller prunes, once nobody waits), open for segment lines of a run in
/// mode `on` whose times count from `start`: the server's runs and notes.
pub fn open_run_events(
    manifest: &Manifest,
    start: std::time::Instant,
) -> Result<(Events, EventWriter), String> {
    let state = pipeline::open_state_dir(manifest).map_err(|error| error.to_string())?;
    let path = new_run_events_file(&state).map_err(|error| error.to_string())?;
    let tags = RunTags {
        phase: manifest.runtime.phase.to_string(),
        mode: Mode::On,
    };
    Events::open(
        &EventTarget::File(path),
        EventFormat::Segment,
        tags,
        start,
        None,
    )
    .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let count = || {
            std::fs::read_dir(root.path().join(RUNS_DIR))
                .unwrap()
                .count()
        };
        assert_eq!(count(), KEEP_RUNS + 3, "making a file prunes nothing");
        prune_runs(&state).unwrap();
        assert_eq!(count(), KEEP_RUNS);
        assert!(newest.exists(), "the newest are kept");
    }
}
