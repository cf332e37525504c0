//! Acknowledgements: `corral ack` records the manifest's canonical form in
//! `state_dir`; with `require_ack`, a run refuses a manifest that changed
//! since, and says what changed.

use std::io;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::durable::{create_private_dir, write_atomically};
use crate::manifest::{Change, Manifest, diff};

const ACK_FILE: &str = "manifest.ack.json";

fn ack_path(state_dir: &Path) -> PathBuf {
    state_dir.join(ACK_FILE)
}

/// Records `manifest` as reviewed.
pub fn acknowledge(manifest: &Manifest) -> io::Result<PathBuf> {
    let state = &manifest.runtime.state_path;
    create_private_dir(state)?;
    let record = json!({
        "checksum": manifest.checksum(),
        "manifest": manifest.canonical(),
    });
    let path = ack_path(state);
    write_atomically(&path, format!("{record:#}\n").as_bytes())?;
    Ok(path)
}

/// Whether `manifest` matches the last acknowledgement.
pub enum AckStatus {
    Current,
    Never,
    Changed(Vec<Change>),
}

pub fn status(manifest: &Manifest) -> io::Result<AckStatus> {
    let text = match std::fs::read_to_string(ack_path(&manifest.runtime.state_path)) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(AckStatus::Never),
        Err(error) => return Err(error),
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
