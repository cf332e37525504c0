use super::*;
use crate::events::{Event, RunTags, Summary as PerfGuard};
use crate::mode::Mode;

/// The same run in both formats, written by the real emitter.
fn segment_lines(events: &[Event]) -> String {
    let tags = tags();
    events
        .iter()
        .map(|event| event.to_segment_line(&tags) + "\n")
        .collect()
}

fn json_lines(events: &[Event]) -> String {
    let tags = tags();
    events
        .iter()
        .map(|event| event.to_json(&tags).to_string() + "\n")
        .collect()
}

fn tags() -> RunTags {
    RunTags {
        phase: "post_plugin".into(),
        mode: Mode::On,
    }
}

fn start(label: &str, ms: f64) -> Event {
    Event::TaskStart {
        label: label.into(),
        ms,
    }
}

fn done(label: &str, ms: f64) -> Event {
    Event::TaskDone {
        label: label.into(),
        ms,
        attempts: 1,
        fuel: 81234,
        budget: None,
    }
}

fn fail(label: &str, ms: f64, reason: FailReason, message: &str) -> Event {
    Event::TaskFail {
        label: label.into(),
        ms,
        attempts: 1,
        reason,
        message: message.into(),
    }
}

/// Three tasks (done, timeout, trap), written in end order with the
/// `_start` of the earliest task last.
fn three_tasks() -> Vec<Event> {
    vec![
        Event::TaskSkipped {
            label: "motd".into(),
            cause: crate::events::SkipCause::Flag("CORRAL_TASK_MOTD".into()),
        },
        Event::QueueInit {
            ms: 0.42,
            tasks: 3,
            unix_us: 1_700_000_000_000_000,
        },
        start("prompt", 0.61),
        start("history", 0.70),
        Event::Log {
            label: "prompt".into(),
            level: crate::events::LogLevel::Info,
            message: "hello".into(),
        },
        Event::Progress {
            label: "prompt".into(),
            done: 1,
            total: 2,
        },
        Event::SubSegment {
            label: "prompt".into(),
            name: "render".into(),
            ms: 1.2,
        },
        done("prompt", 3.1),
        fail("history", 1.5, FailReason::Trap, "guest panicked"),
        start("completions", 0.51),
        fail(
            "completions",
            1500.2,
            FailReason::Timeout,
            "exceeded timeout_ms=1500",
        ),
        Event::Summary(PerfGuard {
            total: 4,
            done: 1,
            fail: 1,
            timeout: 1,
            skipped: 1,
            accumulated_ms: 1504.8,
            wall_ms: 1503.9,
            ..PerfGuard::default()
        }),
    ]
}

/// `(data-task, data-outcome)` of every lane, top to bottom.
fn lanes(svg: &str) -> Vec<(String, String)> {
    let attribute = |text: &str, name: &str| {
        let value = text.split_once(&format!("{name}=\""))?.1;
        Some(value[..value.find('"')?].to_owned())
    };
    svg.split(r#"<g class="lane" "#)
        .skip(1)
        .map(|lane| {
            let tag = &lane[..lane.find('>').unwrap()];
            (
                attribute(tag, "data-task").unwrap(),
                attribute(tag, "data-outcome").unwrap(),
            )
        })
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(task, outcome)| (task.to_string(), outcome.to_string()))
        .collect()
}

#[test]
fn segment_lines_give_one_lane_per_task_in_start_order() {
    let svg = render_svg(&segment_lines(&three_tasks())).unwrap();
    assert_eq!(
        lanes(&svg),
        pairs(&[
            ("completions", "timeout"),
            ("prompt", "done"),
            ("history", "fail"),
        ])
    );
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.ends_with("</svg>\n"));
    assert!(svg.contains("corral run: total=4 done=1 fail=1 timeout=1 skipped=1 wall_ms=1503.9"));
    assert!(svg.contains("skipped (feature flag off, or running in another corral): motd"));
    assert!(svg.contains(r#"class="queue-init""#));
    assert!(svg.contains("trap 1.50 ms"), "the reason is shown");
    assert!(svg.contains("sub-segment render, 1.20 ms"));
}

#[test]
fn json_lines_give_the_same_lanes() {
    let events = three_tasks();
    let from_json = render_svg(&json_lines(&events)).unwrap();
    assert_eq!(
        lanes(&from_json),
        lanes(&render_svg(&segment_lines(&events)).unwrap())
    );
    assert!(from_json.contains("wall_ms=1503.9"));
    assert!(from_json.contains("skipped (feature flag off, or running in another corral): motd"));
    assert!(from_json.contains("sub-segment render, 1.20 ms"));
}

#[test]
fn a_bar_spans_start_to_start_plus_duration() {
    let svg = render_svg(&segment_lines(&[
        start("a", 250.0),
        done("a", 500.0),
        start("b", 0.0),
        done("b", 1000.0),
    ]))
    .unwrap();
    // 1000 ms over 790px from x=190: `a`, the second lane, runs from
    // 387.5 to 782.5.
    assert!(
        svg.contains(r#"class="bar" x="387.5" y="90.0" width="395.0""#),
        "{svg}"
    );
}

#[test]
fn labels_with_underscores_are_told_apart() {
    let events = [
        start("gitstatus", 0.5),
        start("gitstatus_init", 0.6),
        Event::SubSegment {
            label: "gitstatus_init".into(),
            name: "load_start".into(),
            ms: 0.3,
        },
        fail("gitstatus_init", 2.0, FailReason::Fuel, "out of fuel"),
        done("gitstatus", 4.0),
    ];
    for text in [segment_lines(&events), json_lines(&events)] {
        let svg = render_svg(&text).unwrap();
        assert_eq!(
            lanes(&svg),
            pairs(&[("gitstatus", "done"), ("gitstatus_init", "fail")]),
            "{text}"
        );
        assert!(
            svg.contains("gitstatus_init: sub-segment load_start"),
            "{text}"
        );
    }
}

#[test]
fn json_lines_name_the_task_so_no_name_is_ambiguous() {
    // As a segment line this sub-segment reads as `gitstatus_init`'s end.
    let svg = render_svg(&json_lines(&[
        start("gitstatus", 0.5),
        start("gitstatus_init", 0.6),
        Event::SubSegment {
            label: "gitstatus".into(),
            name: "init_fail".into(),
            ms: 0.2,
        },
        done("gitstatus_init", 2.0),
    ]))
    .unwrap();
    assert_eq!(
        lanes(&svg),
        pairs(&[("gitstatus", "unfinished"), ("gitstatus_init", "done")])
    );
    assert!(svg.contains("gitstatus: sub-segment init_fail"));
}

#[test]
fn text_is_escaped_for_xml() {
    let events = [
        start("x", 0.5),
        fail("x", 1.0, FailReason::Error, "a <b> & \"c\" 'd' \u{1b}[31m"),
    ];
    for text in [segment_lines(&events), json_lines(&events)] {
        let svg = render_svg(&text).unwrap();
        assert!(
            svg.contains("message a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; \\u{1b}[31m"),
            "{svg}"
        );
        assert!(!svg.contains("<b>") && !svg.contains('\u{1b}'));
    }
}

#[test]
fn a_task_without_an_end_event_is_unfinished() {
    let svg = render_svg(&segment_lines(&[
        start("slow", 0.5),
        start("quick", 0.6),
        done("quick", 2.0),
    ]))
    .unwrap();
    assert_eq!(
        lanes(&svg),
        pairs(&[("slow", "unfinished"), ("quick", "done")])
    );
    assert!(svg.contains("no end event"));
    assert!(svg.contains("no PERF_GUARD line"));
}

#[test]
fn cancelled_tasks_have_their_own_outcome() {
    let svg = render_svg(&json_lines(&[
        start("x", 0.5),
        fail("x", 9.0, FailReason::Cancelled, "interrupted"),
    ]))
    .unwrap();
    assert_eq!(lanes(&svg), pairs(&[("x", "cancelled")]));
}

#[test]
fn input_without_task_events_is_an_error() {
    for text in [
        "",
        "\n\n",
        "LOG task=x level=info message=\"hi\"\nnot an event\n",
    ] {
        assert!(
            matches!(render_svg(text), Err(ReportError::NoTasks)),
            "{text:?}"
        );
    }
}

#[test]
fn malformed_event_lines_name_their_line() {
    for bad in [
        "SEGMENT name=async_task_x_done ms=soon",
        "SEGMENT name=async_task_x_done ms=inf",
        "SEGMENT ms=1.0",
        "SEGMENT name=async_task_x_fail ms=1.0 message=\"no end",
        "PERF_GUARD wall_ms 12",
        "{\"event\":\"segment\",",
        "{\"name\":\"async_task_x_start\",\"ms\":1.0}",
        "{\"event\":\"segment\",\"name\":\"async_task_x_start\",\"ms\":-1}",
    ] {
        let text = format!("SEGMENT name=async_task_x_start ms=0.5\n{bad}\n");
        assert!(
            matches!(
                render_svg(&text),
                Err(ReportError::Malformed { line: 2, .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn lines_that_are_not_events_are_skipped() {
    let text = "   Compiling corral\nSEGMENT name=async_task_x_start ms=0.5\nSEGMENTS are fun\n\
                {\"event\":\"progress\",\"task\":\"x\",\"done\":1,\"total\":2}\n\
                SEGMENT name=async_watchdog ms=900.00 tasks=x\n";
    assert_eq!(
        lanes(&render_svg(text).unwrap()),
        pairs(&[("x", "unfinished")])
    );
}

#[test]
fn no_prefix_of_an_event_file_panics() {
    let events = three_tasks();
    for text in [segment_lines(&events), json_lines(&events)] {
        for (end, _) in text.char_indices() {
            let _ = render_svg(&text[..end]);
        }
    }
}

#[test]
fn over_budget_tasks_are_marked() {
    let over = |label: &str, over: bool| Event::TaskDone {
        label: label.into(),
        ms: 30.0,
        attempts: 1,
        fuel: 500,
        budget: Some(crate::events::BudgetCheck {
            budget_ms: Some(20),
            budget_fuel: None,
            over,
        }),
    };
    let events = [
        start("slow", 0.5),
        start("fine", 0.6),
        over("slow", true),
        over("fine", false),
        Event::Summary(PerfGuard {
            total: 2,
            done: 2,
            budget_ok: 1,
            budget_over: 1,
            ..PerfGuard::default()
        }),
    ];
    for text in [segment_lines(&events), json_lines(&events)] {
        let svg = render_svg(&text).unwrap();
        assert_eq!(svg.matches(r#"data-budget="over""#).count(), 1, "{svg}");
        assert!(svg.contains(r#"data-task="slow" data-outcome="done" data-budget="over""#));
        assert!(svg.contains("30.00 ms over budget (budget_ms 20)"));
        assert!(svg.contains("budget ok: budget_ms 20"));
        assert!(svg.contains("over_budget=1"));
    }
}
