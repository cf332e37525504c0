//! `corral new`: a task per language from its template, built with the
//! `build` command it was given and run by corral: it reads its grant,
//! logs, times a sub-segment, returns its result, keeps its private state
//! from one run to the next, and an `InvalidInput` ends as
//! `reason=invalid_input` without a retry.

use std::path::{Path, PathBuf};

use crate::support::{Fixture, require_files};

/// The pinned Python and JavaScript tools, installed by
/// `runtime/templates/install-tools.sh` (as `.ci/run` does).
fn tools() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/tools")
}

/// Whether `tool` (relative to the tools directory) is installed.
fn installed(tool: &str) -> bool {
    require_files(
        &[&tools().join(tool)],
        "run runtime/templates/install-tools.sh",
    )
}

fn new_task_builds_runs_and_fails_cleanly(lang: &str, id: &str) {
    let fixture = Fixture::new();
    fixture.write(
        "manifest.toml",
        "# A user's manifest: comments survive `corral new`.\nversion = 1\n",
    );
    let tools = tools().display().to_string();
    // A cache of its own, so `corral build` compiles (and says so) every time.
    let cache = fixture.path().join("cache").display().to_string();
    let env = [
        ("CORRAL_TOOLS", tools.as_str()),
        ("CORRAL_CACHE_DIR", cache.as_str()),
    ];
    let new = fixture.corral_with(&["new", id, "--lang", lang], &env);
    assert_eq!(new.code, Some(0), "{}", new.stderr);
    assert!(new.stderr.contains("corral lock"), "{}", new.stderr);
    let again = fixture.corral_with(&["new", id, "--lang", lang], &env);
    assert_eq!(again.code, Some(2), "never overwrites: {}", again.stderr);

    let build = fixture.corral_with(&["build", "--only", id], &env);
    assert_eq!(build.code, Some(0), "{}", build.stderr);
    assert!(build.stderr.contains("cached artifact"), "{}", build.stderr);

    let run = fixture.corral_with(&["run", "--only", id], &env);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    run.assert_done(id);
    assert!(
        run.has_segment(&format!("async_task_{id}_scan")),
        "{}",
        run.stderr
    );
    let said = |run: &crate::support::Run, what: &str| {
        assert!(
            run.stderr.contains(&format!("LOG task={id} level=info")) && run.stderr.contains(what),
            "expected a log line with {what:?}: {}",
            run.stderr
        );
    };
    said(
        &run,
        "/data: 1 files; run 1 with this state; changes: unknown (no earlier run)",
    );
    // The private state outlives the run; without a server the feed is unknown.
    let run = fixture.corral_with(&["run", "--only", id], &env);
    run.assert_done(id);
    said(
        &run,
        "run 2 with this state; changes: unknown (changes are known only to a running `corral serve`)",
    );
    let result = fixture.corral(&["result", id]);
    assert_eq!(
        result.stdout, "files=1 first=sample.txt bytes=76\n",
        "{}",
        result.stderr
    );

    // An InvalidInput is never retried, even with retries left.
    let manifest = std::fs::read_to_string(fixture.path().join("manifest.toml")).unwrap();
    assert!(manifest.starts_with("# A user's manifest"), "{manifest}");
    let invalid = manifest.replace("args = [\"/data\"]", "args = [\"--invalid\"]\nretries = 2");
    fixture.write("manifest.toml", invalid);
    let run = fixture.corral_with(&["run", "--only", id], &env);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let fail = run.assert_failed(id, "invalid_input");
    assert_eq!(fail.field("attempts"), "1", "{}", run.stderr);
}

#[test]
fn a_rust_task_from_its_template() {
    new_task_builds_runs_and_fails_cleanly("rust", "demo_rust");
}

#[test]
fn a_python_task_from_its_template() {
    if installed("python/bin/componentize-py") {
        new_task_builds_runs_and_fails_cleanly("python", "demo_python");
    }
}

#[test]
fn a_javascript_task_from_its_template() {
    if installed("node/node_modules/.bin/componentize-qjs") {
        new_task_builds_runs_and_fails_cleanly("js", "demo_js");
    }
}
