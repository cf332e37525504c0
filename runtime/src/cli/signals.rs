//! Signals during a run: cancel the run and say which signal ended it.

use super::exit::Exit;
use crate::run::cancel::Cancel;

/// Cancels the run on SIGINT or SIGTERM and says which arrived.
pub async fn cancel_on_signal(cancel: Cancel) -> Option<Exit> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).ok()?;
    let mut terminate = signal(SignalKind::terminate()).ok()?;
    let (exit, name) = tokio::select! {
        _ = interrupt.recv() => (Exit::Interrupted, "SIGINT"),
        _ = terminate.recv() => (Exit::Terminated, "SIGTERM"),
    };
    cancel.cancel(format!("run cancelled by {name}"));
    Some(exit)
}
