//! `corral enable`: runs again after the watchdog turned them off.

use std::path::Path;

use super::exit::{CliError, Exit};
use crate::manifest::Manifest;
use crate::run::watchdog;

pub fn enable(manifest_path: &Path) -> Result<Exit, CliError> {
    let manifest = Manifest::load(manifest_path)?;
    let state = &manifest.runtime.state_path;
    let sentinel = watchdog::sentinel_path(state);
    let removed = watchdog::enable(state).map_err(|error| {
        CliError::internal(format!("cannot remove {}", sentinel.display()), error)
    })?;
    if removed {
        eprintln!(
            "corral: runs enabled again (removed {})",
            sentinel.display()
        );
    } else {
        eprintln!("corral: runs were not disabled");
    }
    Ok(Exit::Success)
}
