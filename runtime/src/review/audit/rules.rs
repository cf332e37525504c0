//! The audit's rules: each a named check with its explanation, in tables
//! by what it looks at (a task, one of its file grants, one of its
//! directory grants, or the tasks together). A rule's name is what
//! `corral audit` prints and `--json` carries; docs/auditing.md explains
//! each one to users.
//!
//! Rules run in table order, a task's before its grants', so findings
//! keep the order reviewers and tools have always seen.

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::fs::system_tree::system_tree;
use crate::manifest::{Access, DirGrant, Manifest, Task};
use crate::review::rebaseline::REBASELINE_ARG;
use crate::sandbox::{Compiled, MAX_FILE_BYTES, Runtime};

/// A named check: `check` returns a finding's message when what it looks
/// at breaks the rule.
pub struct Rule<Check> {
    pub name: &'static str,
    /// Why a finding matters, in a line; kept beside the check so that a
    /// new rule comes with its reason (the docs test reads it).
    #[cfg_attr(not(test), allow(dead_code))]
    pub explanation: &'static str,
    pub check: Check,
}

pub type TaskCheck = for<'a> fn(&TaskFacts<'a>) -> Option<String>;
pub type FileCheck = for<'a> fn(&FileFacts<'a>) -> Option<String>;
pub type DirCheck = for<'a> fn(&DirFacts<'a>) -> Option<String>;
pub type PairCheck = for<'a> fn(&PairFacts<'a>) -> Option<String>;

/// What a task's rules look at.
pub struct TaskFacts<'a> {
    pub task: &'a Task,
    pub runtime: &'a Runtime,
    /// The compiled component, or why it could not be read or loaded.
    pub compiled: Result<&'a Compiled, &'a str>,
    pub imports: &'a [String],
}

/// What a file grant's rules look at.
pub struct FileFacts<'a> {
    /// The grant's guest path.
    pub guest: &'a str,
    /// Where the grant really leads (`..` and symbolic links resolved).
    pub real: PathBuf,
    /// The host path as shown: `PATH (really REAL)` when that is elsewhere.
    pub shown: String,
    pub metadata: Option<Metadata>,
}

/// What a directory grant's rules look at.
pub struct DirFacts<'a> {
    pub manifest: &'a Manifest,
    pub dir: &'a DirGrant,
    pub real: PathBuf,
    pub shown: String,
    pub home: Option<&'a Path>,
}

pub const TASK_RULES: &[Rule<TaskCheck>] = &[
    Rule {
        name: "component",
        explanation: "the component cannot be read or loaded (or differs from its pin)",
        check: |facts| facts.compiled.err().map(str::to_string),
    },
    Rule {
        name: "unprovided-import",
        explanation: "the component imports something the host does not provide",
        check: |facts| {
            let compiled = facts.compiled.ok()?;
            let linked = facts
                .runtime
                .link(&facts.task.component_path, &compiled.component);
            linked.err().map(|failure| failure.message)
        },
    },
    Rule {
        name: "filesystem-without-grants",
        explanation: "the component imports wasi:filesystem but is granted nothing (a context = \"repo\" task counts as granted)",
        check: |facts| {
            facts.compiled.ok()?;
            let task = facts.task;
            let uses_files = facts
                .imports
                .iter()
                .any(|name| name.starts_with("wasi:filesystem/"));
            // A `context = "repo"` task is granted its repository per run.
            let granted = !task.dirs.is_empty() || !task.files.is_empty() || task.context.is_some();
            (uses_files && !granted)
                .then(|| "imports wasi:filesystem but has no directory grants".into())
        },
    },
    Rule {
        name: "rebaseline-in-args",
        explanation: "--rebaseline in args would make a tamper check accept every change at every run",
        check: |facts| {
            facts.task.args.iter().any(|arg| arg == REBASELINE_ARG).then(|| {
                format!(
                    "args contain {REBASELINE_ARG}: a tamper check would accept every change at every run (`corral rebaseline ID` passes it once)"
                )
            })
        },
    },
];

/// A file grant's rules, and whether a finding of each ends that grant's
/// checks (the later rules need a file that exists outside the system
/// trees).
pub const FILE_RULES: &[(Rule<FileCheck>, bool)] = &[
    (
        Rule {
            name: "system-tree",
            explanation: SYSTEM_TREE,
            check: |facts| {
                in_system_tree(facts.guest, &format!("file {}", facts.shown), &facts.real)
            },
        },
        true,
    ),
    (
        Rule {
            name: "missing-grant",
            explanation: MISSING_GRANT,
            check: |facts| {
                facts.metadata.is_none().then(|| {
                    format!(
                        "{} grants file {}, which does not exist",
                        facts.guest, facts.shown
                    )
                })
            },
        },
        true,
    ),
    (
        Rule {
            name: "foreign-owner",
            explanation: "a file grant owned by another user: they decide what the task reads",
            check: |facts| {
                let uid = facts.metadata.as_ref()?.uid();
                (uid != rustix::process::geteuid().as_raw()).then(|| {
                    format!(
                        "{} grants file {}, owned by uid {uid}: another user decides what the task reads",
                        facts.guest, facts.shown,
                    )
                })
            },
        },
        false,
    ),
    (
        Rule {
            name: "oversized-file",
            explanation: "a file grant over the bound on granted files: every run of the task fails",
            check: |facts| {
                let len = facts.metadata.as_ref()?.len();
                (len > MAX_FILE_BYTES).then(|| {
                    format!(
                        "{} grants file {} of {len} bytes, over the {MAX_FILE_BYTES}-byte bound on granted files: every run of the task fails",
                        facts.guest, facts.shown,
                    )
                })
            },
        },
        false,
    ),
];

pub const DIR_RULES: &[Rule<DirCheck>] = &[
    Rule {
        name: "missing-grant",
        explanation: MISSING_GRANT,
        check: |facts| {
            let dir = facts.dir;
            (!dir.host_path.exists() && !facts.manifest.is_state_grant(dir)).then(|| {
                format!(
                    "{} grants {}, which does not exist",
                    dir.guest,
                    dir.host_path.display()
                )
            })
        },
    },
    Rule {
        name: "rw-broad",
        explanation: "a read-write grant over the user's home or / (judged on the real path)",
        check: |facts| {
            let real = &facts.real;
            let broad =
                real == Path::new("/") || facts.home.is_some_and(|home| home.starts_with(real));
            (facts.dir.mode == Access::Rw && broad).then(|| {
                format!(
                    "{} is a read-write grant over {}, which holds the user's home or the whole system",
                    facts.dir.guest, facts.shown,
                )
            })
        },
    },
    Rule {
        name: "system-tree",
        explanation: SYSTEM_TREE,
        check: |facts| in_system_tree(&facts.dir.guest, &facts.shown, &facts.real),
    },
];

/// What the rules over two tasks' grants look at: a grant of the task
/// audited and one of another task.
pub struct PairFacts<'a> {
    pub dir: &'a DirGrant,
    pub other: &'a Task,
    pub theirs: &'a DirGrant,
}

pub const PAIR_RULES: &[Rule<PairCheck>] = &[Rule {
    name: "rw-overlap",
    explanation: "a read-write grant overlaps a grant of another task: the two can race on, or read what the other writes in, the same files",
    check: |facts| {
        let (dir, theirs) = (facts.dir, facts.theirs);
        let overlap = dir.host_path.starts_with(&theirs.host_path)
            || theirs.host_path.starts_with(&dir.host_path);
        (dir.mode == Access::Rw && overlap).then(|| {
            format!(
                "read-write grant {} ({}) overlaps {}'s {} grant {}",
                dir.guest,
                dir.host_path.display(),
                facts.other.id,
                theirs.mode.as_str(),
                theirs.host_path.display()
            )
        })
    },
}];

/// The `system-tree` finding of a grant at `guest` of `shown` (a file or
/// directory, as shown), if it leads to `real` inside /proc, /sys or /dev.
fn in_system_tree(guest: &str, shown: &str, real: &std::path::Path) -> Option<String> {
    let root = system_tree(real)?;
    Some(format!(
        "{guest} grants {shown}, inside {root}: the kernel's view of processes and devices (corral's own environment among them)"
    ))
}

const SYSTEM_TREE: &str = "a grant under /proc, /sys or /dev: the kernel's view of processes and devices, corral's own environment among them";
const MISSING_GRANT: &str = "a grant of a path that does not exist";

#[cfg(test)]
mod tests {
    use super::*;

    /// Every rule, name and explanation, in the order the rules run.
    fn every_rule() -> Vec<(&'static str, &'static str)> {
        let names = |name, explanation| (name, explanation);
        TASK_RULES
            .iter()
            .map(|rule| names(rule.name, rule.explanation))
            .chain(
                FILE_RULES
                    .iter()
                    .map(|(rule, _)| names(rule.name, rule.explanation)),
            )
            .chain(
                DIR_RULES
                    .iter()
                    .map(|rule| names(rule.name, rule.explanation)),
            )
            .chain(
                PAIR_RULES
                    .iter()
                    .map(|rule| names(rule.name, rule.explanation)),
            )
            .collect()
    }

    #[test]
    fn every_rule_is_explained_here_and_in_the_docs() {
        let docs = include_str!("../../../../docs/auditing.md");
        let rules = every_rule();
        assert_eq!(rules.len(), 12);
        for (name, explanation) in rules {
            assert!(!explanation.is_empty(), "{name}");
            assert!(
                docs.contains(&format!("(`{name}`")),
                "docs/auditing.md: {name}"
            );
        }
    }

    #[test]
    fn a_rule_in_two_tables_has_one_explanation() {
        let rules = every_rule();
        for (name, explanation) in &rules {
            for (other, theirs) in &rules {
                assert!(name != other || explanation == theirs, "{name}");
            }
        }
    }
}
