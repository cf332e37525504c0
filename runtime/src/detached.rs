//! Starting a copy of this binary that outlives its starter: a detached
//! `corral run`, or a server started by its first client. The copy runs
//! in a new session with no terminal and standard input and output on
//! `/dev/null`, so neither a closing terminal (SIGHUP), Ctrl-C, nor a
//! caller waiting for its pipes to close (a test harness, `$(...)` in a
//! prompt) is tied to it; and it closes whatever else it inherited.

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
/// (SIGHUP) or Ctrl-C in it never reaches the child. Returns whether this
/// process is one.
pub fn leave_session_if_detached() -> bool {
    let detached = std::env::var_os(DETACHED_ENV).is_some();
    if detached {
        // SAFETY: called before corral starts any thread; the variable only steers
        // this process and is not passed on to guests (their environment
        // is exactly the manifest's).
        unsafe { std::env::remove_var(DETACHED_ENV) };
        let _ = rustix::process::setsid();
        close_inherited_descriptors();
    }
    detached
}

/// Closes every descriptor above stderr that this process inherited (a
/// shell's fd 7, a test harness's pipe): a detached run or a server must
/// not keep its starter's pipes or locks open while it lasts.
pub fn close_inherited_descriptors() {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return;
    };
    let fds: Vec<i32> = entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
        .filter(|&fd| fd > 2)
        .collect();
    for fd in fds {
        // SAFETY: called first thing, before this process opens anything
        // it keeps, so no owner of these descriptors exists in this
        // process; the listing's own descriptor, closed already, is skipped.
        unsafe {
            if rustix::io::fcntl_getfd(std::os::fd::BorrowedFd::borrow_raw(fd)).is_ok() {
                rustix::io::close(fd);
            }
        }
    }
}
