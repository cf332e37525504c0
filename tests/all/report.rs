//! `corral report`: a run's timeline with one lane per task, coloured by
//! outcome.

use corral::{Event, FailReason};

use crate::support::{Fixture, decode_events, probe_task};

#[test]
fn a_report_has_one_lane_per_task_with_its_outcome() {
    let fixture = Fixture::new();
    fixture.manifest(&format!(
        "{}{}{}{}",
        probe_task("a_done", &["segments"], ""),
        probe_task("b_failed", &["fail-error", "<broken & \"quoted\">"], ""),
        probe_task(
            "c_timed_out",
            &["loop"],
            "timeout_ms = 200\nfuel = 1_000_000_000_000_000"
        ),
        probe_task(
            "d_skipped",
            &["ok"],
            "feature_flag = \"CORRAL_TEST_NEVER_SET\""
        ),
    ));
    for format in ["segment", "json"] {
        let events = format!("events.{format}");
        let run = fixture.corral(&["run", "--events", &events, "--events-format", format]);
        assert_eq!(run.code, Some(1), "{}", run.stderr);
        let out = format!("timeline-{format}.svg");
        let report = fixture.corral(&["report", &events, "--out", &out]);
        assert_eq!(report.code, Some(0), "{}", report.stderr);
        let svg = std::fs::read_to_string(fixture.path().join(&out)).unwrap();
        assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"), "{svg}");
        let lanes: Vec<(&str, &str)> = svg
            .split("class=\"lane\"")
            .skip(1)
            .map(|lane| {
                (
                    attribute(lane, "data-task"),
                    attribute(lane, "data-outcome"),
                )
            })
            .collect();
        assert_eq!(
            lanes,
            [
                ("a_done", "done"),
                ("b_failed", "fail"),
                ("c_timed_out", "timeout")
            ],
            "{format}"
        );
        assert!(
            svg.contains("&lt;broken &amp; &quot;quoted&quot;&gt;"),
            "messages are escaped"
        );
        assert!(
            svg.contains("skipped (feature flag off, or running in another corral): d_skipped"),
            "skipped tasks are listed"
        );
        // The header and every bar say what the event file says.
        let text = std::fs::read_to_string(fixture.path().join(&events)).unwrap();
        let mut durations = Vec::new();
        for event in decode_events(&text) {
            match event {
                Event::Summary(s) => assert!(
                    svg.contains(&format!(
                        "corral run: total={} done={} fail={} timeout={} skipped={} wall_ms={:.1}",
                        s.total, s.done, s.fail, s.timeout, s.skipped, s.wall_ms
                    )),
                    "{format}: header"
                ),
                Event::TaskDone { ms, .. } => durations.push(format!(">{ms:.2} ms<")),
                Event::TaskFail { ms, reason, .. } => {
                    let shown = match reason {
                        FailReason::Timeout => "timeout".to_string(),
                        other => other.to_string(),
                    };
                    durations.push(format!(">{shown} {ms:.2} ms<"));
                }
                _ => {}
            }
        }
        assert_eq!(durations.len(), 3, "{text}");
        for duration in durations {
            assert!(svg.contains(&duration), "{format}: no bar says {duration}");
        }
    }
}

#[test]
fn a_file_without_events_is_a_clear_error() {
    let fixture = Fixture::new();
    fixture.write("empty.log", "not an event file\n");
    let report = fixture.corral(&["report", "empty.log"]);
    assert_eq!(report.code, Some(2));
    assert!(
        report.stderr.contains("no task events found"),
        "{}",
        report.stderr
    );
    assert!(!fixture.path().join("timeline.svg").exists());
}

fn attribute<'a>(text: &'a str, name: &str) -> &'a str {
    let start = text.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
    let end = start + text[start..].find('"').unwrap();
    &text[start..end]
}
