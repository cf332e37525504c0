//! `corral lock`: pin every component's sha256 in the manifest.

use std::path::Path;

use super::exit::{CliError, Exit};
use super::output::print_raw;
use crate::manifest::Manifest;
use crate::review::lock::{self, LockError};

pub fn lock(manifest_path: &Path) -> Result<Exit, CliError> {
    let manifest = Manifest::load(manifest_path)?;
    let pins = lock::lock(&manifest).map_err(|error| match error {
        LockError::Component { .. } => CliError::Usage(error.to_string()),
        LockError::Manifest { .. } => CliError::internal("corral lock", error),
    })?;
    for pin in pins {
        let state = if pin.changed { "pinned" } else { "unchanged" };
        print_raw(&format!("{state} {} sha256={}\n", pin.id, pin.sha256))?;
    }
    Ok(Exit::Success)
}
