//! `corral lock`: write each component's sha256 pin into manifest.toml,
//! editing only the `sha256` values so comments and layout survive.

use std::path::Path;

use toml_edit::{DocumentMut, value};

use crate::digest::sha256_hex;
use crate::fs::durable::write_atomically;
use crate::manifest::{Manifest, Name};

/// What `lock` did to one task.
pub struct Pinned {
    pub id: Name,
    pub sha256: String,
    pub changed: bool,
}

/// Why nothing was pinned.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "task {id}: cannot read component {path}: {source}\n  help: build it first (`corral build`)"
    )]
    Component {
        id: Name,
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot rewrite {path}: {source}")]
    Manifest {
        path: std::path::PathBuf,
        source: anyhow::Error,
    },
}

/// Pins every task's component; fails without writing anything if a
/// component cannot be read.
pub fn lock(manifest: &Manifest) -> Result<Vec<Pinned>, LockError> {
    // A manifest that is a symbolic link (to a dotfiles checkout, say) is
    // edited where it really lives, and stays a link.
    let path = &std::fs::canonicalize(&manifest.path).map_err(|source| LockError::Manifest {
        path: manifest.path.clone(),
        source: source.into(),
    })?;
    let rewrite_error = |source: anyhow::Error| LockError::Manifest {
        path: path.clone(),
        source,
    };
    let text = std::fs::read_to_string(path).map_err(|e| rewrite_error(e.into()))?;
    let mut document: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| rewrite_error(e.into()))?;
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
            let sha256 =
                component_sha256(&task.component_path).map_err(|source| LockError::Component {
                    id: task.id.clone(),
                    path: task.component_path.clone(),
                    source,
                })?;
            let changed = task.sha256.as_ref().map(|pin| pin.as_str()) != Some(sha256.as_str());
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
        write_atomically(path, document.to_string().as_bytes())
            .map_err(|e| rewrite_error(e.into()))?;
    }
    Ok(pinned)
}

fn component_sha256(path: &Path) -> std::io::Result<String> {
    Ok(sha256_hex(std::fs::read(path)?))
}
