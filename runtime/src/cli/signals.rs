//! Signals during a run, as a mature runner handles them: SIGHUP (the
//! terminal closed), SIGINT (Ctrl-C) and SIGTERM cancel the run, so every
//! started task ends `_fail reason=cancelled`, the summary is written and
//! the exit code names the signal (128 + its number). A second signal
//! while the run winds down exits at once with the same code.

use tokio::signal::unix::{Signal, SignalKind, signal};

use super::exit::Exit;
use crate::run::cancel::Cancel;

/// The run's signal handlers, installed.
pub struct Listeners {
    hangup: Signal,
    interrupt: Signal,
    terminate: Signal,
}

impl Listeners {
    /// Installs the handlers now, before any task starts, so that a signal
    /// that arrives at once is never the default (fatal) one. Call inside
    /// the executor; `None` if a handler could not be installed.
    pub fn install() -> Option<Listeners> {
        Some(Listeners {
            hangup: signal(SignalKind::hangup()).ok()?,
            interrupt: signal(SignalKind::interrupt()).ok()?,
            terminate: signal(SignalKind::terminate()).ok()?,
        })
    }

    /// Cancels the run on the first signal and says which arrived.
    pub async fn cancel_on_signal(mut self, cancel: Cancel) -> Exit {
        let (exit, name) = tokio::select! {
            _ = self.hangup.recv() => (Exit::Hangup, "SIGHUP"),
            _ = self.interrupt.recv() => (Exit::Interrupted, "SIGINT"),
            _ = self.terminate.recv() => (Exit::Terminated, "SIGTERM"),
        };
        cancel.cancel(format!("run cancelled by {name}"));
        tokio::spawn(async move {
            tokio::select! {
                _ = self.hangup.recv() => {}
                _ = self.interrupt.recv() => {}
                _ = self.terminate.recv() => {}
            }
            eprintln!("corral: second signal: exiting without waiting for the run to wind down");
            std::process::exit(exit as i32);
        });
        exit
    }
}
