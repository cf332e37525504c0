//! Accepting a tamper check's current state: the `--rebaseline` argument,
//! which only `corral rebaseline ID` adds, for one run of one task.
//!
//! A check that accepted what it found at every run would check nothing,
//! so the argument is never part of a manifest as corral runs it; `corral
//! audit` flags a manifest that writes it into a task's `args`.

use crate::manifest::Manifest;

/// The argument that asks a task to accept the current state.
pub const REBASELINE_ARG: &str = "--rebaseline";

/// A copy of `manifest` in which task `id` gets [`REBASELINE_ARG`] before
/// its own args.
pub fn accepting(manifest: &Manifest, id: &str) -> Manifest {
    let mut accepting = manifest.clone();
    for task in accepting.tasks.iter_mut().filter(|task| *task.id == *id) {
        task.args.insert(0, REBASELINE_ARG.to_string());
    }
    accepting
}
