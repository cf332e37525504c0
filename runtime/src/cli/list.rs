//! `corral list`: one line per task with its budgets, class, flag and grants.

use std::path::Path;

use std::fmt::Write as _;

use super::exit::{CliError, Exit};
use super::output::{manifest_line, print_raw};
use crate::escape::escape;
use crate::manifest::Manifest;

pub fn list(manifest_path: &Path) -> Result<Exit, CliError> {
    let manifest = Manifest::load(manifest_path)?;
    let mut out = manifest_line(manifest_path);
    let _ = writeln!(
        out,
        "{:<24} {:<9} {:<6} {:>8} {:>14} {:>7} {:>7}  grants",
        "id", "priority", "class", "timeout", "fuel", "memory", "retries"
    );
    for task in &manifest.tasks {
        let files = task.files.iter().map(|file| {
            let (guest, host) = (escape(&file.guest), escape(&file.host));
            format!("{guest}={host}:file-ro")
        });
        let grants: Vec<String> = task
            .context
            .map(|_| "<shell's repository>:ro".to_string())
            .into_iter()
            .chain(task.dirs.iter().map(|dir| {
                let (guest, host) = (escape(&dir.guest), escape(&dir.host));
                format!("{guest}={host}:{}", dir.mode.as_str())
            }))
            .chain(files)
            .collect();
        let flag = task
            .feature_flag
            .as_ref()
            .map(|flag| format!("  (if {flag})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{:<24} {:<9} {:<6} {:>6}ms {:>14} {:>5}MB {:>7}  {}{flag}",
            task.id.as_str(),
            task.priority.as_str(),
            task.class.as_deref().unwrap_or("-"),
            task.timeout_ms,
            task.fuel,
            task.memory_mb,
            task.retries,
            if grants.is_empty() {
                "-".to_string()
            } else {
                grants.join(" ")
            },
        );
    }
    print_raw(&out)?;
    Ok(Exit::Success)
}
