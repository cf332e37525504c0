//! `corral result ID`: the result stored by a task's last successful run;
//! for a task bound to the shell's repository, only if that run was for
//! the repository containing the current directory.

use std::io::IsTerminal;
use std::path::Path;

use super::exit::{CliError, Exit};
use super::output::{print_escaped, print_raw};
use crate::manifest::Manifest;
use crate::plan::UnknownTask;
use crate::plan::repo::{Repo, shell_directory};
use crate::run::results::ResultStore;

pub fn result(manifest_path: &Path, id: &str) -> Result<Exit, CliError> {
    let manifest = Manifest::load(manifest_path)?;
    let Some(task) = manifest.task(id) else {
        return Err(UnknownTask(id.to_string()).into());
    };
    let bound = task.context.is_some();
    let stored = ResultStore::read(&manifest.runtime.state_path, id, bound)
        .map_err(|error| CliError::internal(format!("cannot read the result of {id}"), error))?;
    let Some(stored) = stored else {
        return Err(CliError::TaskFailed(format!(
            "no result stored for {id} yet\n  help: run `corral run` (results of failed runs are not stored)"
        )));
    };
    if bound {
        let here = shell_directory().ok();
        let repo = here
            .as_deref()
            .and_then(Repo::containing)
            .map(|repo| repo.work_tree);
        if repo.is_none() || stored.repo != repo {
            let wanted = match (&repo, &here) {
                (Some(repo), _) => format!("the current repository is {}", repo.display()),
                (None, Some(here)) => format!("{} is in no git repository", here.display()),
                (None, None) => "the current directory cannot be read".to_string(),
            };
            let stored_for = stored.repo.map_or_else(
                || "no repository".to_string(),
                |repo| repo.display().to_string(),
            );
            return Err(CliError::TaskFailed(format!(
                "the last result of {id} is for {stored_for}; {wanted}\n  help: `corral run --only {id}` from inside the repository"
            )));
        }
    }
    let mut text = stored.result;
    if !text.ends_with('\n') {
        text.push('\n');
    }
    // A guest's text reaches a terminal escaped; a program reading the
    // result through a pipe gets it exactly.
    if std::io::stdout().is_terminal() {
        print_escaped(&text)?;
    } else {
        print_raw(&text)?;
    }
    Ok(Exit::Success)
}
