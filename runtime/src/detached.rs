//! Starting a copy of this binary that outlives its starter: a detached
//! `corral run`, or a server started by its first client. The copy runs
//! in a new session with no terminal and standard input and output on
//! `/dev/null`, so neither a closing terminal (SIGHUP), Ctrl-C, nor a
//! caller waiting for its pipes to close (a test harness, `$(...)` in a
//! prompt) is tied to it.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::process::{Command, Stdio};

/// Tells the child that it is the detached half, so it starts a session.
const DETACHED_ENV: &str = "CORRAL_DETACHED_CHILD";

/// Starts this binary with `args`, detached, and returns its pid without
/// waiting for it; its stderr goes to `log`, else to `/dev/null`. The
/// child leaves the session itself ([`leave_session_if_detached`]), so
/// spawning needs no `pre_exec` and uses the fast `posix_spawn` path.
pub fn spawn<I, S>(args: I, log: Option<File>) -> io::Result<u32>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = Command::new(std::env::current_exe()?);
    command
        .args(args)
        .env(DETACHED_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log.map_or_else(Stdio::null, Stdio::from));
    Ok(command.spawn()?.id())
}

/// In the detached child: start a new session, so closing the terminal
/// (SIGHUP) or Ctrl-C in it never reaches the child.
pub fn leave_session_if_detached() {
    if std::env::var_os(DETACHED_ENV).is_some() {
        // SAFETY: called before corral starts any thread; the variable only steers
        // this process and is not passed on to guests (their environment
        // is exactly the manifest's).
        unsafe { std::env::remove_var(DETACHED_ENV) };
        let _ = rustix::process::setsid();
    }
}
