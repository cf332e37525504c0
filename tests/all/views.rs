//! The views as snapshots: each fed the same fixed run
//! (`tests/ui/views/run.events`: a task done with a sub-segment and
//! progress, one failed, one timed out, one skipped), its output compared
//! with a file beside it under `tests/ui/views/`. `CORRAL_BLESS=1`
//! rewrites them after an intended change; review the diff.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::{Fixture, compare_golden, require};
use crate::terminal::{Tmux, shell_quote};

fn views_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/ui/views")
}

/// A fixture holding the fixed run as `run.events`, and a manifest with
/// its tasks' timeouts (what the elapsed bars are drawn against).
fn fixed_run() -> Fixture {
    let fixture = Fixture::new();
    let events = std::fs::read_to_string(views_dir().join("run.events")).unwrap();
    fixture.write("run.events", events);
    let mut manifest = String::new();
    for (id, timeout_ms) in [
        ("a_done", 1500),
        ("b_failed", 1500),
        ("c_timed_out", 200),
        ("d_skipped", 1500),
    ] {
        manifest.push_str(&format!(
            "[[task]]\nid = \"{id}\"\nrationale = \"t\"\ncomponent = \"{id}.wasm\"\ntimeout_ms = {timeout_ms}\n"
        ));
    }
    fixture.manifest(&manifest);
    fixture
}

#[test]
fn the_report_of_a_fixed_run() {
    let fixture = fixed_run();
    let report = fixture.corral(&["report", "run.events", "--out", "report.svg"]);
    assert_eq!(report.code, Some(0), "{}", report.stderr);
    let svg = std::fs::read_to_string(fixture.path().join("report.svg")).unwrap();
    compare_golden(&views_dir().join("report.svg"), &svg, true);
}

/// `corral watch` on a 120x30 terminal once the run has finished: every
/// figure on screen comes from the events, none from the clock.
#[test]
fn the_watch_screen_of_a_fixed_run() {
    if !require(&["tmux"]) {
        return;
    }
    let fixture = fixed_run();
    let corral = shell_quote(env!("CARGO_BIN_EXE_corral"));
    let home = fixture.path().display().to_string();
    let tmux = Tmux::start(
        fixture.path(),
        &format!("{corral} watch --events run.events"),
        &[
            ("HOME", &home),
            ("TERM", "xterm-256color"),
            ("PATH", "/usr/bin:/bin"),
        ],
    );
    let mut screen = tmux.wait_for(Duration::from_secs(30), "the finished run", |screen| {
        screen.contains("finished:") && screen.contains("c_timed_out")
    });
    // The same screen a few frames (100 ms each) apart: drawing is over.
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(300));
        let again = tmux.screen();
        if again == screen {
            break;
        }
        screen = again;
    }
    compare_golden(&views_dir().join("watch.screen"), &screen, true);
    tmux.send(&["q"]);
}

/// The live status line of `corral run` midway through the fixed run
/// (before any task ended), each running task shown as 120 ms in.
#[test]
fn the_status_line_midway_through_a_fixed_run() {
    let events = std::fs::read_to_string(views_dir().join("run.events")).unwrap();
    let midway: String = events
        .lines()
        .take_while(|line| !line.contains("_fail ms=") && !line.contains("_done ms="))
        .map(|line| format!("{line}\n"))
        .collect();
    let timeouts = HashMap::from([
        ("a_done".to_string(), 1500),
        ("b_failed".to_string(), 1500),
        ("c_timed_out".to_string(), 200),
    ]);
    let line = corral::status_line_of(&midway, &timeouts, 120);
    compare_golden(&views_dir().join("status.line"), &format!("{line}\n"), true);
    // Once every task has ended, nothing is drawn.
    assert_eq!(corral::status_line_of(&events, &timeouts, 120), "");
}

/// `corral bench`'s table of a fixed capture (the JSON `--baseline`
/// reads): a task within its budgets, one that always fails, one whose
/// fuel varies, a finding and a note.
#[test]
fn the_bench_table_of_a_fixed_capture() {
    let json = std::fs::read_to_string(views_dir().join("bench.json")).unwrap();
    let capture = corral::BenchCapture::from_json(&json).unwrap();
    let table = corral::render_bench_table(&capture);
    compare_golden(&views_dir().join("bench.table"), &table, true);
}
