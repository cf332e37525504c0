//! Views: a run's events made readable for people.
//!
//! Owns the fold of typed events into task statuses (`run_view`), the live
//! status line of `corral run`, the `corral watch` terminal view and the
//! `corral report` SVG timeline. Views read event files through the
//! `events` decoder, and the live status line takes typed events as the
//! writer's `Overlay`; they must not import the run, the sandbox or the
//! command line.

pub mod report;
pub mod run_view;
pub mod status_line;
pub mod watch;
