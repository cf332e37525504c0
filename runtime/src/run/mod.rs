//! A run: the plan's tasks through the queue into the sandbox, one terminal
//! event each.
//!
//! Owns the pipeline of one run (state directories, scheduler, summary),
//! the queue (priority order, global and class caps), the scheduler
//! that drives it, retries, the watchdog, cancellation, shadow copies, the
//! test controls and the result store. It must not import the views, the server
//! or the command line; how a run ends becomes an exit code only in `cli`.

pub mod cancel;
mod components;
pub mod controls;
pub mod event_files;
pub mod pipeline;
pub mod queue;
pub mod results;
mod retry;
pub mod scheduler;
mod shadow;
mod task_lock;
pub mod watchdog;
