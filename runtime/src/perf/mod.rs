//! The perf guard: what `corral bench` makes of its samples.
//!
//! Owns the statistics (trimmed median, relative spread), the capture of a
//! bench run (its JSON is also the baseline format), budget verdicts, the
//! comparison with a baseline, findings and what the `[perf]` mode does
//! with them, and the table for people. Pure functions over numbers: it
//! reads the manifest's policy and budgets; it must not import the run,
//! the sandbox, the events, the views or the command line.

mod baseline;
mod budget;
mod capture;
mod figures;
mod stats;
mod table;
mod verdict;

pub use capture::{Capture, Sample, SampleTask};
pub use table::render;
pub use verdict::decide;
