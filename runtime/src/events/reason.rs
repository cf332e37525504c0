//! How a task ends: the `reason=` vocabulary of `_fail` events.

use std::fmt;

/// Why a task failed. The names are part of the event contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailReason {
    /// Wall-clock budget (`timeout_ms`) exceeded, in wasm or in a host call.
    Timeout,
    /// CPU budget (`fuel`) exhausted.
    Fuel,
    /// A memory or table limit refused growth.
    Memory,
    /// The guest trapped, panicked or exited.
    Trap,
    /// The guest overflowed its stack.
    Stack,
    /// The guest returned `failure::error`.
    Error,
    /// The guest returned `failure::invalid-input`.
    InvalidInput,
    /// The host refused something the task asked for.
    Denied,
    /// The component does not match its sha256 pin.
    Integrity,
    /// The component could not be read, compiled or instantiated.
    Load,
    /// The run was cancelled (signal or watchdog) before the task finished.
    Cancelled,
}

impl FailReason {
    const ALL: [FailReason; 11] = [
        FailReason::Timeout,
        FailReason::Fuel,
        FailReason::Memory,
        FailReason::Trap,
        FailReason::Stack,
        FailReason::Error,
        FailReason::InvalidInput,
        FailReason::Denied,
        FailReason::Integrity,
        FailReason::Load,
        FailReason::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailReason::Timeout => "timeout",
            FailReason::Fuel => "fuel",
            FailReason::Memory => "memory",
            FailReason::Trap => "trap",
            FailReason::Stack => "stack",
            FailReason::Error => "error",
            FailReason::InvalidInput => "invalid_input",
            FailReason::Denied => "denied",
            FailReason::Integrity => "integrity",
            FailReason::Load => "load",
            FailReason::Cancelled => "cancelled",
        }
    }

    /// Whether another attempt could succeed where this one failed.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            FailReason::Error | FailReason::Timeout | FailReason::Trap
        )
    }
}

impl std::str::FromStr for FailReason {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        FailReason::ALL
            .into_iter()
            .find(|reason| reason.as_str() == text)
            .ok_or_else(|| format!("unknown reason {text:?}"))
    }
}

impl fmt::Display for FailReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed attempt: its reason and a human-readable explanation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub reason: FailReason,
    pub message: String,
}

impl Failure {
    pub fn new(reason: FailReason, message: impl Into<String>) -> Self {
        Failure {
            reason,
            message: message.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason, self.message)
    }
}
