//! Acknowledgements: `corral ack` records the manifest's canonical form in
//! `state_dir`; with `require_ack`, a run refuses a manifest that changed
//! since, and says what changed.

use std::io;
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::fs::private_dir::PrivateDir;
use crate::manifest::{Change, Manifest, diff};

const ACK_FILE: &str = "manifest.ack.json";

/// Records `manifest` as reviewed.
pub fn acknowledge(manifest: &Manifest) -> io::Result<PathBuf> {
    let state = PrivateDir::create(&manifest.runtime.state_path)?;
    let record = json!({
        "checksum": manifest.checksum(),
        "manifest": manifest.canonical(),
    });
    state.write_atomically(ACK_FILE, format!("{record:#}\n").as_bytes())?;
    Ok(state.path().join(ACK_FILE))
}

/// Whether `manifest` matches the last acknowledgement.
pub enum AckStatus {
    Current,
    Never,
    Changed(Vec<Change>),
}

pub fn status(manifest: &Manifest) -> io::Result<AckStatus> {
    let text = match PrivateDir::open(&manifest.runtime.state_path) {
        Ok(state) => state.read(ACK_FILE)?,
        Err(error) if error.kind() == io::ErrorKind::NotFound => None,
        Err(error) => return Err(error),
    };
    let Some(text) = text else {
        return Ok(AckStatus::Never);
    };
    let record: Value = serde_json::from_str(&text).map_err(io::Error::other)?;
    if record["checksum"].as_str() == Some(manifest.checksum().as_str()) {
        return Ok(AckStatus::Current);
    }
    Ok(AckStatus::Changed(diff(
        &record["manifest"],
        &manifest.canonical(),
    )))
}
