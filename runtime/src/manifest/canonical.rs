//! The canonical form: what the manifest checksum covers and what
//! acknowledgements and `audit --diff` compare.
//!
//! It is written out here field by field, apart from the model, so that a
//! field added to the model cannot change it by accident. Its rules:
//! the manifest parsed, defaults applied, paths as written; serialised as
//! compact JSON with keys sorted. Every key of schema version 1 is present
//! (`null` when unset). A key added later stays out when it is unset, so a
//! manifest that does not use it keeps its checksum.

use serde_json::{Map, Value, json};

use super::model::{DirGrant, FileGrant, Manifest, PerfPolicy, Task};
use crate::digest::sha256_hex;

impl Manifest {
    /// The sha256 of the canonical form. Comments, whitespace, key order and
    /// spelled-out defaults do not change it; any change of meaning does.
    pub fn checksum(&self) -> String {
        sha256_hex(self.canonical().to_string())
    }

    /// The canonical form as a JSON value.
    pub fn canonical(&self) -> Value {
        let runtime = &self.runtime;
        let classes: Map<String, Value> = self
            .classes
            .iter()
            .map(|(name, cap)| (name.to_string(), json!(cap)))
            .collect();
        let mut canonical = json!({
            "version": self.version,
            "runtime": {
                "max_concurrency": runtime.max_concurrency,
                "max_timeout_ms": runtime.max_timeout_ms,
                "phase": runtime.phase.as_str(),
                "state_dir": runtime.state_dir,
                "require_ack": runtime.require_ack,
            },
            "classes": classes,
            "task": self.tasks.iter().map(task).collect::<Vec<_>>(),
        });
        // `[perf]` is whole or absent: spelled-out defaults are no change.
        if self.perf != PerfPolicy::default() {
            canonical["perf"] = perf(&self.perf);
        }
        canonical
    }
}

impl Task {
    /// A digest of everything in this task's entry that can change what it
    /// computes, resolved: its canonical form and the host paths its
    /// component and grants resolve to (and, once bound, its repository).
    /// The server keeps a result for reuse only under the same fingerprint.
    pub fn fingerprint(&self) -> String {
        let resolved = json!({
            "entry": task(self),
            "component": self.component_path,
            "dirs": self.dirs.iter().map(|dir| &dir.host_path).collect::<Vec<_>>(),
            "files": self.files.iter().map(|file| &file.host_path).collect::<Vec<_>>(),
            "repo": self.repo,
        });
        sha256_hex(resolved.to_string())
    }
}

fn perf(policy: &PerfPolicy) -> Value {
    json!({
        "samples": policy.samples,
        "trim": policy.trim,
        "max_rel_stddev": policy.max_rel_stddev,
        "mode": policy.mode.as_str(),
    })
}

fn task(task: &Task) -> Value {
    let mut value = json!({
        "id": task.id.as_str(),
        "rationale": task.rationale,
        "label": task.label.as_str(),
        "priority": task.priority.as_str(),
        "component": task.component,
        "sha256": task.sha256.as_ref().map(|pin| pin.as_str()),
        "build": task.build,
        "timeout_ms": task.timeout_ms,
        "fuel": task.fuel,
        "memory_mb": task.memory_mb,
        "retries": task.retries,
        "feature_flag": task.feature_flag,
        "class": task.class.as_ref().map(|class| class.as_str()),
        "args": task.args,
        "env": task.env,
        "dir": task.dirs.iter().map(grant).collect::<Vec<_>>(),
    });
    if let Some(ms) = task.budget_ms {
        value["budget_ms"] = json!(ms);
    }
    if let Some(fuel) = task.budget_fuel {
        value["budget_fuel"] = json!(fuel);
    }
    if let Some(context) = task.context {
        value["context"] = json!(context.as_str());
    }
    if task.reuse {
        value["reuse"] = json!(true);
    }
    // Added after schema version 1 shipped: absent when there are none.
    if !task.files.is_empty() {
        value["file"] = json!(task.files.iter().map(file).collect::<Vec<_>>());
    }
    value
}

fn file(file: &FileGrant) -> Value {
    json!({
        "host": file.host,
        "guest": file.guest,
    })
}

fn grant(dir: &DirGrant) -> Value {
    json!({
        "host": dir.host,
        "guest": dir.guest,
        "mode": dir.mode.as_str(),
    })
}
