//! How a command ends: typed errors, and the one mapping from them to the
//! exit codes of the command-line contract.

use crate::manifest::ManifestError;
use crate::plan::UnknownTask;
use crate::review::policy::PolicyError;

/// How the process exits; the numbers are part of the command-line contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Every started task finished `_done`.
    Success = 0,
    /// Some task failed or timed out.
    TaskFailed = 1,
    /// Usage or manifest error.
    Usage = 2,
    /// Integrity or policy refusal.
    Refused = 3,
    /// corral itself could not do its work: an I/O or system error on its
    /// own files (state, results, cache) or processes, not a task's failure.
    Internal = 4,
    /// Cancelled by SIGHUP: the terminal went away.
    Hangup = 129,
    /// Cancelled by SIGINT.
    Interrupted = 130,
    /// Cancelled by SIGTERM.
    Terminated = 143,
}

/// An error that ends a command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    UnknownTask(#[from] UnknownTask),
    /// The command line asks for something that cannot be done as asked.
    #[error("{0}")]
    Usage(String),
    /// A pin, `--locked` or `require_ack` refuses the run.
    #[error("{0}")]
    Refused(String),
    /// A task's component or build failed, as a run of it would.
    #[error("{0}")]
    TaskFailed(String),
    /// corral's own I/O or system call failed.
    #[error("{context}: {source}")]
    Internal {
        context: String,
        #[source]
        source: anyhow::Error,
    },
}

impl From<PolicyError> for CliError {
    fn from(error: PolicyError) -> CliError {
        match error {
            PolicyError::Refused(message) => CliError::Refused(message),
            PolicyError::Unreadable(error) => {
                CliError::internal("cannot read the acknowledgement", error)
            }
        }
    }
}

impl CliError {
    /// An internal error, saying what corral was doing.
    pub fn internal(context: impl Into<String>, source: impl Into<anyhow::Error>) -> CliError {
        CliError::Internal {
            context: context.into(),
            source: source.into(),
        }
    }

    pub fn exit(&self) -> Exit {
        match self {
            CliError::Manifest(_) | CliError::UnknownTask(_) | CliError::Usage(_) => Exit::Usage,
            CliError::Refused(_) => Exit::Refused,
            CliError::TaskFailed(_) => Exit::TaskFailed,
            CliError::Internal { .. } => Exit::Internal,
        }
    }
}
