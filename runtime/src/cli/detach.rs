//! `corral run --detach`: the shell gets its prompt back at once while the
//! run finishes in a new session, detached from the terminal, writing its
//! events to a file.
//!
//! Each detached run gets its own event file (see `run::event_files`),
//! created by the parent, so a mistake is reported to the shell.

use std::ffi::OsString;
use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

use crate::detached;
use crate::fs::named;

/// Starts this same command again without `--detach` (events to
/// `events_file`, when given), detached (see [`crate::detached`]), and
/// returns without waiting for it.
pub fn spawn_detached(args: &[OsString], events_file: Option<&Path>) -> io::Result<u32> {
    let mut child_args: Vec<OsString> = args
        .iter()
        .skip(1)
        .filter(|arg| *arg != "--detach")
        .cloned()
        .collect();
    if let Some(file) = events_file {
        child_args.extend([OsString::from("--events"), file.as_os_str().to_owned()]);
    }
    detached::spawn(child_args, None)
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
}
