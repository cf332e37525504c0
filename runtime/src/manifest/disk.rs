//! What a manifest names on disk: each component file, each granted
//! host directory and (for `check` and `init`) each granted file. Checked apart from loading, so that `corral build` can
//! run before the components exist.

use super::diagnostic::{Diagnostic, ManifestError};
use super::model::{Manifest, Task};

impl Manifest {
    /// Checks what lives on disk: each component file and each granted
    /// host directory. A `rw` grant inside `state_dir` may be missing: it is
    /// corral's own state and is created on first run.
    /// Only `tasks` are checked, so a run of some tasks is not held up by
    /// another's missing component.
    pub fn check_files<'a>(
        &self,
        tasks: impl IntoIterator<Item = &'a Task>,
    ) -> Result<(), ManifestError> {
        let mut diagnostics = Vec::new();
        let at = |line: usize, key: &str, message: String, help: &str| Diagnostic {
            file: self.path.clone(),
            line,
            key: key.to_string(),
            message,
            help: help.to_string(),
        };
        for task in tasks {
            if !task.component_path.is_file() {
                diagnostics.push(at(
                    task.line,
                    "task.component",
                    format!(
                        "task {}: component {} does not exist",
                        task.id,
                        task.component_path.display()
                    ),
                    if task.build.is_some() {
                        "build it first: `corral build` or `corral run --build`"
                    } else {
                        "build the component, or fix the path (relative to the manifest)"
                    },
                ));
            }
            for dir in &task.dirs {
                if dir.host_path.is_dir() || self.is_state_grant(dir) {
                    continue;
                }
                diagnostics.push(at(
                    dir.line,
                    "task.dir.host",
                    format!(
                        "task {}: host directory {} does not exist",
                        task.id,
                        dir.host_path.display()
                    ),
                    "create the directory, or fix the path (relative to the manifest)",
                ));
            }
        }
        if diagnostics.is_empty() {
            Ok(())
        } else {
            Err(ManifestError::Invalid(diagnostics))
        }
    }

    /// Checks that each `[[task.file]]` of `tasks` names a regular file,
    /// for `corral check` and `corral init`. A run does not ask this: a
    /// watched file that went missing fails its own task (its snapshot
    /// cannot be staged), which raises the alert, and every other task
    /// still runs; deleting a start-up file must not silence the check.
    pub fn check_file_grants<'a>(
        &self,
        tasks: impl IntoIterator<Item = &'a Task>,
    ) -> Result<(), ManifestError> {
        let mut diagnostics = Vec::new();
        for task in tasks {
            for file in &task.files {
                if file.host_path.is_file() {
                    continue;
                }
                diagnostics.push(Diagnostic {
                    file: self.path.clone(),
                    line: file.line,
                    key: "task.file.host".to_string(),
                    message: format!(
                        "task {}: host file {} does not exist or is not a regular file",
                        task.id,
                        file.host_path.display()
                    ),
                    help: "create the file, or remove the [[task.file]] grant (`corral init --force` rewrites a generated manifest)".to_string(),
                });
            }
        }
        if diagnostics.is_empty() {
            Ok(())
        } else {
            Err(ManifestError::Invalid(diagnostics))
        }
    }
}
