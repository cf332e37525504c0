//! The auditor's rules for starting at all: `--locked` wants every task
//! pinned; `require_ack` wants the manifest unchanged since `corral ack`.

use super::exit::CliError;
use crate::manifest::Manifest;
use crate::plan::Plan;
use crate::review::ack::{self, AckStatus};

/// What the command line asks for besides the manifest's own rules.
pub struct Policy {
    /// `--locked`
    pub locked: bool,
    /// `--require-ack`
    pub require_ack: bool,
}

pub fn enforce(manifest: &Manifest, plan: &Plan, policy: Policy) -> Result<(), CliError> {
    if policy.locked {
        let unpinned: Vec<&str> = plan
            .start
            .iter()
            .filter(|task| task.sha256.is_none())
            .map(|task| task.id.as_str())
            .collect();
        if !unpinned.is_empty() {
            return Err(CliError::Refused(format!(
                "--locked: tasks without a sha256 pin: {}\n  help: review the components, then run `corral lock`",
                unpinned.join(", ")
            )));
        }
    }
    if policy.require_ack || manifest.runtime.require_ack {
        let help = "help: review the change (`corral audit`), then run `corral ack`";
        let status = ack::status(manifest)
            .map_err(|error| CliError::internal("cannot read the acknowledgement", error))?;
        match status {
            AckStatus::Current => {}
            AckStatus::Never => {
                return Err(CliError::Refused(format!(
                    "{} has never been acknowledged\n  {help}",
                    manifest.path.display()
                )));
            }
            AckStatus::Changed(changes) => {
                let lines: Vec<String> = changes.iter().map(|c| format!("  {c}")).collect();
                return Err(CliError::Refused(format!(
                    "{} changed since it was acknowledged:\n{}\n  {help}",
                    manifest.path.display(),
                    lines.join("\n")
                )));
            }
        }
    }
    Ok(())
}
