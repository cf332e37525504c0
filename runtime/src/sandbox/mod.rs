//! The sandbox: one attempt of one task inside wasmtime.
//!
//! Owns the engine and its epoch clock, the compiled-component cache, the
//! store data and its limits, the host imports, the capture of guest
//! stdout/stderr, the grants that become the WASI context, and the
//! classification of an attempt's outcome into a `reason=`. It reports
//! through `events` and reads task budgets from `manifest`; it must not
//! import the run (queue, retries, results), the views or the command line.

pub mod attempt;
pub mod bindings;
mod cache;
mod capture;
pub mod engine;
mod files;
pub mod host;
pub mod incremental;
mod limits;
pub mod local_fs;
pub mod policy;
mod snapshot;
pub mod task_state;
pub mod warm;

pub use engine::{Compiled, Compiling, Runtime};
pub use snapshot::MAX_FILE_BYTES;
pub use warm::Linked;
