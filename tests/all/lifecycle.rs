//! Every started task reaches exactly one terminal state, and one task's
//! failure never takes its neighbours down.

use std::time::Duration;

use crate::support::{Fixture, probe_task};

#[test]
fn an_infinite_loop_times_out_while_others_complete() {
    let fixture = Fixture::new();
    fixture.manifest(&format!(
        "{}{}",
        probe_task(
            "looper",
            &["loop"],
            "timeout_ms = 300\nfuel = 1_000_000_000_000_000",
        ),
        probe_task("quick", &["ok"], ""),
    ));
    let run = fixture.corral(&["run"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let fail = run.assert_failed("looper", "timeout");
    let ms: f64 = fail.field("ms").parse().unwrap();
    assert!(ms >= 300.0, "timed out early: {ms}");
    run.assert_done("quick");
    let summary = run.perf_guard();
    assert_eq!(summary.field("async_tasks_total"), "2");
    assert_eq!(summary.field("async_tasks_done"), "1");
    assert_eq!(summary.field("async_tasks_timeout"), "1");
    assert_eq!(fixture.corral(&["result", "quick"]).stdout, "ok\n");
}

#[test]
fn a_component_that_fails_to_load_fails_alone() {
    let fixture = Fixture::new();
    let garbage = fixture.write("garbage.wasm", b"definitely not wasm");
    fixture.manifest(&format!(
        "[[task]]\nid = \"broken\"\nrationale = \"r\"\ncomponent = {:?}\n{}",
        garbage,
        probe_task("quick", &["ok"], ""),
    ));
    let run = fixture.corral(&["run"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    run.segment("async_task_broken_start");
    let fail = run.assert_failed("broken", "load");
    assert!(
        fail.field("message")
            .contains("not a WebAssembly component")
    );
    run.assert_done("quick");
}

#[test]
fn guest_failures_carry_their_reason() {
    let fixture = Fixture::new();
    fixture.manifest(&format!(
        "{}{}",
        probe_task("erring", &["fail-error", "disk on fire"], ""),
        probe_task("invalid", &["fail-invalid", "no such repo"], ""),
    ));
    let run = fixture.corral(&["run"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let erring = run.assert_failed("erring", "error");
    assert_eq!(erring.field("message"), "disk on fire");
    run.assert_failed("invalid", "invalid_input");
    assert_eq!(fixture.corral(&["result", "erring"]).code, Some(1));
}

#[test]
fn retries_run_until_an_attempt_succeeds() {
    let fixture = Fixture::new();
    fixture.manifest(&probe_task("flaky", &["fail-until", "3"], "retries = 2"));
    let run = fixture.corral(&["run"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.assert_done("flaky").field("attempts"), "3");
    assert_eq!(fixture.corral(&["result", "flaky"]).stdout, "attempt 3\n");
}

#[test]
fn guest_segments_logs_and_progress_become_events() {
    let fixture = Fixture::new();
    fixture.manifest(&probe_task("segmented", &["segments"], ""));
    let run = fixture.corral(&["run"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    run.segment("async_task_segmented_phase_a");
    assert!(
        run.stderr
            .contains("LOG task=segmented level=info message=\"hello from probe\""),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("PROGRESS task=segmented done=2 total=2"),
        "{}",
        run.stderr
    );
}

#[test]
fn json_events_go_to_a_file() {
    let fixture = Fixture::new();
    fixture.manifest(&probe_task("quick", &["ok"], ""));
    let run = fixture.corral(&["run", "--events", "events.jsonl", "--events-format", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let text = std::fs::read_to_string(fixture.path().join("events.jsonl")).unwrap();
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let names: Vec<&str> = events
        .iter()
        .filter_map(|event| event["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "async_queue_init",
            "async_task_quick_start",
            "async_task_quick_done"
        ]
    );
    let summary = events.last().unwrap();
    assert_eq!(summary["event"], "perf_guard");
    assert_eq!(summary["async_tasks_done"], 1);
    assert_eq!(events[0]["sample"], "on");
}

#[test]
fn mode_off_starts_nothing() {
    let fixture = Fixture::new();
    fixture.manifest(&probe_task("quick", &["ok"], ""));
    let run = fixture.corral(&["run", "--mode", "off"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.segment("async_queue_init").field("sample"), "off");
    assert!(!run.has_segment("async_task_quick_start"));
}

#[test]
fn detach_returns_at_once_and_the_run_finishes_in_the_background() {
    let fixture = Fixture::new();
    fixture.manifest(&probe_task("slow", &["sleep", "1500"], "timeout_ms = 3000"));
    let run = fixture.corral(&["run", "--detach"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stderr, "", "a detached run prints nothing");
    let events = fixture.path().join(".corral/last-run.events");
    let text = std::fs::read_to_string(&events).unwrap_or_default();
    assert!(
        !text.contains("async_task_slow_done"),
        "returned only after the run:\n{text}"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(&events).unwrap_or_default();
        if text.contains("PERF_GUARD") {
            assert!(text.contains("async_task_slow_done"), "{text}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the detached run never finished:\n{text}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(fixture.corral(&["result", "slow"]).stdout, "slept\n");
}

/// `--detach` returns without reading the directory of old event files:
/// with thousands there, the detached run prunes them once it is over.
#[test]
fn a_detached_run_prunes_old_event_files_in_the_background() {
    let fixture = Fixture::new();
    fixture.manifest(&probe_task("quick", &["ok"], ""));
    let runs = fixture.mkdir(".corral/runs");
    for n in 0..5000 {
        std::fs::write(runs.join(format!("{n:016}-1-0.events")), "").unwrap();
    }
    let run = fixture.corral(&["run", "--detach", "--defer-ms", "1500"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let count = || std::fs::read_dir(&runs).unwrap().count();
    assert!(
        count() > 5000,
        "the foreground pruned: {} files left",
        count()
    );
    crate::terminal::eventually(Duration::from_secs(60), "the background prune", || {
        count() <= 20
    });
}
