//! `corral lock`: write each component's sha256 pin into manifest.toml,
//! editing only the `sha256` values so comments and layout survive.

use std::path::Path;

use sha2::{Digest, Sha256};
use toml_edit::{DocumentMut, value};

use crate::durable::write_atomically;
use crate::manifest::{Manifest, hex};

/// What `lock` did to one task.
pub struct Pinned {
    pub id: String,
    pub sha256: String,
    pub changed: bool,
}

/// Pins every task's component; fails without writing anything if a
/// component cannot be read.
pub fn lock(manifest: &Manifest) -> anyhow::Result<Vec<Pinned>> {
    let path = &manifest.path;
    let text = std::fs::read_to_string(path)?;
    let mut document: DocumentMut = text.parse()?;
    let mut pinned = Vec::new();
    if let Some(tables) = document
        .get_mut("task")
        .and_then(toml_edit::Item::as_array_of_tables_mut)
    {
        for table in tables.iter_mut() {
            let Some(task) = table
                .get("id")
                .and_then(toml_edit::Item::as_str)
                .and_then(|id| manifest.task(id))
            else {
                continue;
            };
            let sha256 = component_sha256(&task.component_path).map_err(|error| {
                anyhow::anyhow!(
                    "task {}: cannot read component {}: {error}\n  help: build it first (`corral build`)",
                    task.id,
                    task.component_path.display()
                )
            })?;
            let changed = task.sha256.as_deref() != Some(sha256.as_str());
            if changed {
                table["sha256"] = value(&sha256);
            }
            pinned.push(Pinned {
                id: task.id.clone(),
                sha256,
                changed,
            });
        }
    }
    if pinned.iter().any(|pin| pin.changed) {
        write_atomically(path, document.to_string().as_bytes())?;
    }
    Ok(pinned)
}

fn component_sha256(path: &Path) -> std::io::Result<String> {
    Ok(hex(&Sha256::digest(std::fs::read(path)?)))
}
