//! Many shells at once, hostile paths, every signal: each finding of the
//! reliability review, reproduced through the real binary.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::FileTypeExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use corral::{Event, FailReason};

use crate::support::{
    Fixture, Run, decode_events, grant, probe_task, shipped_manifest, wait_for_runs_to_end,
};

/// Every `_start` in `events` is followed by exactly one `_done`/`_fail`.
fn assert_every_start_ends_once(events: &[Event], context: &str) {
    for event in events {
        if let Event::TaskStart { label, .. } = event {
            let ends = events
                .iter()
                .filter(|end| match end {
                    Event::TaskDone { label: l, .. } | Event::TaskFail { label: l, .. } => {
                        l == label
                    }
                    _ => false,
                })
                .count();
            assert_eq!(ends, 1, "{label} in:\n{context}");
        }
    }
}

/// Twenty shells start the shipped tasks on one state directory at once.
#[test]
fn twenty_simultaneous_runs_all_succeed_and_nothing_is_torn() {
    let fixture = Fixture::new();
    fixture.write("manifest.toml", shipped_manifest());
    let children: Vec<_> = (0..20)
        .map(|_| {
            fixture
                .command(&["run"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut started = 0;
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        let events = decode_events(&stderr);
        assert_every_start_ends_once(&events, &stderr);
        for event in &events {
            match event {
                Event::TaskStart { .. } => started += 1,
                Event::TaskFail { .. } => panic!("a task failed:\n{stderr}"),
                _ => {}
            }
        }
    }
    // Outside any repository the repository-bound git_status is skipped.
    assert!(started >= 3, "each task ran at least once");
    // Whole results and a whole baseline, and no temporary left behind.
    let state = fixture.path().join(".corral");
    for id in ["completion_cache_scan", "integrity_scan", "theme_palette"] {
        let result = fixture.corral(&["result", id]);
        assert_eq!(result.code, Some(0), "{id}: {}", result.stderr);
    }
    let baseline = std::fs::read_to_string(state.join("integrity/baseline.sha256")).unwrap();
    assert!(!baseline.is_empty());
    for line in baseline.lines() {
        let (digest, path) = line.split_once("  ").unwrap_or_else(|| panic!("{line:?}"));
        assert!(digest.len() == 64 && !path.is_empty(), "torn line {line:?}");
    }
    let index = std::fs::read_to_string(state.join("cache/completions/completions.index")).unwrap();
    assert!(
        index.lines().all(|line| line.split('\t').count() == 3),
        "{index}"
    );
    for dir in ["results", "integrity", "cache/completions"] {
        for entry in std::fs::read_dir(state.join(dir)).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            assert!(!name.contains(".tmp"), "{dir}/{name} left behind");
        }
    }
}

/// A second run of a task that is still running skips it, and says why.
#[test]
fn a_task_running_in_another_process_is_skipped_with_a_reason() {
    let fixture = Fixture::new();
    fixture.manifest(&probe_task("slow", &["sleep", "1500"], "timeout_ms = 4000"));
    let mut first = fixture
        .command(&["run"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(first.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("async_task_slow_start") {
        line.clear();
        assert_ne!(stderr.read_line(&mut line).unwrap(), 0);
    }
    let second = fixture.corral(&["run"]);
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    let skipped = second.segment("async_task_slow_skipped");
    assert_eq!(skipped.field("reason"), "running");
    assert!(!second.has_segment("async_task_slow_start"));
    assert_eq!(second.perf_guard().field("async_tasks_skipped"), "1");
    assert!(first.wait().unwrap().success());
}

/// Simultaneous detached runs each write their own event file, and
/// `last-run.events` leads to the newest.
#[test]
fn simultaneous_detached_runs_each_get_their_own_event_file() {
    let fixture = Fixture::new();
    fixture.manifest(&probe_task("quick", &["ok"], ""));
    let children: Vec<_> = (0..5)
        .map(|_| fixture.command(&["run", "--detach"]).spawn().unwrap())
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let runs = fixture.path().join(".corral/runs");
    crate::terminal::eventually(Duration::from_secs(20), "five whole event files", || {
        std::fs::read_dir(&runs).is_ok_and(|files| {
            let texts: Vec<String> = files
                .map(|file| std::fs::read_to_string(file.unwrap().path()).unwrap())
                .collect();
            texts.len() == 5 && texts.iter().all(|text| text.contains("PERF_GUARD"))
        })
    });
    for file in std::fs::read_dir(&runs).unwrap() {
        let path = file.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.matches("async_queue_init").count(), 1, "{text}");
        let report = fixture.corral(&["report", path.to_str().unwrap(), "--out", "t.svg"]);
        assert_eq!(report.code, Some(0), "{}", report.stderr);
    }
    let link = fixture.path().join(".corral/last-run.events");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(&link)
            .unwrap()
            .contains("PERF_GUARD")
    );
}

/// `--events` naming a symbolic link is refused; a link planted where a
/// detached run writes is replaced, never followed.
#[test]
fn event_files_are_never_written_through_symbolic_links() {
    let fixture = Fixture::new();
    fixture.manifest(&probe_task("quick", &["ok"], ""));
    let precious = fixture.write("precious", "keep me");
    std::os::unix::fs::symlink(&precious, fixture.path().join("events.log")).unwrap();
    let run = fixture.corral(&["run", "--events", "events.log"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("symbolic link"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep me");

    std::fs::create_dir(fixture.path().join(".corral")).unwrap();
    let planted = fixture.path().join(".corral/last-run.events");
    std::os::unix::fs::symlink(&precious, &planted).unwrap();
    let detached = fixture.corral(&["run", "--detach"]);
    assert_eq!(detached.code, Some(0), "{}", detached.stderr);
    // The detached run writes its events to the end (PERF_GUARD), and once
    // it has ended it has written all it ever will.
    wait_for_runs_to_end(&fixture, 1);
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep me");
    let target = std::fs::read_link(&planted).unwrap();
    assert!(
        target.starts_with("runs/"),
        "the planted link was replaced: {target:?}"
    );
    // A planted `results` link is refused, not followed into the fixture.
    // (Planted only now: a run refuses it before writing any event, so a
    // detached run would have ended without writing through `planted`.)
    let results = fixture.path().join(".corral/results");
    std::fs::remove_dir_all(&results).unwrap();
    std::os::unix::fs::symlink(fixture.path(), &results).unwrap();
    let run = fixture.corral(&["run"]);
    assert_eq!(run.code, Some(4), "{}", run.stderr);
    assert!(run.stderr.contains("symbolic link"), "{}", run.stderr);
    assert!(!fixture.path().join("quick").exists());
}

/// Closing the terminal (SIGHUP) ends a run like Ctrl-C does.
#[test]
fn sighup_cancels_the_run_and_every_started_task_ends() {
    let fixture = Fixture::new();
    fixture.manifest(&probe_task(
        "looper",
        &["loop"],
        "timeout_ms = 5000\nfuel = 1_000_000_000_000_000",
    ));
    let mut child = fixture
        .command(&["run", "--events", "events.log"])
        .spawn()
        .unwrap();
    let events = fixture.path().join("events.log");
    crate::terminal::eventually(Duration::from_secs(20), "the task to start", || {
        std::fs::read_to_string(&events).is_ok_and(|text| text.contains("looper_start"))
    });
    let status = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(child.wait().unwrap().code(), Some(129));
    let text = std::fs::read_to_string(&events).unwrap();
    let events = decode_events(&text);
    assert_every_start_ends_once(&events, &text);
    assert!(
        events.iter().any(|event| matches!(event,
            Event::TaskFail { reason: FailReason::Cancelled, message, .. } if message.contains("SIGHUP"))),
        "{text}"
    );
    assert!(matches!(events.last(), Some(Event::Summary(_))), "{text}");
}

/// Shadow copies count against the task's timeout and are always removed.
#[test]
fn a_shadow_copy_is_bounded_by_the_timeout_and_removed() {
    let fixture = Fixture::new();
    let big = fixture.mkdir("big");
    for i in 0..20_000 {
        std::fs::write(big.join(format!("f{i}")), "x").unwrap();
    }
    let scratch = fixture.mkdir("tmp");
    fixture.manifest(&probe_task(
        "writer",
        &["ok"],
        &format!("timeout_ms = 50\n{}", grant(&big, "/out", "rw")),
    ));
    let run = fixture.corral_with(
        &["run", "--mode", "shadow"],
        &[("TMPDIR", scratch.to_str().unwrap())],
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let fail = run.assert_failed("writer", "timeout");
    assert!(
        fail.field("message").contains("shadow copy"),
        "{}",
        run.stderr
    );
    assert!(!run.has_segment("async_watchdog"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_dir(&scratch).unwrap().count(),
        0,
        "copy left behind"
    );
    assert!(!fixture.path().join(".corral/watchdog.tripped").exists());
}

/// Compiling a component counts as progress: a first compilation longer
/// than three timeouts does not trip the watchdog, and is cached.
#[test]
fn a_long_first_compile_does_not_trip_the_watchdog() {
    let fixture = Fixture::new();
    let cache = fixture.mkdir("fresh-cache");
    // A 20 ms timeout: a 60 ms watchdog, far shorter than compiling the
    // probe into an empty cache.
    fixture.manifest(&probe_task("quick", &["ok"], "timeout_ms = 20"));
    let run = fixture.corral_with(&["run"], &[("CORRAL_CACHE_DIR", cache.to_str().unwrap())]);
    assert!(!run.has_segment("async_watchdog"), "{}", run.stderr);
    assert!(!run.stderr.contains("reason=cancelled"), "{}", run.stderr);
    assert!(run.stderr.contains("for the first time"), "{}", run.stderr);
    assert!(!fixture.path().join(".corral/watchdog.tripped").exists());
    let cached = std::fs::read_dir(&cache)
        .unwrap()
        .filter(|entry| {
            entry
                .as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|e| e == "cwasm")
        })
        .count();
    assert_eq!(cached, 1, "the compilation is kept");
}

fn mkfifo(path: &std::path::Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

/// A FIFO nobody reads, a FIFO or a device as the manifest: clear errors,
/// quickly, never a hang or an endless read.
#[test]
fn fifos_and_devices_never_hang_a_run() {
    let fixture = Fixture::new();
    fixture.manifest(&probe_task("quick", &["ok"], ""));
    let fifo = fixture.path().join("events.fifo");
    mkfifo(&fifo);
    let started = Instant::now();
    let run = fixture.corral(&["run", "--events", "events.fifo"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("no reader"), "{}", run.stderr);
    assert!(started.elapsed() < Duration::from_secs(10));

    // With a reader, the FIFO gets the events.
    let reader = std::thread::spawn({
        let fifo = fifo.clone();
        move || {
            let mut text = String::new();
            std::fs::File::open(fifo)
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            text
        }
    });
    let run = fixture.corral(&["run", "--events", "events.fifo"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(reader.join().unwrap().contains("PERF_GUARD"));

    let manifest_fifo = fixture.path().join("manifest.fifo");
    mkfifo(&manifest_fifo);
    assert!(
        std::fs::metadata(&manifest_fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
    for manifest in ["manifest.fifo", "/dev/zero"] {
        let started = Instant::now();
        let run = fixture.corral(&["check", "--manifest", manifest]);
        assert_eq!(run.code, Some(2), "{manifest}: {}", run.stderr);
        assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
        assert!(started.elapsed() < Duration::from_secs(10));
    }
    fixture.write("huge.toml", vec![b'#'; 17 << 20]);
    let run = fixture.corral(&["check", "--manifest", "huge.toml"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("larger than"), "{}", run.stderr);
}

/// A `[[task.dir]]` whose host path may hold any character, written as
/// TOML escapes it.
fn toml_grant(host: &str, guest: &str, mode: &str) -> String {
    let host = toml::Value::String(host.to_string());
    format!("[[task.dir]]\nhost = {host}\nguest = {guest:?}\nmode = {mode:?}\n")
}

/// Paths are shown escaped everywhere, and audit judges where a grant
/// really leads.
#[test]
fn audit_cannot_be_spoofed_or_evaded() {
    let fixture = Fixture::new();
    let data = fixture.mkdir("data");
    std::os::unix::fs::symlink("/", fixture.path().join("rootlink")).unwrap();
    // A host path that, printed raw, erases its line and shows "ro".
    let spoof = format!("{}/\u{1b}[2K\rro /harmless", data.display());
    std::fs::create_dir_all(&spoof).unwrap();
    fixture.manifest(&format!(
        "{}{}{}{}",
        probe_task("a_spoof", &["ok"], &toml_grant(&spoof, "/x", "rw")),
        probe_task(
            "b_link",
            &["ok"],
            &grant(&fixture.path().join("rootlink"), "/r", "rw")
        ),
        probe_task(
            "c_dotdot",
            &["ok"],
            &grant(std::path::Path::new("/tmp/.."), "/t", "rw")
        ),
        probe_task(
            "d_proc",
            &["ok"],
            &grant(std::path::Path::new("/proc"), "/p", "ro")
        ),
    ));
    for command in [vec!["list"], vec!["audit"]] {
        let out = fixture.corral(&command);
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        assert!(!out.stdout.contains('\u{1b}') && !out.stdout.contains('\r'));
        assert!(out.stdout.contains("\\u{1b}[2K\\u{d}ro"), "{}", out.stdout);
    }
    let audit = fixture.corral(&["audit", "--json"]);
    let findings: serde_json::Value = serde_json::from_str(&audit.stdout).unwrap();
    let rules: Vec<(String, String)> = findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["task"].as_str().unwrap().into(),
                f["rule"].as_str().unwrap().into(),
            )
        })
        .collect();
    for (task, rule) in [
        ("b_link", "rw-broad"),
        ("c_dotdot", "rw-broad"),
        ("d_proc", "system-tree"),
    ] {
        assert!(
            rules.contains(&(task.to_string(), rule.to_string())),
            "{task} {rule}: {rules:?}"
        );
    }
    let mut old = std::fs::read_to_string(fixture.path().join("manifest.toml")).unwrap();
    old = old.replace("ro /harmless", "ro /elsewhere");
    fixture.write("old.toml", old);
    let diff = fixture.corral(&["audit", "--diff", "old.toml"]);
    assert!(!diff.stdout.contains('\u{1b}'), "{}", diff.stdout);
    assert!(diff.stdout.contains("harmless"), "{}", diff.stdout);
}

#[test]
fn smaller_findings() {
    let fixture = Fixture::new();
    fixture.manifest(&probe_task("quick", &["ok"], ""));

    // A closed pipe ends the output quietly, with the usual exit code.
    for command in ["list", "check", "audit"] {
        let mut child = fixture
            .command(&[command])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{command}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }

    // An id too long to name a file is a manifest error with its line.
    let long = fixture.path().join("long.toml");
    std::fs::write(
        &long,
        format!(
            "version = 1\n{}",
            probe_task(&"x".repeat(10_000), &["ok"], "")
        ),
    )
    .unwrap();
    let check = fixture.corral(&["check", "--manifest", "long.toml"]);
    assert_eq!(check.code, Some(2), "{}", check.stderr);
    assert!(check.stderr.contains("long.toml:3"), "{}", check.stderr);
    assert!(check.stderr.contains("1 to 64"), "{}", check.stderr);

    // A state directory that cannot be made fails before detaching.
    fixture.write("not-a-dir", "");
    fixture.write(
        "bad-state.toml",
        format!(
            "version = 1\n[runtime]\nstate_dir = \"not-a-dir/state\"\n{}",
            probe_task("quick", &["ok"], "")
        ),
    );
    let detached = fixture.corral(&["run", "--detach", "--manifest", "bad-state.toml"]);
    assert_eq!(detached.code, Some(4), "{}", detached.stderr);
    assert!(detached.stderr.contains("not-a-dir"), "{}", detached.stderr);

    // `corral lock` edits a symlinked manifest where it lives.
    std::fs::rename(
        fixture.path().join("manifest.toml"),
        fixture.path().join("real.toml"),
    )
    .unwrap();
    std::os::unix::fs::symlink("real.toml", fixture.path().join("manifest.toml")).unwrap();
    let lock = fixture.corral(&["lock"]);
    assert_eq!(lock.code, Some(0), "{}", lock.stderr);
    let link = std::fs::symlink_metadata(fixture.path().join("manifest.toml")).unwrap();
    assert!(link.file_type().is_symlink(), "still a link");
    let real = std::fs::read_to_string(fixture.path().join("real.toml")).unwrap();
    assert!(real.contains("sha256 = "), "{real}");

    // What a writer killed mid-write leaves is removed by the next run.
    let results = fixture.mkdir(".corral/results");
    std::fs::write(results.join(".quick.99999999.0.tmp"), "torn").unwrap();
    let run = fixture.corral(&["run"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let names: Vec<String> = std::fs::read_dir(&results)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["quick"]);
}

/// Runs task `id` once, replaces its state file `.corral/RELATIVE` with a
/// symlink to someone's file, and runs it again: that run exits 4 naming
/// the path and the fix, and the link's target is untouched.
fn run_with_symlinked_state_file(id: &str, relative: &str) -> Run {
    let fixture = Fixture::new();
    fixture.manifest(&probe_task(id, &["ok"], ""));
    assert_eq!(fixture.corral(&["run"]).code, Some(0));
    let state_file = fixture.path().join(".corral").join(relative);
    let victim = fixture.write("victim", "untouched");
    std::fs::remove_file(&state_file).unwrap();
    std::os::unix::fs::symlink(&victim, &state_file).unwrap();
    let run = fixture.corral(&["run"]);
    assert_eq!(run.code, Some(4), "{}", run.stderr);
    assert!(run.stderr.contains(relative), "{}", run.stderr);
    assert!(run.stderr.contains("help: "), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
    run
}

/// A lock file that is a symlink (to someone's file) is not corral's own:
/// the task does not run unlocked.
#[test]
fn a_symlinked_lock_refuses_its_task_and_exits_4() {
    let run = run_with_symlinked_state_file("locked", "locks/locked.lock");
    let skipped = run.segment("async_task_locked_skipped");
    assert_eq!(skipped.field("reason"), "state");
    assert!(
        !run.has_segment("async_task_locked_start"),
        "{}",
        run.stderr
    );
}

/// A result file replaced by a symlink: the task fails, and its result
/// goes nowhere near the link's target.
#[test]
fn a_symlinked_result_file_fails_its_task_and_exits_4() {
    let run = run_with_symlinked_state_file("stored", "results/stored");
    run.assert_failed("stored", "error");
}
