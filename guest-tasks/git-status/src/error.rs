//! The two ways a status computation fails, matching the WIT `failure`
//! variant: bad input is never retried, anything else may be.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The argument is not the top of a git work tree, or the environment
    /// holds a malformed setting.
    InvalidInput(String),
    /// Reading the repository failed (I/O, corrupt data, unsupported format).
    Failed(String),
}

impl Error {
    /// Wraps any displayable error with what was being done.
    pub(crate) fn failed<E: fmt::Display>(context: &str) -> impl FnOnce(E) -> Error + '_ {
        move |err| Error::Failed(format!("{context}: {err}"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidInput(m) | Error::Failed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}
