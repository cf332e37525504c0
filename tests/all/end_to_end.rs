//! The shipped manifest, run against this repository as a fresh clone has
//! it, from its top as a shell there would: every task starts and finishes,
//! its result can be read back, and the git status equals git's.

use std::path::Path;

use crate::git::porcelain;
use crate::repo_context::{corral_in, result_fields};
use crate::support::{Fixture, Run, shipped_manifest};

#[test]
fn shipped_manifest_runs_every_task_to_done() {
    let _cpu = crate::support::cpu_bound();
    let fixture = Fixture::new();
    fixture.write("manifest.toml", shipped_manifest());
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let run = Run::from(corral_in(&fixture, checkout, &["run"]));
    assert_eq!(run.code, Some(0), "{}", run.stderr);

    let manifest = corral::Manifest::load(&fixture.path().join("manifest.toml")).unwrap();
    for task in &manifest.tasks {
        let start = format!("async_task_{}_start", task.label);
        let done = format!("async_task_{}_done", task.label);
        let position = |name: &str| run.lines.iter().position(|line| line.name() == name);
        let (Some(started), Some(finished)) = (position(&start), position(&done)) else {
            panic!("{} has no _start or no _done:\n{}", task.id, run.stderr);
        };
        assert!(
            started < finished,
            "{} must start then finish:\n{}",
            task.id,
            run.stderr
        );
        let result = Run::from(corral_in(&fixture, checkout, &["result", &task.id]));
        assert_eq!(result.code, Some(0), "{}", result.stderr);
        assert!(!result.stdout.trim().is_empty());
    }
    let summary = run.perf_guard();
    let total = manifest.tasks.len().to_string();
    assert_eq!(summary.field("async_tasks_total"), total);
    assert_eq!(summary.field("async_tasks_done"), total);
    assert_eq!(summary.field("async_tasks_fail"), "0");

    assert_eq!(result_fields(&fixture, checkout), porcelain(checkout));
    let index = fixture
        .path()
        .join(".corral/cache/completions/completions.index");
    let index = std::fs::read_to_string(index).unwrap();
    assert!(index.contains("corral\tzsh\t"), "{index}");

    // The second run compares against the baseline the first one wrote.
    let second = fixture.corral(&["run", "--only", "integrity_scan"]);
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    let scan = fixture.corral(&["result", "integrity_scan"]).stdout;
    assert!(scan.contains("added=0 removed=0 changed=0"), "{scan}");
}

#[test]
fn check_prints_a_checksum_that_ignores_comments() {
    let fixture = Fixture::new();
    let manifest = shipped_manifest();
    fixture.write("manifest.toml", &manifest);
    let first = fixture.corral(&["check"]);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    fixture.write(
        "manifest.toml",
        format!("# reviewed\n\n{manifest}\n# end\n"),
    );
    let second = fixture.corral(&["check"]);
    assert_eq!(first.stdout, second.stdout);
    let edited = manifest.replace("timeout_ms = 2000", "timeout_ms = 2100");
    assert_ne!(edited, manifest);
    fixture.write("manifest.toml", edited);
    let third = fixture.corral(&["check"]);
    assert_ne!(first.stdout, third.stdout);
}
