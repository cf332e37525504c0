//! corral: run shell start-up work as sandboxed WebAssembly components.
//!
//! Data flows one way: [`Manifest`] -> [`Plan`] -> scheduler -> sandbox ->
//! events -> exit code. The binary is a thin wrapper around [`Cli`].

mod ack;
mod audit;
mod bindings;
mod cache;
mod cancel;
mod capture;
mod cli;
mod controls;
mod detach;
mod durable;
mod engine;
mod events;
mod host;
mod limits;
mod lock;
mod manifest;
mod outcome;
mod plan;
mod policy;
mod progress;
mod report;
mod results;
mod run_view;
mod sandbox;
mod scheduler;
mod shadow;
mod shell_init;
mod watch;
mod watchdog;

pub use cli::{Cli, CliError, Exit};
pub use engine::{Compiled, Runtime};
pub use events::{Event, EventFormat, Mode, Summary};
pub use manifest::{Diagnostic, Manifest, ManifestError, Task};
pub use outcome::{FailReason, Failure};
pub use plan::Plan;
