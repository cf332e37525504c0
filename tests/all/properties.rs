//! Random mixes of tasks and caps: every started task ends exactly once,
//! caps hold at every instant (checked from event timestamps), and
//! priorities order the starts.

use proptest::prelude::*;

use crate::support::{Fixture, max_overlap, probe_task, task_intervals};

#[derive(Clone, Debug)]
enum Kind {
    Fast,
    Slow(u32),
    Failing,
    Looping,
    Retrying,
}

#[derive(Clone, Debug)]
struct Spec {
    kind: Kind,
    priority: &'static str,
    in_class: bool,
}

fn spec() -> impl Strategy<Value = Spec> {
    let kind = prop_oneof![
        Just(Kind::Fast),
        (10u32..60).prop_map(Kind::Slow),
        Just(Kind::Failing),
        Just(Kind::Looping),
        Just(Kind::Retrying),
    ];
    let priority = prop_oneof![Just("critical"), Just("normal"), Just("cosmetic")];
    (kind, priority, any::<bool>()).prop_map(|(kind, priority, in_class)| Spec {
        kind,
        priority,
        in_class,
    })
}

fn task_toml(id: &str, spec: &Spec) -> String {
    let mut extra = format!("priority = {:?}\n", spec.priority);
    if spec.in_class {
        extra.push_str("class = \"io\"\n");
    }
    let sleep;
    let args: &[&str] = match &spec.kind {
        Kind::Fast => &["ok"],
        Kind::Slow(ms) => {
            sleep = ms.to_string();
            &["sleep", &sleep]
        }
        Kind::Failing => &["fail-error", "planned"],
        Kind::Looping => {
            extra.push_str("timeout_ms = 150\nfuel = 1_000_000_000_000_000\n");
            &["loop"]
        }
        Kind::Retrying => {
            extra.push_str("retries = 1\n");
            &["fail-until", "2"]
        }
    };
    probe_task(id, args, &extra)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 12,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn runs_keep_their_invariants(
        specs in prop::collection::vec(spec(), 1..8),
        global_cap in 1u32..4,
        class_cap in 1u32..3,
    ) {
        let fixture = Fixture::new();
        let tasks: String = specs
            .iter()
            .enumerate()
            .map(|(i, spec)| task_toml(&format!("t{i}"), spec))
            .collect();
        fixture.manifest(&format!(
            "[runtime]\nmax_concurrency = {global_cap}\n[classes.io]\nmax_concurrency = {class_cap}\n{tasks}"
        ));
        let run = fixture.corral(&["run"]);
        prop_assert!(matches!(run.code, Some(0 | 1)), "{}", run.stderr);

        // Exactly one terminal event per task, and every task started.
        for i in 0..specs.len() {
            let ends = run
                .lines
                .iter()
                .filter(|line| {
                    line.name() == format!("async_task_t{i}_done")
                        || line.name() == format!("async_task_t{i}_fail")
                })
                .count();
            prop_assert_eq!(ends, 1, "t{} in:\n{}", i, run.stderr);
        }
        prop_assert_eq!(run.perf_guard().field("async_tasks_total"), specs.len().to_string());

        // Caps, from the timestamps.
        let intervals = task_intervals(&run);
        prop_assert_eq!(intervals.len(), specs.len());
        prop_assert!(max_overlap(&intervals) <= global_cap as usize, "{}", run.stderr);
        let in_class: Vec<_> = intervals
            .iter()
            .filter(|(label, _, _)| specs[label[1..].parse::<usize>().unwrap()].in_class)
            .cloned()
            .collect();
        prop_assert!(max_overlap(&in_class) <= class_cap as usize, "{}", run.stderr);

        // Within a class (or among classless tasks), starts follow priority,
        // then id.
        let rank = |p: &str| ["critical", "normal", "cosmetic"].iter().position(|&q| q == p).unwrap();
        for class in [false, true] {
            let started: Vec<(usize, String)> = run
                .lines
                .iter()
                .filter_map(|line| {
                    let label = line.name().strip_prefix("async_task_")?.strip_suffix("_start")?;
                    let spec = &specs[label[1..].parse::<usize>().ok()?];
                    (spec.in_class == class).then(|| (rank(spec.priority), label.to_string()))
                })
                .collect();
            let mut sorted = started.clone();
            sorted.sort();
            prop_assert_eq!(started, sorted, "{}", run.stderr);
        }
    }
}
