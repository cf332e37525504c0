//! The shell integration, used the way a person uses it: a real zsh or bash
//! in a real terminal (tmux), with the `corral shell-init` snippet in its rc
//! file. The first prompt is drawn before corral starts anything, tasks run
//! once per shell, and results reach the prompt.

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::support::{Fixture, probe_task, require};
use crate::terminal::{eventually, interactive_shell, shell_quote};

const LIMIT: Duration = Duration::from_secs(30);

fn born(path: &Path) -> SystemTime {
    let metadata = std::fs::metadata(path).unwrap();
    metadata.created().or_else(|_| metadata.modified()).unwrap()
}

/// Sets up a fixture whose shell sources the snippet, starts it in tmux and
/// checks the whole story.
fn first_prompt_then_results(shell: &str, rc_name: &str, rc_body: impl Fn(&Path, &Path) -> String) {
    if !require(&["tmux", shell]) {
        return;
    }
    let fixture = Fixture::new();
    fixture.manifest(&probe_task("quick", &["echo-args", "from", "corral"], ""));
    let snippet = fixture.corral(&["shell-init", shell, "--manifest", "manifest.toml"]);
    assert_eq!(snippet.code, Some(0), "{}", snippet.stderr);
    let snippet_path = fixture.write("corral.init", &snippet.stdout);
    let marker = fixture.path().join("prompt-drawn");
    fixture.write(rc_name, rc_body(&snippet_path, &marker));

    let rc = fixture.path().join(rc_name);
    let tmux = interactive_shell(fixture.path(), shell, &rc, LIMIT);

    let events = fixture.path().join(".corral/last-run.events");
    eventually(LIMIT, "the detached run to finish", || {
        std::fs::read_to_string(&events).is_ok_and(|text| text.contains("PERF_GUARD"))
    });
    let text = std::fs::read_to_string(&events).unwrap();
    assert!(
        text.contains("async_task_quick_start") && text.contains("async_task_quick_done"),
        "{text}"
    );
    // The first `_start`, in wall-clock time, comes after the prompt was
    // drawn (the marker is written as the prompt is expanded).
    let lines = crate::support::parse_lines(&text);
    let queue = lines
        .iter()
        .find(|line| line.name() == "async_queue_init")
        .unwrap();
    let start = lines
        .iter()
        .find(|line| line.name().ends_with("_start"))
        .unwrap();
    let ms = |line: &crate::support::Line| line.field("ms").parse::<f64>().unwrap();
    let queue_us: f64 = queue.field("unix_us").parse().unwrap();
    let start_us = queue_us + (ms(start) - ms(queue)) * 1000.0;
    let prompt_us = born(&marker)
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_micros() as f64;
    assert!(
        prompt_us <= start_us,
        "a task started {} us before the first prompt",
        prompt_us - start_us
    );

    // The next prompt picks the result up, and nothing runs again.
    let modified = std::fs::metadata(&events).unwrap().modified().unwrap();
    tmux.send(&["Enter"]);
    tmux.send(&["echo \"got:${corral_results[quick]}\"", "Enter"]);
    tmux.wait_for(LIMIT, "the result in the shell", |screen| {
        screen.contains("got:echo-args")
    });
    let screen = tmux.screen();
    assert!(screen.contains("got:echo-args\nfrom\ncorral"), "{screen}");
    // Two more prompts; a command after them prints only once both
    // prompts' hooks have returned, and a run a hook starts has its
    // events file before the hook returns (`run --detach` creates it).
    tmux.send(&["Enter"]);
    tmux.send(&["Enter"]);
    tmux.send(&["echo \"checked:$((6 * 7))\"", "Enter"]);
    tmux.wait_for(LIMIT, "the prompts after the result", |screen| {
        screen.contains("checked:42")
    });
    let runs = std::fs::read_dir(fixture.path().join(".corral/runs")).unwrap();
    assert_eq!(runs.count(), 1, "tasks ran twice");
    assert_eq!(
        std::fs::metadata(&events).unwrap().modified().unwrap(),
        modified,
        "tasks ran twice"
    );
}

#[test]
fn zsh_runs_tasks_after_the_first_prompt_and_reads_results() {
    first_prompt_then_results("zsh", ".zshrc", |snippet, marker| {
        format!(
            "setopt prompt_subst\nPS1='$(: > {})READY> '\nsource {}\n",
            shell_quote(&marker.display().to_string()),
            shell_quote(&snippet.display().to_string())
        )
    });
}

#[test]
fn bash_runs_tasks_at_the_first_prompt_and_reads_results() {
    first_prompt_then_results("bash", "bashrc", |snippet, marker| {
        format!(
            "PS1='$(: > {})READY> '\nsource {}\n",
            shell_quote(&marker.display().to_string()),
            shell_quote(&snippet.display().to_string())
        )
    });
}
