//! Live views in a real terminal: `corral watch` gives every task a row,
//! follows a live run as it happens and quits on `q`; `corral run` keeps a
//! status line below its event lines and erases it at the end.

use std::time::Duration;

use crate::support::{Fixture, probe_task, require, shared_cache_dir};
use crate::terminal::{Tmux, shell_quote};

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn watch_shows_every_task_of_a_run_and_quits_on_q() {
    if !require(&["tmux"]) {
        return;
    }
    let fixture = Fixture::new();
    fixture.manifest(&format!(
        "[runtime]\nmax_timeout_ms = 5000\n{}{}{}",
        probe_task("alpha", &["segments"], ""),
        probe_task("beta", &["fail-error", "nope"], ""),
        probe_task("gamma", &["sleep", "3000"], "timeout_ms = 5000"),
    ));
    let home = fixture.path().display().to_string();
    let corral = shell_quote(env!("CARGO_BIN_EXE_corral"));
    // Start the run detached, then watch it while gamma is still sleeping.
    let detached = fixture.corral(&["run", "--detach"]);
    assert_eq!(detached.code, Some(0), "{}", detached.stderr);
    let tmux = Tmux::start(
        fixture.path(),
        &format!("{corral} watch; echo WATCH-EXITED; sleep 30"),
        &[
            ("HOME", &home),
            ("TERM", "xterm-256color"),
            ("PATH", "/usr/bin:/bin"),
        ],
    );
    let screen = tmux.wait_for(LIMIT, "all three rows", |screen| {
        ["alpha", "beta", "gamma"]
            .iter()
            .all(|task| screen.contains(task))
    });
    assert!(screen.contains("elapsed / timeout"), "{screen}");
    let screen = tmux.wait_for(LIMIT, "alpha done and beta failed", |screen| {
        screen
            .lines()
            .any(|l| l.contains("alpha") && l.contains("done"))
            && screen
                .lines()
                .any(|l| l.contains("beta") && l.contains("fail error"))
    });
    assert!(
        screen.contains("phase_a"),
        "sub-segments are shown:\n{screen}"
    );
    let screen = tmux.wait_for(LIMIT, "gamma to finish", |screen| {
        screen
            .lines()
            .any(|l| l.contains("gamma") && l.contains("done"))
            && screen.contains("finished:")
    });
    assert!(screen.contains("1 failed"), "{screen}");
    tmux.send(&["q"]);
    tmux.wait_for(Duration::from_secs(5), "watch to quit on q", |screen| {
        screen.contains("WATCH-EXITED")
    });
}

#[test]
fn run_on_a_terminal_shows_a_live_status_line_then_only_event_lines() {
    if !require(&["tmux"]) {
        return;
    }
    let fixture = Fixture::new();
    let tmux = quick_and_slow_on_a_terminal(
        &fixture,
        "{corral} run; echo RUN-EXITED; {corral} run --quiet; echo QUIET-EXITED",
    );
    let screen = tmux.wait_for(LIMIT, "the live status line", |screen| {
        screen.contains("corral: running slow")
    });
    assert!(
        screen.contains("/5000ms") && screen.contains("done 1 failed 0"),
        "{screen}"
    );
    let screen = tmux.wait_for(LIMIT, "the run to end", |screen| {
        screen.contains("RUN-EXITED")
    });
    assert!(
        !screen.contains("corral: running"),
        "the status line is erased:\n{screen}"
    );
    assert!(screen.contains("async_task_slow_done"), "{screen}");
    // --quiet: plain lines only, while running too.
    std::thread::sleep(Duration::from_millis(1000));
    let screen = tmux.screen();
    assert!(
        !screen.contains("QUIET-EXITED"),
        "the quiet run is still going:\n{screen}"
    );
    assert!(!screen.contains("corral: running"), "{screen}");
    tmux.wait_for(LIMIT, "the quiet run to end", |screen| {
        screen.contains("QUIET-EXITED")
    });
}

/// The status line is fed typed events, so JSON lines get it too.
#[test]
fn json_events_on_a_terminal_also_get_the_live_status_line() {
    if !require(&["tmux"]) {
        return;
    }
    let fixture = Fixture::new();
    let tmux = quick_and_slow_on_a_terminal(
        &fixture,
        "{corral} run --events-format json; echo RUN-EXITED",
    );
    let screen = tmux.wait_for(LIMIT, "the live status line", |screen| {
        screen.contains("corral: running slow")
    });
    assert!(screen.contains("\"event\":\"segment\""), "{screen}");
    assert!(screen.contains("done 1 failed 0"), "{screen}");
    let screen = tmux.wait_for(LIMIT, "the run to end", |screen| {
        screen.contains("RUN-EXITED")
    });
    assert!(!screen.contains("corral: running"), "{screen}");
}

/// A manifest of a quick task and a 2.5 s one, and `script` (where
/// `{corral}` stands for the binary) running in a terminal in tmux.
fn quick_and_slow_on_a_terminal(fixture: &Fixture, script: &str) -> Tmux {
    fixture.manifest(&format!(
        "[runtime]\nmax_timeout_ms = 5000\n{}{}",
        probe_task("quick", &["ok"], ""),
        probe_task("slow", &["sleep", "2500"], "timeout_ms = 5000"),
    ));
    let home = fixture.path().display().to_string();
    let cache = shared_cache_dir().display().to_string();
    let script = script.replace("{corral}", &shell_quote(env!("CARGO_BIN_EXE_corral")));
    Tmux::start(
        fixture.path(),
        &format!("sh -c '{script}; sleep 30'"),
        &[
            ("HOME", &home),
            ("TERM", "xterm"),
            ("PATH", "/usr/bin:/bin"),
            ("CORRAL_CACHE_DIR", &cache),
        ],
    )
}
