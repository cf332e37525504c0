//! The layering of `runtime/src`, stated once and checked on every test
//! run: each stage (a folder, or a root file) may import with `crate::`
//! only the stages listed for it. Data flows one way (`manifest` -> `plan`
//! -> `run` -> `sandbox` -> `events` -> `cli`); a new arrow is a design
//! change, made here on purpose, never by drift.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Each stage and the stages it may import. A stage missing here fails the
/// test, so a new folder states its place when it is made.
const ALLOWED: &[(&str, &[&str])] = &[
    // Below everything: plain helpers that know no stage.
    ("fs", &[]),
    ("digest", &[]),
    ("escape", &[]),
    ("mode", &[]),
    ("detached", &[]),
    // The first stage: what the user wrote.
    ("manifest", &["digest", "escape", "fs"]),
    ("plan", &["manifest"]),
    ("events", &["escape", "fs", "mode"]),
    ("perf", &["manifest"]),
    ("sandbox", &["digest", "events", "fs", "manifest"]),
    ("review", &["digest", "escape", "fs", "manifest", "sandbox"]),
    // Reads the sandbox's file-size bound, never runs a task.
    ("setup", &["digest", "fs", "manifest", "sandbox"]),
    ("views", &["events", "mode"]),
    (
        "run",
        &[
            "digest", "escape", "events", "fs", "manifest", "mode", "plan", "sandbox",
        ],
    ),
    (
        "serve",
        &[
            "detached", "digest", "events", "manifest", "mode", "plan", "review", "run", "sandbox",
        ],
    ),
    // The command line sits on top and may use every stage.
    (
        "cli",
        &[
            "detached", "digest", "escape", "events", "fs", "manifest", "mode", "perf", "plan",
            "review", "run", "sandbox", "serve", "setup", "views",
        ],
    ),
];

fn source_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

/// The stage a file belongs to: its folder under `src`, or its own name
/// for a root file. `lib.rs` and `main.rs` wire stages and belong to none.
fn stage_of(file: &Path) -> Option<String> {
    let relative = file.strip_prefix(source_root()).unwrap();
    let first = relative.components().next()?.as_os_str().to_str()?;
    match first.strip_suffix(".rs") {
        Some("lib" | "main") => None,
        Some(root_file) => Some(root_file.to_string()),
        None => Some(first.to_string()),
    }
}

/// The stages a source text names after `crate::`, in paths
/// (`crate::fs::durable`) and in groups (`crate::{fs, events::Event}`).
/// Comments are skipped, so a doc line that mentions a stage is not an
/// import.
fn imported_stages(source: &str) -> BTreeSet<String> {
    let code: String = source
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let mut stages = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            for ch in group.chars() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        stages.insert(first_segment(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(ch);
            }
            stages.insert(first_segment(&item));
        } else {
            stages.insert(first_segment(rest));
        }
    }
    stages.remove("");
    stages
}

fn first_segment(path: &str) -> String {
    path.trim()
        .chars()
        .take_while(|ch| ch.is_ascii_alphanumeric() || *ch == '_')
        .collect()
}

/// The imports that break [`ALLOWED`], as `file: stage -> imported`.
fn violations() -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&source_root(), &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let Some(stage) = stage_of(&file) else {
            continue;
        };
        let Some((_, allowed)) = ALLOWED.iter().find(|(name, _)| *name == stage) else {
            found.push(format!(
                "{}: stage {stage} is not in ALLOWED",
                file.display()
            ));
            continue;
        };
        let source = std::fs::read_to_string(&file).unwrap();
        for imported in imported_stages(&source) {
            // Items of the crate root (`crate::Cli`) and a stage's own
            // modules are not arrows between stages.
            let is_stage = ALLOWED.iter().any(|(name, _)| *name == imported);
            if is_stage && imported != stage && !allowed.contains(&imported.as_str()) {
                found.push(format!("{}: {stage} -> {imported}", file.display()));
            }
        }
    }
    found
}

#[test]
fn every_stage_imports_only_what_it_may() {
    let found = violations();
    assert!(
        found.is_empty(),
        "imports the layering forbids (tests/all/layering.rs states the rules):\n{}",
        found.join("\n")
    );
}

#[test]
fn imports_are_found_in_paths_groups_and_nested_groups() {
    let source = "use crate::fs::durable;\n\
                  use crate::{events::{Event, Summary}, mode::Mode};\n\
                  // crate::views is only mentioned\n\
                  fn f() { crate::plan::Plan::new(); }\n";
    let found: Vec<String> = imported_stages(source).into_iter().collect();
    assert_eq!(found, ["events", "fs", "mode", "plan"]);
}
