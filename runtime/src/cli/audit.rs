//! `corral audit`: what every task may do and the findings, or with
//! `--diff OLD` what changed since another manifest.

use std::path::Path;

use super::exit::{CliError, Exit};
use super::output::print_raw;
use crate::manifest::{Manifest, diff};
use crate::review::audit;
use crate::sandbox::Runtime;

pub fn audit(manifest_path: &Path, json: bool, old: Option<&Path>) -> Result<Exit, CliError> {
    let manifest = Manifest::load(manifest_path)?;
    if let Some(old) = old {
        let old = Manifest::load(old)?;
        let changes = diff(&old.canonical(), &manifest.canonical());
        if json {
            print_raw(&format!("{}\n", to_json(&changes)?))?;
        } else if changes.is_empty() {
            print_raw("no changes\n")?;
        } else {
            let lines: Vec<String> = changes.iter().map(|c| format!("{c}\n")).collect();
            print_raw(&lines.concat())?;
        }
        return Ok(Exit::Success);
    }
    let runtime =
        Runtime::new().map_err(|error| CliError::internal("cannot start wasmtime", error))?;
    let mut report = audit::audit(&manifest, &runtime);
    report.manifest = std::path::absolute(manifest_path)
        .unwrap_or_else(|_| manifest_path.to_path_buf())
        .display()
        .to_string();
    if json {
        print_raw(&format!("{}\n", to_json(&report)?))?;
    } else {
        print_raw(&report.render())?;
    }
    Ok(Exit::Success)
}

fn to_json(value: &impl serde::Serialize) -> Result<String, CliError> {
    serde_json::to_string_pretty(value)
        .map_err(|error| CliError::internal("cannot write the audit as JSON", error))
}
