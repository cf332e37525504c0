//! The auditor's rules for starting at all: `--locked` wants every task
//! pinned; `require_ack` wants the manifest unchanged since `corral ack`.
//! The command line and the server ask the same question here.

use crate::manifest::{Manifest, Task};
use crate::review::ack::{self, AckStatus};

/// What the caller asks for besides the manifest's own rules.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// `--locked`
    pub locked: bool,
    /// `--require-ack`
    pub require_ack: bool,
}

/// Why a run may not start.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// A rule refuses the run (exit 3).
    #[error("{0}")]
    Refused(String),
    /// The acknowledgement could not be read (corral's own state, exit 4).
    #[error("cannot read the acknowledgement: {0}")]
    Unreadable(#[from] std::io::Error),
}

/// Checks `policy` and the manifest's `require_ack` for the tasks to start.
pub fn enforce(manifest: &Manifest, start: &[Task], policy: Policy) -> Result<(), PolicyError> {
    if policy.locked {
        let unpinned: Vec<&str> = start
            .iter()
            .filter(|task| task.sha256.is_none())
            .map(|task| task.id.as_str())
            .collect();
        if !unpinned.is_empty() {
            return Err(PolicyError::Refused(format!(
                "--locked: tasks without a sha256 pin: {}\n  help: review the components, then run `corral lock`",
                unpinned.join(", ")
            )));
        }
    }
    if policy.require_ack || manifest.runtime.require_ack {
        let help = "help: review the change (`corral audit`), then run `corral ack`";
        match ack::status(manifest)? {
            AckStatus::Current => {}
            AckStatus::Never => {
                return Err(PolicyError::Refused(format!(
                    "{} has never been acknowledged\n  {help}",
                    manifest.path.display()
                )));
            }
            AckStatus::Changed(changes) => {
                let lines: Vec<String> = changes.iter().map(|c| format!("  {c}")).collect();
                return Err(PolicyError::Refused(format!(
                    "{} changed since it was acknowledged:\n{}\n  {help}",
                    manifest.path.display(),
                    lines.join("\n")
                )));
            }
        }
    }
    Ok(())
}
