//! `corral build` (and `run --build`): each selected task's `build` command,
//! then its component loaded, which proves it is a task and warms the
//! compiled cache.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command as Process;

use super::check::load_components;
use super::exit::{CliError, Exit};
use crate::manifest::Manifest;
use crate::plan::Plan;

pub fn build_command(manifest_path: &Path, only: &[String]) -> Result<Exit, CliError> {
    build(&Manifest::load(manifest_path)?, only)?;
    Ok(Exit::Success)
}

/// Runs each selected task's `build` command once, in the manifest's
/// directory, stopping at the first failure; then loads every selected
/// component.
pub fn build(manifest: &Manifest, only: &[String]) -> Result<(), CliError> {
    // Validates `only` the same way `run` does; flags do not matter here.
    let plan = Plan::new(manifest, only, |_| Some("1".into()))?;
    let mut done = BTreeSet::new();
    for task in &plan.start {
        let Some(command) = &task.build else { continue };
        if !done.insert(command.clone()) {
            continue;
        }
        eprintln!("corral: building {}: {command}", task.id);
        let status = Process::new("sh")
            .arg("-c")
            .arg(command)
            .current_dir(&manifest.dir)
            .status()
            .map_err(|error| CliError::internal(format!("cannot run `sh -c {command}`"), error))?;
        if !status.success() {
            return Err(CliError::TaskFailed(format!(
                "build of task {} failed ({status}): {command}",
                task.id
            )));
        }
    }
    load_components(&plan.start)
}
