//! `corral ack`: record the manifest as reviewed.

use std::path::Path;

use super::exit::{CliError, Exit};
use crate::manifest::Manifest;
use crate::review::ack;

pub fn ack(manifest_path: &Path) -> Result<Exit, CliError> {
    let manifest = Manifest::load(manifest_path)?;
    let path = ack::acknowledge(&manifest)
        .map_err(|error| CliError::internal("cannot record the acknowledgement", error))?;
    println!(
        "acknowledged checksum {} in {}",
        manifest.checksum(),
        path.display()
    );
    Ok(Exit::Success)
}
