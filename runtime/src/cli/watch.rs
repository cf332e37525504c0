//! `corral watch`: follow a run's event file in a terminal view.

use std::path::Path;

use super::exit::{CliError, Exit};
use crate::manifest::Manifest;
use crate::run::event_files;
use crate::views::watch;

pub fn watch(manifest_path: &Path, events: Option<&Path>) -> Result<Exit, CliError> {
    // The manifest supplies the timeouts for the bars; a given event file
    // can still be watched without one.
    let (manifest, events) = match (Manifest::load(manifest_path), events) {
        (Ok(manifest), events) => {
            let events = events.map_or_else(
                || {
                    manifest
                        .runtime
                        .state_path
                        .join(event_files::DEFAULT_EVENTS_FILE)
                },
                Path::to_path_buf,
            );
            (Some(manifest), events)
        }
        (Err(_), Some(events)) => (None, events.to_path_buf()),
        (Err(error), None) => return Err(error.into()),
    };
    let timeouts = manifest
        .iter()
        .flat_map(|manifest| &manifest.tasks)
        .map(|task| (task.label.to_string(), task.timeout_ms))
        .collect();
    watch::watch(&events, timeouts)
        .map_err(|error| CliError::internal("the terminal view failed", error))?;
    Ok(Exit::Success)
}
