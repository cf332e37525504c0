//! Reading `.git/index` into memory and decoding it with gix-index.
//!
//! `gix_index::File::at` memory-maps the file, which WASI cannot do (see
//! `objects.rs`); the decoder itself takes bytes, so we read them.

use gix::index::{File, State, decode};

use crate::Error;

/// The work tree's index, or an empty one if it does not exist yet.
pub fn read(repo: &gix::Repository) -> Result<File, Error> {
    let path = repo.index_path();
    let failed = |err: &dyn std::fmt::Display| Error::Failed(format!("{}: {err}", path.display()));
    let (bytes, mtime) = match std::fs::read(&path) {
        Ok(bytes) => {
            // filetime's `from_last_modification_time` is `unimplemented!()`
            // on wasm; std's `modified()` works everywhere.
            let mtime = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .map_err(|e| failed(&e))?;
            (bytes, filetime::FileTime::from_system_time(mtime))
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Ok(File::from_state(State::new(repo.object_hash()), path));
        }
        Err(err) => return Err(failed(&err)),
    };
    // The index's own mtime is the racy-git reference point: entries
    // modified in or after that second are hashed, not trusted.
    let (state, _checksum) = State::from_bytes(
        &bytes,
        mtime,
        repo.object_hash(),
        decode::Options::default(),
    )
    .map_err(|e| failed(&e))?;
    if state.link().is_some() {
        return Err(failed(&"split indexes (core.splitIndex) are not supported"));
    }
    Ok(File::from_state(state, path))
}
