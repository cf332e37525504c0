//! SIGINT and SIGTERM cancel a run cleanly, and `kill -9` at any moment
//! leaves only complete event lines and whole results.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::{Fixture, Run, parse_lines, probe_task};

/// Starts a run whose task loops, waits for its `_start`, sends `signal`
/// and returns the finished run.
fn interrupt_with(signal: &str) -> Run {
    let fixture = Fixture::new();
    fixture.manifest(&format!(
        "{}{}",
        probe_task(
            "a_looper",
            &["loop"],
            "timeout_ms = 5000\nfuel = 1_000_000_000_000_000"
        ),
        probe_task("b_queued", &["ok"], ""),
    ));
    let mut child = fixture
        .command(&["run", "--max-concurrency", "1"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut text = String::new();
    while !text.contains("async_task_a_looper_start") {
        assert_ne!(stderr.read_line(&mut text).unwrap(), 0, "{text}");
    }
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    std::io::Read::read_to_string(&mut stderr, &mut text).unwrap();
    let code = child.wait().unwrap().code();
    Run {
        code,
        stdout: String::new(),
        lines: parse_lines(&text),
        stderr: text,
    }
}

fn assert_cancelled(run: &Run, cause: &str) {
    let fail = run.assert_failed("a_looper", "cancelled");
    assert!(fail.field("message").contains(cause), "{}", run.stderr);
    // The queued task never started, so it needs no terminal event.
    assert!(
        !run.has_segment("async_task_b_queued_start"),
        "{}",
        run.stderr
    );
    let summary = run.perf_guard();
    assert_eq!(summary.field("async_tasks_total"), "1");
    assert_eq!(summary.field("async_tasks_fail"), "1");
}

#[test]
fn sigint_cancels_running_tasks_and_exits_130() {
    let run = interrupt_with("-INT");
    assert_eq!(run.code, Some(130), "{}", run.stderr);
    assert_cancelled(&run, "SIGINT");
}

#[test]
fn sigterm_cancels_running_tasks_and_exits_143() {
    let run = interrupt_with("-TERM");
    assert_eq!(run.code, Some(143), "{}", run.stderr);
    assert_cancelled(&run, "SIGTERM");
}

#[test]
fn kill_9_mid_run_leaves_whole_lines_and_whole_results() {
    let fixture = Fixture::new();
    let tasks: String = (0..8)
        .map(|i| probe_task(&format!("t{i}"), &["segments"], ""))
        .collect();
    fixture.manifest(&tasks);
    let first = fixture.corral(&["run"]);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    let mut lines_checked = 0;
    for delay_ms in [0, 2, 5, 10, 20, 40] {
        let mut child = fixture
            .command(&["run", "--events", "events.jsonl", "--events-format", "json"])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap();
        child.wait().unwrap();
        let events =
            std::fs::read_to_string(fixture.path().join("events.jsonl")).unwrap_or_default();
        // Every complete line parses; only a last, unterminated one may not.
        let complete = events.rsplit_once('\n').map_or("", |(whole, _)| whole);
        for line in complete.lines() {
            corral::Decoder::default()
                .decode(line)
                .unwrap_or_else(|e| panic!("torn line after {delay_ms} ms: {line:?}: {e}"))
                .unwrap_or_else(|| panic!("not an event after {delay_ms} ms: {line:?}"));
            lines_checked += 1;
        }
        for i in 0..8 {
            let result = fixture.corral(&["result", &format!("t{i}")]);
            assert_eq!(result.stdout, "segments\n", "after kill at {delay_ms} ms");
        }
    }
    assert!(lines_checked > 0, "no kill left a complete line to check");
}
