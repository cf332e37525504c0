//! Errors reading the repository's object files, as gix reports them, with
//! the file they concern: loose objects and packs both produce them.

use std::path::Path;

pub(crate) fn io_error(path: &Path, err: std::io::Error) -> gix::Error {
    let err = std::io::Error::new(err.kind(), format!("{}: {err}", path.display()));
    gix::Error::from_error(err)
}

/// Data that does not decode: a truncated or corrupt file.
pub(crate) fn corrupt(path: &Path, what: &str) -> gix::Error {
    io_error(
        path,
        std::io::Error::new(std::io::ErrorKind::InvalidData, what),
    )
}
