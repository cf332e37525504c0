//! Starting the server for a client that found none: a detached `corral
//! serve` (see [`crate::detached`]) that logs to `serve.log` in the
//! socket directory. Many clients may start one at once; the server's
//! lock lets exactly one of them serve, and the others exit at once.

use std::io;
use std::time::Duration;

use rustix::fs::{Mode, OFlags};

use crate::detached;
use crate::serve::socket_dir::SocketDir;

/// The log of the auto-started server, emptied by the server that wins
/// the start (appended to, so the losers of a race leave it alone).
const LOG: &str = "serve.log";

/// Starts a server for `dir` that exits after `idle` without clients.
pub fn start(dir: &SocketDir, idle: Duration) -> io::Result<u32> {
    let log = rustix::fs::open(
        dir.path().join(LOG),
        OFlags::WRONLY | OFlags::CREATE | OFlags::APPEND | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::RUSR | Mode::WUSR,
    )
    .map(std::fs::File::from)
    .ok();
    let idle = idle.as_secs().to_string();
    detached::spawn(["serve", "--quiet-if-running", "--idle-exit", &idle], log)
}
