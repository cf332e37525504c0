//! `corral audit`: what each task may do, and what a reviewer should look at
//! (the findings of the rules in [`rules`]).

mod rules;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::escape::escape;
use crate::manifest::{Manifest, Task};
use crate::sandbox::Runtime;
use crate::sandbox::incremental::STATE_GUEST_PATH;
use crate::sandbox::task_state;
use rules::{
    DIR_RULES, DirFacts, FILE_RULES, FileFacts, PAIR_RULES, PairFacts, TASK_RULES, TaskFacts,
};

/// Where a granted path really leads (`..` and symbolic links resolved, as
/// the sandbox will open it), and how to show it: `PATH (really REAL)`
/// when that is elsewhere.
fn resolved(path: &Path) -> (PathBuf, String) {
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let shown = if real == path {
        path.display().to_string()
    } else {
        format!("{} (really {})", path.display(), real.display())
    };
    (real, shown)
}

/// The audit of one manifest.
#[derive(Debug, Serialize)]
pub struct Audit {
    pub manifest: String,
    pub checksum: String,
    pub tasks: Vec<TaskAudit>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Serialize)]
pub struct TaskAudit {
    pub id: String,
    pub priority: &'static str,
    pub class: Option<String>,
    pub timeout_ms: u64,
    pub fuel: u64,
    pub memory_mb: u64,
    pub retries: u32,
    pub feature_flag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_fuel: Option<u64>,
    pub env_keys: Vec<String>,
    /// `repo` for a task bound to the shell's repository: an implicit
    /// read-only grant of that repository.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<&'static str>,
    /// `reuse = true`: the server may answer with the last result while
    /// nothing under the grants changed; absent when off.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reuse: bool,
    pub grants: Vec<GrantAudit>,
    /// `[[task.file]]` grants, always read-only; absent when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileAudit>,
    pub component: String,
    /// The component's actual sha256, if it could be read.
    pub sha256: Option<String>,
    pub pinned: bool,
    /// Interfaces the component imports, if it could be compiled.
    pub imports: Vec<String>,
    /// Its private state directories (it imports
    /// `corral:task/incremental`), one per repository for a bound task.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub state: Vec<StateAudit>,
}

#[derive(Debug, Serialize)]
pub struct StateAudit {
    pub host: PathBuf,
    pub bytes: u64,
    pub entries: u64,
}

#[derive(Debug, Serialize)]
pub struct GrantAudit {
    pub guest: String,
    pub host: PathBuf,
    pub mode: &'static str,
}

#[derive(Debug, Serialize)]
pub struct FileAudit {
    pub guest: String,
    pub host: PathBuf,
    /// Where `host` really leads (symbolic links and `..` resolved), when
    /// that is elsewhere: what the task is given a copy of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub real: Option<PathBuf>,
}

/// Something a reviewer should look at.
#[derive(Debug, Serialize)]
pub struct Finding {
    pub task: String,
    /// A stable name for the rule, for tools.
    pub rule: &'static str,
    pub message: String,
}

/// Audits `manifest`: loads each component to list its imports and checks
/// every rule. Reading components is blocking work.
pub fn audit(manifest: &Manifest, runtime: &Runtime) -> Audit {
    let mut findings = Vec::new();
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let mut tasks = Vec::new();
    for task in &manifest.tasks {
        let mut report = TaskAudit {
            id: task.id.to_string(),
            priority: task.priority.as_str(),
            class: task.class.as_ref().map(ToString::to_string),
            timeout_ms: task.timeout_ms,
            fuel: task.fuel,
            memory_mb: task.memory_mb,
            retries: task.retries,
            feature_flag: task.feature_flag.clone(),
            budget_ms: task.budget_ms,
            budget_fuel: task.budget_fuel,
            env_keys: task.env.keys().cloned().collect(),
            context: task.context.map(|context| context.as_str()),
            reuse: task.reuse,
            grants: task
                .dirs
                .iter()
                .map(|dir| GrantAudit {
                    guest: dir.guest.clone(),
                    host: dir.host_path.clone(),
                    mode: dir.mode.as_str(),
                })
                .collect(),
            files: task
                .files
                .iter()
                .map(|file| {
                    let real = std::fs::canonicalize(&file.host_path).ok();
                    FileAudit {
                        guest: file.guest.clone(),
                        host: file.host_path.clone(),
                        real: real.filter(|real| *real != file.host_path),
                    }
                })
                .collect(),
            component: task.component_path.display().to_string(),
            sha256: None,
            pinned: task.sha256.is_some(),
            imports: Vec::new(),
            state: task_state::dirs_of(&manifest.runtime.state_path, task.id.as_str())
                .into_iter()
                .map(|host| {
                    let usage = task_state::Usage::of(&host).unwrap_or_default();
                    StateAudit {
                        host,
                        bytes: usage.bytes,
                        entries: usage.entries,
                    }
                })
                .collect(),
        };
        let mut finding = |rule: &'static str, message: String| {
            findings.push(Finding {
                task: task.id.to_string(),
                rule,
                message,
            })
        };
        let compiled = runtime.compile(
            &task.component_path,
            task.sha256.as_ref().map(|pin| pin.as_str()),
            &|_| {},
        );
        let failure = compiled.as_ref().err().map(ToString::to_string);
        if let Ok(compiled) = &compiled {
            report.imports = runtime.imports(&compiled.component);
            report.sha256 = Some(compiled.sha256.clone());
        }
        let facts = TaskFacts {
            task,
            runtime,
            compiled: compiled
                .as_ref()
                .map_err(|_| failure.as_deref().unwrap_or_default()),
            imports: &report.imports,
        };
        for rule in TASK_RULES {
            if let Some(message) = (rule.check)(&facts) {
                finding(rule.name, message);
            }
        }
        for file in &task.files {
            let (real, shown) = resolved(&file.host_path);
            let facts = FileFacts {
                guest: &file.guest,
                metadata: std::fs::metadata(&real).ok(),
                real,
                shown,
            };
            for (rule, ends) in FILE_RULES {
                if let Some(message) = (rule.check)(&facts) {
                    finding(rule.name, message);
                    if *ends {
                        break;
                    }
                }
            }
        }
        for dir in &task.dirs {
            let (real, shown) = resolved(&dir.host_path);
            let facts = DirFacts {
                manifest,
                dir,
                real,
                shown,
                home: home.as_deref(),
            };
            for rule in DIR_RULES {
                if let Some(message) = (rule.check)(&facts) {
                    finding(rule.name, message);
                }
            }
        }
        tasks.push(report);
    }
    findings.extend(pair_findings(&manifest.tasks));
    Audit {
        manifest: manifest.path.display().to_string(),
        checksum: manifest.checksum(),
        tasks,
        findings,
    }
}

/// The rules over two tasks' grants ([`PAIR_RULES`]), for every grant of
/// every task against every grant of every other task.
fn pair_findings(tasks: &[Task]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (i, task) in tasks.iter().enumerate() {
        for dir in &task.dirs {
            let others = tasks.iter().enumerate().filter(|(j, _)| *j != i);
            for (_, other) in others {
                for theirs in &other.dirs {
                    let facts = PairFacts { dir, other, theirs };
                    for rule in PAIR_RULES {
                        if let Some(message) = (rule.check)(&facts) {
                            findings.push(Finding {
                                task: task.id.to_string(),
                                rule: rule.name,
                                message,
                            });
                        }
                    }
                }
            }
        }
    }
    findings
}

impl Audit {
    /// The report for people.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "manifest: {} (checksum {})",
            escape(&self.manifest),
            self.checksum
        );
        for task in &self.tasks {
            let _ = writeln!(out, "\ntask {}", task.id);
            let _ = writeln!(
                out,
                "  priority={} class={} timeout_ms={} fuel={} memory_mb={} retries={} flag={}",
                task.priority,
                task.class.as_deref().unwrap_or("-"),
                task.timeout_ms,
                task.fuel,
                task.memory_mb,
                task.retries,
                task.feature_flag.as_deref().unwrap_or("-"),
            );
            let _ = writeln!(
                out,
                "  component {} sha256={} ({})",
                escape(&task.component),
                task.sha256.as_deref().unwrap_or("unreadable"),
                if task.pinned { "pinned" } else { "not pinned" }
            );
            let budgets: Vec<String> = [
                ("budget_ms", task.budget_ms),
                ("budget_fuel", task.budget_fuel),
            ]
            .into_iter()
            .filter_map(|(key, value)| Some(format!("{key}={}", value?)))
            .collect();
            if !budgets.is_empty() {
                let _ = writeln!(out, "  budgets: {}", budgets.join(" "));
            }
            let env = if task.env_keys.is_empty() {
                "-".to_string()
            } else {
                task.env_keys.join(" ")
            };
            let _ = writeln!(out, "  env keys: {env}");
            if task.reuse {
                let _ = writeln!(
                    out,
                    "  reuse: the server answers with the last result while nothing under the grants changed"
                );
            }
            if task.context.is_some() {
                let _ = writeln!(
                    out,
                    "  grant ro <the work tree> <- the git repository containing the shell's directory (context = \"repo\")"
                );
            }
            for grant in &task.grants {
                let _ = writeln!(
                    out,
                    "  grant {} {} <- {}",
                    grant.mode,
                    escape(&grant.guest),
                    escape(&grant.host.display().to_string())
                );
            }
            for file in &task.files {
                let really = file.real.as_ref().map_or_else(String::new, |real| {
                    format!(" (really {})", escape(&real.display().to_string()))
                });
                let _ = writeln!(
                    out,
                    "  file ro {} <- {}{really}",
                    escape(&file.guest),
                    escape(&file.host.display().to_string())
                );
            }
            if !task.imports.is_empty() {
                let _ = writeln!(out, "  imports: {}", task.imports.join(" "));
            }
            for state in &task.state {
                let _ = writeln!(
                    out,
                    "  state rw {STATE_GUEST_PATH} <- {} ({} bytes in {} entries; dropped past {} bytes or {} entries)",
                    escape(&state.host.display().to_string()),
                    state.bytes,
                    state.entries,
                    task_state::MAX_STATE_BYTES,
                    task_state::MAX_STATE_ENTRIES,
                );
            }
        }
        let mut by_task: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
        for finding in &self.findings {
            by_task.entry(&finding.task).or_default().push(finding);
        }
        let _ = writeln!(out, "\nfindings: {}", self.findings.len());
        for (task, findings) in by_task {
            for finding in findings {
                let message = escape(&finding.message);
                let _ = writeln!(out, "  {task}: {}: {message}", finding.rule);
            }
        }
        out
    }
}
