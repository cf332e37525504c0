//! What the manifest offers a shell beyond result variables, found by the
//! shipped tasks' ids: the tasks bound to the shell's repository, the zsh
//! completion dump (`zsh_compdump`), the completion index
//! (`completion_cache_scan`) and the integrity scan (`integrity_scan`)
//! whose changes the prompt shows as an alert. Paths are the host paths
//! the tasks' grants lead to.

use std::path::PathBuf;

use crate::manifest::{Access, Manifest};
use crate::setup::task_ids::{COMPLETION_INDEX, INTEGRITY, ZSH_COMPDUMP};

#[derive(Debug, Default)]
pub struct Wiring {
    /// Tasks run again after every command (`context = "repo"`).
    pub bound: Vec<String>,
    /// The dump `zsh_compdump` writes (its first argument).
    pub zcompdump: Option<PathBuf>,
    pub completion_index: Option<CompletionIndex>,
    /// The integrity task's id, when the manifest has it.
    pub integrity: Option<String>,
    /// The environment variables a snippet passes on with its requests to
    /// the server, as `corral run` would read them from the shell: the
    /// mode (`off` is the kill switch) and the bound tasks' feature flags.
    pub env: Vec<String>,
}

/// The completion index and how to read its paths on the host.
#[derive(Debug)]
pub struct CompletionIndex {
    pub file: PathBuf,
    /// Read-only grants of the scan, guest path to host path: the index
    /// names definitions by their guest paths.
    pub roots: Vec<(String, PathBuf)>,
}

impl Wiring {
    pub fn of(manifest: &Manifest) -> Wiring {
        let task = |id: &str| manifest.task(id);
        Wiring {
            bound: manifest
                .tasks
                .iter()
                .filter(|task| task.context.is_some())
                .map(|task| task.id.to_string())
                .collect(),
            zcompdump: task(ZSH_COMPDUMP).and_then(|task| task.host_path_of(task.args.first()?)),
            completion_index: task(COMPLETION_INDEX).and_then(|task| {
                Some(CompletionIndex {
                    file: task.host_path_of(task.args.last()?)?,
                    roots: task
                        .dirs
                        .iter()
                        .filter(|dir| dir.mode == Access::Ro)
                        .map(|dir| (dir.guest.clone(), dir.host_path.clone()))
                        .collect(),
                })
            }),
            integrity: task(INTEGRITY).map(|task| task.id.to_string()),
            env: env_names(manifest),
        }
    }
}

fn env_names(manifest: &Manifest) -> Vec<String> {
    let mut names = vec!["CORRAL_MODE".to_string()];
    names.extend(
        manifest
            .tasks
            .iter()
            .filter(|task| task.context.is_some())
            .filter_map(|task| task.feature_flag.clone())
            // Only names a shell can spell as a variable.
            .filter(|flag| flag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')),
    );
    names.sort();
    names.dedup();
    names
}
