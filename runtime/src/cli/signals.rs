//! Signals during a run, as a mature runner handles them: SIGHUP (the
//! terminal closed), SIGINT (Ctrl-C) and SIGTERM cancel the run, so every
//! started task ends `_fail reason=cancelled`, the summary is written and
//! the exit code names the signal (128 + its number). A second signal
//! while the run winds down exits at once with the same code.

use super::exit::Exit;
use crate::run::cancel::Cancel;

/// Cancels the run on the first signal and says which arrived; `None` if
/// no handler could be installed.
pub async fn cancel_on_signal(cancel: Cancel) -> Option<Exit> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangup = signal(SignalKind::hangup()).ok()?;
    let mut interrupt = signal(SignalKind::interrupt()).ok()?;
    let mut terminate = signal(SignalKind::terminate()).ok()?;
    let (exit, name) = tokio::select! {
        _ = hangup.recv() => (Exit::Hangup, "SIGHUP"),
        _ = interrupt.recv() => (Exit::Interrupted, "SIGINT"),
        _ = terminate.recv() => (Exit::Terminated, "SIGTERM"),
    };
    cancel.cancel(format!("run cancelled by {name}"));
    tokio::spawn(async move {
        tokio::select! {
            _ = hangup.recv() => {}
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        eprintln!("corral: second signal: exiting without waiting for the run to wind down");
        std::process::exit(exit as i32);
    });
    Some(exit)
}
