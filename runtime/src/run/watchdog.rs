//! The watchdog: a run that makes no progress for three times its longest
//! task timeout is stuck in the host, not in a guest (guests are bounded by
//! their own timeouts). It is cancelled, and a sentinel in `state_dir` turns
//! later runs off until someone looks and runs `corral enable`.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::fs::private_dir::PrivateDir;
use crate::manifest::Task;

const SENTINEL: &str = "watchdog.tripped";

/// Three times the longest timeout among `tasks`.
pub fn stall_limit(tasks: &[Task]) -> Duration {
    let longest = tasks.iter().map(Task::timeout).max().unwrap_or_default();
    longest.saturating_mul(3).max(Duration::from_millis(1))
}

pub fn sentinel_path(state_dir: &Path) -> PathBuf {
    state_dir.join(SENTINEL)
}

/// Writes the sentinel, saying when and which tasks were stuck.
pub fn trip(state_dir: &Path, limit: Duration, tasks: &[String]) -> io::Result<()> {
    let state = PrivateDir::create(state_dir)?;
    let at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let text = format!(
        "tripped_at_unix={at} stalled_ms={} tasks={}\n",
        limit.as_millis(),
        tasks.join(",")
    );
    state.write_atomically(SENTINEL, text.as_bytes())
}

/// The sentinel's content, if the watchdog has tripped.
pub fn tripped(state_dir: &Path) -> Option<String> {
    std::fs::read_to_string(sentinel_path(state_dir)).ok()
}

/// Removes the sentinel; returns whether there was one.
pub fn enable(state_dir: &Path) -> io::Result<bool> {
    match std::fs::remove_file(sentinel_path(state_dir)) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(error),
    }
}
