//! Views: a run's events made readable for people.
//!
//! Owns the fold of typed events into task statuses (`run_view`), the live
//! status line of `corral run`, the `corral watch` terminal view and the
//! `corral report` SVG timeline. Views read events only through the
//! `events` decoder; they must not import the run, the sandbox or the
//! command line.

pub mod report;
pub mod run_view;
pub mod status_line;
pub mod watch;
