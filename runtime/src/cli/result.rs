//! `corral result ID`: the result stored by a task's last successful run.

use std::path::Path;

use std::io::IsTerminal;

use super::exit::{CliError, Exit};
use super::output::{print_escaped, print_raw};
use crate::manifest::Manifest;
use crate::plan::UnknownTask;
use crate::run::results::ResultStore;

pub fn result(manifest_path: &Path, id: &str) -> Result<Exit, CliError> {
    let manifest = Manifest::load(manifest_path)?;
    if manifest.task(id).is_none() {
        return Err(UnknownTask(id.to_string()).into());
    }
    let stored = ResultStore::read(&manifest.runtime.state_path, id)
        .map_err(|error| CliError::internal(format!("cannot read the result of {id}"), error))?;
    match stored {
        Some(mut text) => {
            if !text.ends_with('\n') {
                text.push('\n');
            }
            // A guest's text reaches a terminal escaped; a program reading
            // the result through a pipe gets it exactly.
            if std::io::stdout().is_terminal() {
                print_escaped(&text)?;
            } else {
                print_raw(&text)?;
            }
            Ok(Exit::Success)
        }
        None => Err(CliError::TaskFailed(format!(
            "no result stored for {id} yet\n  help: run `corral run` (results of failed runs are not stored)"
        ))),
    }
}
