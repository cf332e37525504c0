//! The task components this binary carries (built and embedded by
//! `runtime/build.rs`), and their installation for `corral init`.
//!
//! Carrying them makes `cargo install --path runtime` enough: the user's
//! machine needs no wasm toolchain and no checkout to run the shipped tasks.

use std::path::{Path, PathBuf};

use crate::digest::sha256_hex;
use crate::fs::durable::write_atomically;

include!(concat!(env!("OUT_DIR"), "/shipped.rs"));

/// One installed component.
#[derive(Clone, Debug)]
pub struct Installed {
    /// The lib name: `git_status`, `integrity_scan`, ...
    pub name: &'static str,
    pub path: PathBuf,
    pub sha256: String,
}

/// Writes every shipped component into `dir` as `<name>.wasm`, each
/// atomically (a run that loads one while `init` rewrites it sees the old
/// or the new file, never a part), and returns them with their sha256.
pub fn install_components(dir: &Path) -> std::io::Result<Vec<Installed>> {
    std::fs::create_dir_all(dir)?;
    SHIPPED
        .iter()
        .map(|&(name, bytes)| {
            let path = dir.join(format!("{name}.wasm"));
            write_atomically(&path, bytes)?;
            Ok(Installed {
                name,
                path,
                sha256: sha256_hex(bytes),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::SHIPPED;
    use crate::setup::task_ids;

    #[test]
    fn every_shipped_task_id_names_a_carried_component() {
        for id in [
            task_ids::COMPLETION_INDEX,
            task_ids::GIT_STATUS,
            task_ids::INTEGRITY,
            task_ids::THEME_PALETTE,
            task_ids::ZSH_COMPDUMP,
        ] {
            assert!(SHIPPED.iter().any(|(name, _)| *name == id), "{id}");
        }
    }
}
