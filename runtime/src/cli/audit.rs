//! `corral audit`: what every task may do and the findings, or with
//! `--diff OLD` what changed since another manifest.

use std::path::Path;

use super::exit::{CliError, Exit};
use crate::manifest::{Manifest, diff};
use crate::review::audit;
use crate::sandbox::Runtime;

pub fn audit(manifest_path: &Path, json: bool, old: Option<&Path>) -> Result<Exit, CliError> {
    let manifest = Manifest::load(manifest_path)?;
    if let Some(old) = old {
        let old = Manifest::load(old)?;
        let changes = diff(&old.canonical(), &manifest.canonical());
        if json {
            println!("{}", to_json(&changes)?);
        } else if changes.is_empty() {
            println!("no changes");
        } else {
            for change in &changes {
                println!("{change}");
            }
        }
        return Ok(Exit::Success);
    }
    let runtime =
        Runtime::new().map_err(|error| CliError::internal("cannot start wasmtime", error))?;
    let report = audit::audit(&manifest, &runtime);
    if json {
        println!("{}", to_json(&report)?);
    } else {
        print!("{}", report.render());
    }
    Ok(Exit::Success)
}

fn to_json(value: &impl serde::Serialize) -> Result<String, CliError> {
    serde_json::to_string_pretty(value)
        .map_err(|error| CliError::internal("cannot write the audit as JSON", error))
}
