//! Modes, feature flags and the test controls.

use crate::support::{Fixture, grant, probe_task};

#[test]
fn shadow_mode_writes_only_to_scratch_copies_and_stores_nothing() {
    let fixture = Fixture::new();
    let out = fixture.mkdir("out");
    fixture.write("out/existing", "original");
    fixture.manifest(&format!(
        "{}{}",
        probe_task(
            "a_overwrite",
            &["write", "/out/existing", "changed"],
            &grant(&out, "/out", "rw")
        ),
        probe_task(
            "b_read",
            &["read", "/out/existing"],
            &grant(&out, "/out", "rw")
        ),
    ));
    let run = fixture.corral(&["run", "--mode", "shadow"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.assert_done("a_overwrite").field("sample"), "shadow");
    assert_eq!(run.segment("async_queue_init").field("sample"), "shadow");
    assert_eq!(
        std::fs::read_to_string(out.join("existing")).unwrap(),
        "original"
    );
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
    assert_eq!(fixture.corral(&["result", "b_read"]).code, Some(1));
}

#[test]
fn corral_mode_variable_selects_the_mode() {
    let fixture = Fixture::new();
    fixture.manifest(&probe_task("quick", &["ok"], ""));
    let run = fixture.corral_with(&["run"], &[("CORRAL_MODE", "off")]);
    assert_eq!(run.code, Some(0));
    assert_eq!(run.segment("async_queue_init").field("sample"), "off");
    assert!(!run.has_segment("async_task_quick_start"));
}

#[test]
fn feature_flags_skip_tasks_unless_on() {
    let fixture = Fixture::new();
    fixture.manifest(&format!(
        "{}{}",
        probe_task("flagged", &["ok"], "feature_flag = \"CORRAL_TEST_FLAG\""),
        probe_task("plain", &["ok"], ""),
    ));
    let run = fixture.corral(&["run"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.segment("async_task_flagged_skipped").field("flag"),
        "CORRAL_TEST_FLAG"
    );
    assert!(!run.has_segment("async_task_flagged_start"));
    assert_eq!(run.perf_guard().field("async_tasks_skipped"), "1");
    assert_eq!(run.perf_guard().field("async_tasks_total"), "1");

    for (value, runs) in [
        ("1", true),
        ("TRUE", true),
        ("on", true),
        ("0", false),
        ("yes", false),
    ] {
        let run = fixture.corral_with(&["run"], &[("CORRAL_TEST_FLAG", value)]);
        assert_eq!(
            run.has_segment("async_task_flagged_done"),
            runs,
            "flag={value}"
        );
    }
}

#[test]
fn force_timeout_fails_the_named_task_only() {
    let fixture = Fixture::new();
    fixture.manifest(&format!(
        "{}{}",
        probe_task("a_victim", &["ok"], "retries = 1"),
        probe_task("b_bystander", &["ok"], ""),
    ));
    let run = fixture.corral_with(&["run"], &[("CORRAL_FORCE_TIMEOUT", "a_victim")]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    // Timeouts are retryable: both attempts time out.
    assert_eq!(
        run.assert_failed("a_victim", "timeout").field("attempts"),
        "2"
    );
    run.assert_done("b_bystander");
    assert_eq!(run.perf_guard().field("async_tasks_timeout"), "1");
}

#[test]
fn fake_latency_delays_every_attempt() {
    let fixture = Fixture::new();
    fixture.manifest(&probe_task("slowed", &["ok"], ""));
    let run = fixture.corral_with(&["run"], &[("CORRAL_FAKE_LATENCY_MS", "200")]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let ms: f64 = run.assert_done("slowed").field("ms").parse().unwrap();
    assert!(ms >= 200.0, "{ms}");

    let bad = fixture.corral_with(&["run"], &[("CORRAL_FAKE_LATENCY_MS", "soon")]);
    assert_eq!(bad.code, Some(2));
    assert!(
        bad.stderr.contains("CORRAL_FAKE_LATENCY_MS"),
        "{}",
        bad.stderr
    );
}

#[test]
fn max_concurrency_variable_serialises_tasks() {
    let fixture = Fixture::new();
    let tasks: String = ["a", "b", "c"]
        .iter()
        .map(|id| probe_task(id, &["sleep", "100"], ""))
        .collect();
    fixture.manifest(&tasks);
    let run = fixture.corral_with(&["run"], &[("CORRAL_MAX_CONCURRENCY", "1")]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let intervals = crate::support::task_intervals(&run);
    assert_eq!(intervals.len(), 3);
    assert_eq!(crate::support::max_overlap(&intervals), 1, "{}", run.stderr);
}

#[test]
fn watchdog_trips_on_a_stalled_host_and_disables_later_runs() {
    let fixture = Fixture::new();
    fixture.manifest(&probe_task("stuck", &["ok"], "timeout_ms = 100"));
    // The fake latency stalls the host outside the task's own timeout; the
    // watchdog allows three times the longest timeout.
    let run = fixture.corral_with(&["run"], &[("CORRAL_FAKE_LATENCY_MS", "5000")]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(run.segment("async_watchdog").field("tasks"), "stuck");
    let fail = run.assert_failed("stuck", "cancelled");
    assert!(fail.field("message").contains("watchdog"), "{}", run.stderr);
    let ms: f64 = fail.field("ms").parse().unwrap();
    assert!(
        ms < 5000.0,
        "the watchdog must not wait for the stall to end: {ms}"
    );
    assert!(fixture.path().join(".corral/watchdog.tripped").exists());

    let next = fixture.corral(&["run"]);
    assert_eq!(next.code, Some(0), "{}", next.stderr);
    assert!(next.stderr.contains("corral enable"), "{}", next.stderr);
    assert_eq!(next.segment("async_queue_init").field("sample"), "off");

    assert_eq!(fixture.corral(&["enable"]).code, Some(0));
    let enabled = fixture.corral(&["run"]);
    assert_eq!(enabled.code, Some(0), "{}", enabled.stderr);
    enabled.assert_done("stuck");
}

#[test]
fn disabled_watchdog_lets_a_stalled_host_finish() {
    let fixture = Fixture::new();
    fixture.manifest(&probe_task("slow_host", &["ok"], "timeout_ms = 100"));
    let run = fixture.corral_with(
        &["run"],
        &[
            ("CORRAL_FAKE_LATENCY_MS", "600"),
            ("CORRAL_DISABLE_WATCHDOG", "1"),
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    run.assert_done("slow_host");
    assert!(!run.has_segment("async_watchdog"));
}
