//! corral: run shell start-up work as sandboxed WebAssembly components.
//!
//! Data flows one way, one folder per stage:
//! `manifest` -> `plan` -> `run` -> `sandbox` -> `events` -> exit code (in
//! `cli`). Beside the pipeline, `views` read events back for people,
//! `review` serves auditors, `serve` is the per-user server that answers
//! clients from warm state through the same `run` pipeline, `perf` judges `corral bench`'s samples and
//! `setup` writes a user's manifest for the machine (`corral init`).
//! Each folder's module doc says what it owns and what it must not
//! import; the layering test (`tests/all/layering.rs`) states the allowed
//! imports once and fails on any other. The binary is a thin wrapper
//! around [`Cli`].

mod cli;
mod detached;
mod digest;
mod escape;
mod events;
mod fs;
mod manifest;
mod mode;
mod perf;
mod plan;
mod review;
mod run;
mod sandbox;
mod serve;
mod setup;
mod views;

pub use cli::{Cli, Exit};
pub use escape::escape;
pub use events::{
    DecodeError, Decoder, Event, FailReason, LogLevel, RawEvent, RunTags, Summary, parse_line,
};
pub use manifest::{Manifest, ManifestError};
pub use mode::Mode;
/// Fixed input in, text out, no clock: for the snapshot tests of the views
/// (`tests/all/views.rs`); not an interface to build on.
#[doc(hidden)]
pub use perf::{Capture as BenchCapture, render as render_bench_table};
pub use sandbox::Runtime;
#[doc(hidden)]
pub use views::status_line::status_line_of;
