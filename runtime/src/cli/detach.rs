//! `corral run --detach`: the shell gets its prompt back at once while the
//! run finishes in a new session, detached from the terminal, writing its
//! events to a file.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

/// Where a detached run writes its events unless `--events PATH` says.
pub const DEFAULT_EVENTS_FILE: &str = "last-run.events";

/// Starts this same command again without `--detach`, in its own session
/// with no terminal, and returns without waiting for it.
pub fn spawn_detached(args: &[OsString], events_file: Option<&Path>) -> std::io::Result<u32> {
    let mut command = Command::new(std::env::current_exe()?);
    command.args(args.iter().skip(1).filter(|arg| *arg != "--detach"));
    if let Some(file) = events_file {
        command.arg("--events").arg(file);
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: setsid is async-signal-safe and touches no memory of ours.
    unsafe {
        command.pre_exec(|| rustix::process::setsid().map(drop).map_err(Into::into));
    }
    Ok(command.spawn()?.id())
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
}
