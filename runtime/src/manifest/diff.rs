//! What changed between two manifests, in the terms a reviewer reads:
//! tasks by id, grants by guest path, every other key by name.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::{Map, Value};

use crate::escape::escape;

/// One difference. `old` is `None` for an addition, `new` for a removal.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// Dotted path such as `task.git_status.dir./git.mode`.
    pub path: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = escape(&self.path);
        let (old, new) = (
            self.old.as_deref().map(escape),
            self.new.as_deref().map(escape),
        );
        match (old, new) {
            (None, Some(new)) => write!(f, "+ {path} = {new}"),
            (Some(old), None) => write!(f, "- {path} = {old}"),
            (Some(old), Some(new)) => write!(f, "~ {path}: {old} -> {new}"),
            (None, None) => write!(f, "  {path}"),
        }
    }
}

/// Differences between two canonical forms (see `Manifest::canonical`).
pub fn diff(old: &Value, new: &Value) -> Vec<Change> {
    let mut changes = Vec::new();
    walk("", &keyed(old), &keyed(new), &mut changes);
    changes
}

/// Rewrites task and grant lists as maps keyed by id and guest path, so a
/// reordering is no change and a change is named by what it touches.
fn keyed(value: &Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .iter()
                .map(|(key, value)| {
                    let value = match (key.as_str(), value) {
                        ("task", Value::Array(items)) => by_key(items, "id"),
                        ("dir", Value::Array(items)) => by_key(items, "guest"),
                        _ => keyed(value),
                    };
                    (key.clone(), value)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn by_key(items: &[Value], key: &str) -> Value {
    let mut map = Map::new();
    for (index, item) in items.iter().enumerate() {
        let name = item[key]
            .as_str()
            .map_or_else(|| index.to_string(), str::to_string);
        map.insert(name, keyed(item));
    }
    Value::Object(map)
}

fn walk(path: &str, old: &Value, new: &Value, changes: &mut Vec<Change>) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match (old, new) {
        (Value::Object(old), Value::Object(new)) => {
            let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
            for key in keys {
                match (old.get(key), new.get(key)) {
                    (Some(a), Some(b)) => walk(&join(key), a, b, changes),
                    (a, b) => changes.push(Change {
                        path: join(key),
                        old: a.map(Value::to_string),
                        new: b.map(Value::to_string),
                    }),
                }
            }
        }
        (a, b) if a != b => changes.push(Change {
            path: path.to_string(),
            old: Some(a.to_string()),
            new: Some(b.to_string()),
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_tasks_and_grants_by_key() {
        let old = json!({ "task": [
            { "id": "a", "timeout_ms": 1, "dir": [{ "guest": "/g", "mode": "ro" }] },
            { "id": "b" },
        ]});
        let new = json!({ "task": [
            { "id": "a", "timeout_ms": 2, "dir": [{ "guest": "/g", "mode": "rw" }] },
            { "id": "c" },
        ]});
        let lines: Vec<String> = diff(&old, &new).iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "~ task.a.dir./g.mode: \"ro\" -> \"rw\"",
                "~ task.a.timeout_ms: 1 -> 2",
                "- task.b = {\"id\":\"b\"}",
                "+ task.c = {\"id\":\"c\"}",
            ]
        );
        assert!(diff(&old, &old).is_empty());
    }
}
