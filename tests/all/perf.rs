//! The perf guard: `corral bench` (fuel regressions found exactly at any
//! noise, time budgets judged only when the noise allows, the observe,
//! warn, gate progression), and the budget and fuel fields of a run's
//! events.

use serde_json::Value;

use crate::support::{Fixture, Run, decode_events, parse_lines, probe_task};

/// A `[perf]` table.
fn perf(mode: &str, samples: u32) -> String {
    format!("[perf]\nmode = {mode:?}\nsamples = {samples}\n")
}

/// So many samples that uniform noise of 0-200 ms leaves no doubt about
/// the spread (see `perf::stats`); each sample waits ~100 ms on average.
const NOISY_SAMPLES: u32 = 21;
const NOISE: (&str, &str) = ("CORRAL_FAKE_LATENCY_MS", "0-200");

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|error| panic!("{error}: {}\n{}", run.stdout, run.stderr))
}

/// `(kind, subject)` of every finding.
fn findings(capture: &Value) -> Vec<(String, String)> {
    capture["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().into(),
                f["subject"].as_str().unwrap().into(),
            )
        })
        .collect()
}

fn has(capture: &Value, kind: &str, subject: &str) -> bool {
    findings(capture).contains(&(kind.to_string(), subject.to_string()))
}

#[test]
fn a_fuel_regression_is_found_exactly_at_any_noise_level() {
    let fixture = Fixture::new();
    let manifest = |iterations: &str| {
        fixture.manifest(&format!(
            "{}{}",
            perf("gate", NOISY_SAMPLES),
            probe_task("work", &["spin", iterations], "")
        ));
    };
    manifest("100000");
    let baseline = fixture.corral(&["bench", "--json", "--samples", "5"]);
    assert_eq!(baseline.code, Some(0), "{}", baseline.stderr);
    let saved = json(&baseline);
    let work = &saved["tasks"][0];
    assert_eq!(work["id"], "work");
    assert_eq!(work["fuel_identical"], true);
    assert_eq!(work["fuel_samples"].as_array().unwrap().len(), 5);
    assert_eq!(saved["outcome"], "pass");
    fixture.write("baseline.json", &baseline.stdout);
    let compare = ["bench", "--json", "--baseline", "baseline.json"];

    // The same work, noisy samples: the fuel matches to the unit.
    let same = fixture.corral_with(&compare, &[NOISE]);
    let capture = json(&same);
    assert_eq!(capture["tasks"][0]["fuel"], work["fuel"], "{}", same.stdout);
    assert_eq!(capture["tasks"][0]["fuel_identical"], true);
    assert!(!has(&capture, "fuel_regression", "work"), "{}", same.stdout);

    // 10% more work, as noisy: found, exactly, and the gate fails.
    manifest("110000");
    let more = fixture.corral_with(&compare, &[NOISE]);
    assert_eq!(more.code, Some(1), "{}", more.stderr);
    let capture = json(&more);
    assert!(has(&capture, "fuel_regression", "work"), "{}", more.stdout);
    assert!(has(&capture, "fuel_regression", "run"), "{}", more.stdout);
    let (old, new) = (
        work["fuel"].as_u64().unwrap(),
        capture["tasks"][0]["fuel"].as_u64().unwrap(),
    );
    let ratio = new as f64 / old as f64;
    assert!((1.09..1.11).contains(&ratio), "{old} -> {new}");
    assert!(
        more.stderr.contains(&format!(
            "corral: gate: fuel regression: work: fuel {old} -> {new} (+"
        )),
        "{}",
        more.stderr
    );
}

#[test]
fn a_time_budget_is_enforced_only_when_the_variance_allows_a_verdict() {
    let fixture = Fixture::new();
    fixture.manifest(&format!(
        "{}{}",
        perf("gate", 7),
        probe_task("slow", &["ok"], "budget_ms = 100")
    ));
    let steady = |ms: &str| fixture.corral_with(&["bench"], &[("CORRAL_FAKE_LATENCY_MS", ms)]);

    let within = steady("30");
    assert_eq!(within.code, Some(0), "{}\n{}", within.stdout, within.stderr);
    assert!(within.stdout.contains("outcome: pass"), "{}", within.stdout);

    let over = steady("150");
    assert_eq!(over.code, Some(1), "{}\n{}", over.stdout, over.stderr);
    assert!(
        over.stderr
            .contains("corral: gate: over budget: slow: median 15"),
        "{}",
        over.stderr
    );

    // Noise around the budget: no verdict either way, and the gate says why.
    fixture.manifest(&format!(
        "{}{}",
        perf("gate", NOISY_SAMPLES),
        probe_task("slow", &["ok"], "budget_ms = 100")
    ));
    let noisy = fixture.corral_with(&["bench", "--json"], &[NOISE]);
    assert_eq!(noisy.code, Some(1), "{}", noisy.stderr);
    let capture = json(&noisy);
    assert_eq!(
        capture["tasks"][0]["budget"], "undecided",
        "{}",
        noisy.stdout
    );
    assert_eq!(capture["outcome"], "undecided");
    assert_eq!(findings(&capture), [("undecided".into(), "slow".into())]);
    assert!(
        noisy.stderr.contains("> max_rel_stddev 0.15"),
        "{}",
        noisy.stderr
    );
    assert!(
        noisy
            .stderr
            .contains("corral: gate: failing: the samples are too noisy to decide"),
        "{}",
        noisy.stderr
    );
}

#[test]
fn observe_and_warn_never_fail() {
    let fixture = Fixture::new();
    let tasks = format!(
        "{}{}",
        probe_task("broken", &["fail-invalid", "no"], ""),
        probe_task("slow", &["ok"], "budget_ms = 100")
    );
    let latency = [("CORRAL_FAKE_LATENCY_MS", "150")];
    for (mode, code, stderr) in [
        ("observe", 0, None),
        ("warn", 0, Some("corral: warning: over budget: slow:")),
        ("gate", 1, Some("corral: gate: over budget: slow:")),
    ] {
        fixture.manifest(&format!("{}{tasks}", perf(mode, 5)));
        let run = fixture.corral_with(&["bench"], &latency);
        assert_eq!(run.code, Some(code), "{mode}: {}", run.stderr);
        assert!(
            run.stdout
                .contains("failed: broken: failed in 5 of 5 samples"),
            "{}",
            run.stdout
        );
        match stderr {
            Some(expected) => assert!(run.stderr.contains(expected), "{mode}: {}", run.stderr),
            None => assert!(
                !run.stderr.contains("corral: warning") && !run.stderr.contains("corral: gate"),
                "{mode}: {}",
                run.stderr
            ),
        }
    }
}

#[test]
fn bench_samples_in_shadow_and_writes_events_only_when_asked() {
    let fixture = Fixture::new();
    fixture.manifest(&probe_task("quick", &["ok"], ""));
    let quiet = fixture.corral(&["bench"]);
    assert_eq!(quiet.code, Some(0), "{}", quiet.stderr);
    assert!(parse_lines(&quiet.stderr).is_empty(), "{}", quiet.stderr);
    assert!(
        quiet.stdout.contains("5 samples in shadow mode"),
        "{}",
        quiet.stdout
    );
    assert_eq!(
        fixture.corral(&["result", "quick"]).code,
        Some(1),
        "stored a result"
    );

    let logged = fixture.corral(&["bench", "--events-dir", "samples"]);
    assert_eq!(logged.code, Some(0), "{}", logged.stderr);
    for number in 1..=5 {
        let path = fixture
            .path()
            .join(format!("samples/sample-{number}.events"));
        let text = std::fs::read_to_string(&path).unwrap();
        let events = decode_events(&text);
        assert!(
            matches!(events.last(), Some(corral::Event::Summary(s)) if s.done == 1),
            "{text}"
        );
        assert!(text.contains("sample=shadow"));
    }

    for (args, message) in [
        (&["bench", "--samples", "3"][..], "--samples 3"),
        (
            &["bench", "--baseline", "missing.json"][..],
            "--baseline missing.json",
        ),
    ] {
        let run = fixture.corral(args);
        assert_eq!(run.code, Some(2), "{}", run.stderr);
        assert!(run.stderr.contains(message), "{}", run.stderr);
    }
    fixture.write("other.json", "{\"format\": \"something-else\"}");
    let run = fixture.corral(&["bench", "--baseline", "other.json"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
}

#[test]
fn a_run_reports_budgets_fuel_and_unterminated_tasks() {
    let _cpu = crate::support::cpu_bound();
    let fixture = Fixture::new();
    fixture.manifest(&format!(
        "{}{}{}",
        probe_task("a_over", &["spin", "100000"], "budget_fuel = 1000"),
        probe_task("b_within", &["ok"], "budget_ms = 1000"),
        probe_task("c_free", &["ok"], ""),
    ));
    let run = fixture.corral(&["run", "--events", "run.events"]);
    assert_eq!(
        run.code,
        Some(0),
        "budgets are judged, not enforced: {}",
        run.stderr
    );
    let text = std::fs::read_to_string(fixture.path().join("run.events")).unwrap();
    let lines = parse_lines(&text);
    let field = |name: &str, key: &str| {
        let line = lines.iter().find(|line| line.name() == name).unwrap();
        line.field(key).to_string()
    };
    assert_eq!(field("async_task_a_over_done", "budget"), "over");
    assert_eq!(field("async_task_a_over_done", "budget_fuel"), "1000");
    assert_eq!(field("async_task_b_within_done", "budget"), "ok");
    assert_eq!(field("async_task_b_within_done", "budget_ms"), "1000");
    assert_eq!(field("async_task_c_free_done", "budget"), "");
    let fuel: u64 = ["a_over", "b_within", "c_free"]
        .iter()
        .map(|id| {
            field(&format!("async_task_{id}_done"), "fuel")
                .parse::<u64>()
                .unwrap()
        })
        .sum();
    let guard = lines.iter().find(|line| line.kind == "PERF_GUARD").unwrap();
    assert_eq!(guard.field("async_tasks_unterminated"), "0");
    assert_eq!(guard.field("async_fuel_total"), fuel.to_string());
    assert_eq!(guard.field("async_budget_ok"), "1");
    assert_eq!(guard.field("async_budget_over"), "1");
    // New fields come after the old ones, so positional readers keep working.
    let line = text
        .lines()
        .find(|line| line.starts_with("PERF_GUARD"))
        .unwrap();
    assert!(
        line.contains("wall_ms=") && line.find("wall_ms=") < line.find("async_tasks_unterminated=")
    );

    let report = fixture.corral(&["report", "run.events", "--out", "timeline.svg"]);
    assert_eq!(report.code, Some(0), "{}", report.stderr);
    let svg = std::fs::read_to_string(fixture.path().join("timeline.svg")).unwrap();
    assert_eq!(svg.matches(r#"data-budget="over""#).count(), 1);
    assert!(svg.contains(r#"data-task="a_over" data-outcome="done" data-budget="over""#));
    assert!(svg.contains("over budget (budget_fuel 1000)"));
}

/// An auditor sees each task's budgets, in text and JSON.
#[test]
fn audit_shows_budgets() {
    let fixture = Fixture::new();
    fixture.manifest(&probe_task(
        "a",
        &["ok"],
        "budget_ms = 100\nbudget_fuel = 5000",
    ));
    let text = fixture.corral(&["audit"]);
    assert!(
        text.stdout
            .contains("budgets: budget_ms=100 budget_fuel=5000"),
        "{}",
        text.stdout
    );
    let json = fixture.corral(&["audit", "--json"]);
    let audit: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(audit["tasks"][0]["budget_ms"], 100);
    assert_eq!(audit["tasks"][0]["budget_fuel"], 5000);
}
