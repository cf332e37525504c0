//! The TOML schema of manifest.toml version 1, exactly as written.
//!
//! Every table denies unknown keys, and values that carry their own rules
//! (ids, priorities, modes) validate while deserialising, so a mistake is
//! reported with the span of the offending value.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::names::Name;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Document {
    pub version: Spanned<i64>,
    #[serde(default)]
    pub runtime: RuntimeTable,
    #[serde(default)]
    pub defaults: DefaultsTable,
    #[serde(default)]
    pub classes: BTreeMap<String, Spanned<ClassTable>>,
    #[serde(default)]
    pub perf: PerfTable,
    #[serde(default, rename = "task")]
    pub tasks: Vec<Spanned<TaskTable>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RuntimeTable {
    pub max_concurrency: Option<Spanned<u32>>,
    pub max_timeout_ms: Option<Spanned<u64>>,
    pub phase: Option<Spanned<Name>>,
    pub state_dir: Option<Spanned<String>>,
    pub require_ack: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DefaultsTable {
    pub timeout_ms: Option<Spanned<u64>>,
    pub fuel: Option<Spanned<u64>>,
    pub memory_mb: Option<Spanned<u64>>,
    pub retries: Option<Spanned<u32>>,
    pub priority: Option<Priority>,
}

/// `[perf]`: how `corral bench` samples and judges start-up performance.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PerfTable {
    pub samples: Option<Spanned<u32>>,
    pub trim: Option<Spanned<u32>>,
    pub max_rel_stddev: Option<Spanned<f64>>,
    pub mode: Option<PerfMode>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ClassTable {
    pub max_concurrency: Spanned<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TaskTable {
    pub id: Spanned<Name>,
    pub rationale: Spanned<String>,
    pub label: Option<Spanned<Name>>,
    pub priority: Option<Priority>,
    pub component: Spanned<String>,
    pub sha256: Option<Spanned<String>>,
    pub build: Option<String>,
    pub timeout_ms: Option<Spanned<u64>>,
    pub fuel: Option<Spanned<u64>>,
    pub memory_mb: Option<Spanned<u64>>,
    pub retries: Option<Spanned<u32>>,
    pub budget_ms: Option<Spanned<u64>>,
    pub budget_fuel: Option<Spanned<u64>>,
    pub feature_flag: Option<Spanned<String>>,
    pub class: Option<Spanned<String>>,
    pub context: Option<Context>,
    pub reuse: Option<bool>,
    #[serde(default)]
    pub args: Vec<String>,
    pub env: Option<Spanned<BTreeMap<String, String>>>,
    #[serde(default, rename = "dir")]
    pub dirs: Vec<Spanned<DirTable>>,
    #[serde(default, rename = "file")]
    pub files: Vec<Spanned<FileTable>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DirTable {
    pub host: Spanned<String>,
    pub guest: Spanned<String>,
    pub mode: Access,
}

/// `[[task.file]]`: one host file, always read-only (there is no `mode`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileTable {
    pub host: Spanned<String>,
    pub guest: Spanned<String>,
}

/// Scheduling class of a task: critical work first, cosmetic work last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Critical,
    Normal,
    Cosmetic,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Critical => "critical",
            Priority::Normal => "normal",
            Priority::Cosmetic => "cosmetic",
        }
    }
}

/// What `corral bench` does with a regression, an over-budget task or
/// samples too noisy to judge: the observe, warn, gate progression lets a
/// CI job watch its numbers before it lets them fail a build.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PerfMode {
    /// Report only; always exit 0.
    #[default]
    Observe,
    /// Report, and warn on stderr; exit 0.
    Warn,
    /// Report, and exit 1 on any finding.
    Gate,
}

impl PerfMode {
    pub fn as_str(self) -> &'static str {
        match self {
            PerfMode::Observe => "observe",
            PerfMode::Warn => "warn",
            PerfMode::Gate => "gate",
        }
    }
}

/// What a task is run for besides its manifest entry: `repo` binds each
/// run to the git repository containing the directory corral was started
/// in (a shell's current directory), granted read-only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Context {
    Repo,
}

impl Context {
    pub fn as_str(self) -> &'static str {
        match self {
            Context::Repo => "repo",
        }
    }
}

/// Whether a granted directory may be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    Ro,
    Rw,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Ro => "ro",
            Access::Rw => "rw",
        }
    }
}
