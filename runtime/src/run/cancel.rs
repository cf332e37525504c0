//! Cancelling a run: by a signal or by the watchdog. Running tasks end
//! `_fail reason=cancelled` with the cause; queued tasks never start.

use std::sync::{Arc, OnceLock};

use tokio_util::sync::CancellationToken;

#[derive(Clone, Default)]
pub struct Cancel {
    token: CancellationToken,
    cause: Arc<OnceLock<String>>,
}

impl Cancel {
    /// Cancels the run; the first cause given is the one reported.
    pub fn cancel(&self, cause: impl Into<String>) {
        let _ = self.cause.set(cause.into());
        self.token.cancel();
    }

    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Resolves once the run is cancelled, with the cause.
    pub async fn cancelled(&self) -> String {
        self.token.cancelled().await;
        self.cause.get().cloned().unwrap_or_default()
    }
}
