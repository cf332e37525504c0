//! `corral check`: the manifest, what it names on disk, and every
//! component loaded (and so compiled into the cache).

use std::path::Path;

use super::exit::{CliError, Exit};
use super::output::print_raw;
use crate::escape::escape;
use crate::events::FailReason;
use crate::manifest::{Manifest, Task};
use crate::sandbox::Runtime;

pub fn check(manifest_path: &Path) -> Result<Exit, CliError> {
    let manifest = Manifest::load(manifest_path)?;
    manifest.check_files()?;
    load_components(&manifest.tasks)?;
    print_raw(&format!(
        "{}: ok, {} tasks\nchecksum: {}\n",
        escape(&manifest_path.display().to_string()),
        manifest.tasks.len(),
        manifest.checksum()
    ))?;
    Ok(Exit::Success)
}

/// Loads every task's component, which verifies pins, proves each is a
/// task component and leaves its compilation in the cache. Reports every
/// problem; a pin mismatch makes it a refusal.
pub fn load_components<'a>(tasks: impl IntoIterator<Item = &'a Task>) -> Result<(), CliError> {
    let runtime =
        Runtime::new().map_err(|error| CliError::internal("cannot start wasmtime", error))?;
    let mut problems = Vec::new();
    let mut refused = false;
    for task in tasks {
        let pin = task.sha256.as_ref().map(|pin| pin.as_str());
        let path = &task.component_path;
        let announce = |bytes: usize| {
            eprintln!(
                "corral: compiling {} ({:.1} MB) for the first time; later loads use the cache",
                path.display(),
                bytes as f64 / 1e6
            );
        };
        if let Err(failure) = runtime.load(path, pin, &announce) {
            refused |= failure.reason == FailReason::Integrity;
            problems.push(format!("task {}: {failure}", task.id));
        }
    }
    match (problems.is_empty(), refused) {
        (true, _) => Ok(()),
        (false, true) => Err(CliError::Refused(problems.join("\n"))),
        (false, false) => Err(CliError::TaskFailed(problems.join("\n"))),
    }
}
