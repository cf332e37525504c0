//! `corral ack`: record the manifest as reviewed.

use std::path::Path;

use super::exit::{CliError, Exit};
use super::output::print_raw;
use crate::escape::escape;
use crate::manifest::Manifest;
use crate::review::ack;

pub fn ack(manifest_path: &Path) -> Result<Exit, CliError> {
    let manifest = Manifest::load(manifest_path)?;
    let path = ack::acknowledge(&manifest)
        .map_err(|error| CliError::internal("cannot record the acknowledgement", error))?;
    print_raw(&format!(
        "acknowledged checksum {} in {}\n",
        manifest.checksum(),
        escape(&path.display().to_string())
    ))?;
    Ok(Exit::Success)
}
