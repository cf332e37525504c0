//! `corral result ID`: the result stored by a task's last successful run.

use std::path::Path;

use super::exit::{CliError, Exit};
use crate::manifest::Manifest;
use crate::plan::UnknownTask;
use crate::run::results::ResultStore;

pub fn result(manifest_path: &Path, id: &str) -> Result<Exit, CliError> {
    let manifest = Manifest::load(manifest_path)?;
    if manifest.task(id).is_none() {
        return Err(UnknownTask(id.to_string()).into());
    }
    let store = ResultStore::new(&manifest.runtime.state_path);
    let stored = store
        .read(id)
        .map_err(|error| CliError::internal(format!("cannot read the result of {id}"), error))?;
    match stored {
        Some(text) => {
            print!("{text}");
            if !text.ends_with('\n') {
                println!();
            }
            Ok(Exit::Success)
        }
        None => Err(CliError::TaskFailed(format!(
            "no result stored for {id} yet\n  help: run `corral run` (results of failed runs are not stored)"
        ))),
    }
}
