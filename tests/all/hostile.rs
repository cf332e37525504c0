//! Hostile guests: every limit fires with its exact reason, the host
//! survives and reports a summary, neighbours still finish `_done`, and
//! nothing outside the rw grants changes by a byte.

use std::path::PathBuf;

use crate::support::{Fixture, Run, artifacts, grant, probe_task};

const CANARY: &str = "canary: must never change";

/// A fixture with `data/` (granted ro), `out/` (granted rw) and a canary
/// file outside both.
struct Arena {
    fixture: Fixture,
    data: PathBuf,
    out: PathBuf,
}

impl Arena {
    fn new() -> Self {
        let fixture = Fixture::new();
        let data = fixture.mkdir("data");
        let out = fixture.mkdir("out");
        fixture.write("canary", CANARY);
        fixture.write("data/file", "ro content");
        Arena { fixture, data, out }
    }

    fn grants(&self) -> String {
        format!(
            "{}{}",
            grant(&self.data, "/data", "ro"),
            grant(&self.out, "/out", "rw")
        )
    }

    /// Runs the given tasks plus a well-behaved neighbour, and checks what
    /// every hostile run must leave intact.
    fn run(&self, tasks: &[String]) -> Run {
        self.run_with("", tasks)
    }

    /// Like `run`, with `preamble` (such as a `[runtime]` table) first.
    fn run_with(&self, preamble: &str, tasks: &[String]) -> Run {
        let neighbour = probe_task("zz_neighbour", &["ok"], "priority = \"cosmetic\"");
        self.fixture
            .manifest(&format!("{preamble}{}{neighbour}", tasks.concat()));
        let run = self.fixture.corral(&["run"]);
        assert_eq!(
            run.code,
            Some(1),
            "host must exit normally:\n{}",
            run.stderr
        );
        run.assert_done("zz_neighbour");
        // A host panic prints `thread '...' panicked`; a guest's is a LOG line.
        assert!(
            !run.stderr.lines().any(|line| line.starts_with("thread '")),
            "{}",
            run.stderr
        );
        let summary = run.perf_guard();
        assert_eq!(
            summary.field("async_tasks_total"),
            (tasks.len() + 1).to_string(),
            "{}",
            run.stderr
        );
        assert_eq!(
            std::fs::read_to_string(self.fixture.path().join("canary")).unwrap(),
            CANARY
        );
        assert_eq!(
            std::fs::read_to_string(self.data.join("file")).unwrap(),
            "ro content"
        );
        run
    }

    fn task(&self, id: &str, args: &[&str], extra: &str) -> String {
        probe_task(id, args, &format!("{extra}\n{}", self.grants()))
    }
}

#[test]
fn cpu_budgets() {
    let arena = Arena::new();
    let endless = "timeout_ms = 400\nfuel = 1_000_000_000_000_000";
    let run = arena.run(&[
        arena.task("a_loop", &["loop"], endless),
        arena.task("b_fuel", &["spin", "1000000000000"], "fuel = 1_000_000"),
        arena.task("c_sleep", &["sleep-forever"], endless),
        arena.task("d_poll", &["poll-never"], endless),
    ]);
    run.assert_failed("a_loop", "timeout");
    let fuel = run.assert_failed("b_fuel", "fuel");
    assert!(fuel.field("message").contains("1000000"), "{}", run.stderr);
    // Blocked in host calls, where no epoch check runs: the timeout still ends them.
    for id in ["c_sleep", "d_poll"] {
        let fail = run.assert_failed(id, "timeout");
        let ms: f64 = fail.field("ms").parse().unwrap();
        assert!((400.0..4000.0).contains(&ms), "{id} ended after {ms} ms");
    }
}

#[test]
fn memory_and_stack() {
    let arena = Arena::new();
    let run = arena.run(&[
        arena.task("a_bomb", &["memory-bomb"], "memory_mb = 16"),
        arena.task("b_recurse", &["recurse"], ""),
        arena.task("c_recurse_big_frames", &["recurse-big-frames"], ""),
    ]);
    let bomb = run.assert_failed("a_bomb", "memory");
    assert!(
        bomb.field("message").contains("memory_mb"),
        "{}",
        run.stderr
    );
    run.assert_failed("b_recurse", "stack");
    // A Rust guest's own stack lives in linear memory: overflowing it is
    // an out-of-bounds access, reported as the stack overflow it is.
    let big = run.assert_failed("c_recurse_big_frames", "stack");
    assert!(big.field("message").contains("stack"), "{}", run.stderr);
}

#[test]
fn table_growth_is_capped() {
    let arena = Arena::new();
    let run = arena.run(&[format!(
        "[[task]]\nid = \"a_tables\"\nrationale = \"r\"\ncomponent = {:?}\n",
        artifacts::TABLE_GROW
    )]);
    let fail = run.assert_failed("a_tables", "memory");
    assert!(
        fail.field("message").contains("table growth"),
        "{}",
        run.stderr
    );
}

#[test]
fn host_resources_are_bounded() {
    let arena = Arena::new();
    // A 1 GiB flood is about 5e9 units of the guest's own work.
    let generous = "timeout_ms = 30000\nfuel = 100_000_000_000";
    let run = arena.run_with(
        "[runtime]\nmax_timeout_ms = 30000\n",
        &[
            arena.task("a_flood", &["stdout-flood", "1073741824"], generous),
            arena.task("b_huge_log", &["log-huge", "33554432"], "memory_mb = 256"),
            arena.task("c_leak", &["handle-leak"], generous),
            arena.task("d_random", &["random-huge", "1073741824"], ""),
            arena.task("e_result", &["return-huge", "4194304"], ""),
        ],
    );
    run.assert_done("a_flood");
    assert!(
        run.stderr.contains("stdout truncated:"),
        "flood truncation must be reported:\n{}",
        run.stderr
    );
    run.assert_done("b_huge_log");
    assert!(run.stderr.contains("bytes truncated)"), "{}", run.stderr);
    run.assert_failed("c_leak", "trap");
    run.assert_failed("d_random", "trap");
    let result = run.assert_failed("e_result", "denied");
    assert!(result.field("message").contains("cap"), "{}", run.stderr);
    // No stored result for a refused one.
    assert_eq!(arena.fixture.corral(&["result", "e_result"]).code, Some(1));
}

#[test]
fn panics_traps_and_exits_are_not_failures_returned() {
    let arena = Arena::new();
    let run = arena.run(&[
        arena.task("a_panic", &["panic"], ""),
        arena.task("b_unreachable", &["unreachable"], ""),
        arena.task("c_exit", &["exit", "1"], ""),
        arena.task("d_returned", &["fail-error", "returned"], ""),
    ]);
    run.assert_failed("a_panic", "trap");
    assert!(
        run.stderr.contains("probe panicked"),
        "panic message must be logged:\n{}",
        run.stderr
    );
    run.assert_failed("b_unreachable", "trap");
    let exit = run.assert_failed("c_exit", "trap");
    assert!(exit.field("message").contains("exited"), "{}", run.stderr);
    run.assert_failed("d_returned", "error");
}

#[test]
fn filesystem_escapes_fail_without_escaping() {
    let arena = Arena::new();
    let root = arena.fixture.path();
    std::os::unix::fs::symlink(root.join("canary"), arena.data.join("planted_abs")).unwrap();
    std::os::unix::fs::symlink("../canary", arena.data.join("planted_rel")).unwrap();
    std::os::unix::fs::symlink("loop", arena.data.join("loop")).unwrap();
    let canary = root.join("canary").display().to_string();
    let run = arena.run(&[
        arena.task("a_dotdot", &["read", "/data/../canary"], ""),
        arena.task("b_absolute", &["read", &canary], ""),
        arena.task("c_planted_abs", &["read", "/data/planted_abs"], ""),
        arena.task("d_planted_rel", &["read", "/data/planted_rel"], ""),
        arena.task("e_loop", &["read", "/data/loop"], ""),
        arena.task("f_trailing_slash", &["read", "/data/file/"], ""),
        arena.task(
            "h_guest_symlink_abs",
            &["symlink", &canary, "/out/link_abs"],
            "",
        ),
        arena.task(
            "i_write_via_dotdot",
            &["write", "/out/../canary", "pwned"],
            "",
        ),
    ]);
    for id in [
        "a_dotdot",
        "b_absolute",
        "c_planted_abs",
        "d_planted_rel",
        "e_loop",
        "f_trailing_slash",
        "h_guest_symlink_abs",
        "i_write_via_dotdot",
    ] {
        run.assert_failed(id, "error");
        let result = arena.fixture.corral(&["result", id]);
        assert_eq!(result.code, Some(1), "{id} stored a result");
    }
    // Logs and failure messages travel in the events: the canary's content
    // is in none of them.
    assert!(!run.stderr.contains(CANARY), "{}", run.stderr);
    // A guest may create a relative symlink whose text points outside, but
    // following it, in this run or the next, stays inside the sandbox.
    arena
        .fixture
        .manifest(&arena.task("make_link", &["symlink", "../canary", "/out/link"], ""));
    let made = arena.fixture.corral(&["run"]);
    assert!(
        made.has_segment("async_task_make_link_done"),
        "{}",
        made.stderr
    );
    let run = arena.run(&[arena.task("a_follow", &["read", "/out/link"], "")]);
    run.assert_failed("a_follow", "error");
    assert!(
        !arena
            .fixture
            .corral(&["result", "a_follow"])
            .stdout
            .contains("canary")
    );
}

#[test]
fn read_only_grants_refuse_every_mutation() {
    let arena = Arena::new();
    let run = arena.run(&[
        arena.task("a_create", &["create", "/data/new"], ""),
        arena.task("b_write", &["write", "/data/file", "changed"], ""),
        arena.task("c_truncate", &["truncate", "/data/file"], ""),
        arena.task("d_set_size", &["set-size", "/data/file", "0"], ""),
        arena.task("e_unlink", &["unlink", "/data/file"], ""),
        arena.task("f_rename_out", &["rename", "/data/file", "/out/moved"], ""),
        arena.task(
            "g_hardlink_out",
            &["hardlink", "/data/file", "/out/linked"],
            "",
        ),
        arena.task("h_mkdir", &["mkdir", "/data/sub"], ""),
    ]);
    for id in [
        "a_create",
        "b_write",
        "c_truncate",
        "d_set_size",
        "e_unlink",
        "f_rename_out",
        "g_hardlink_out",
        "h_mkdir",
    ] {
        run.assert_failed(id, "error");
    }
    let mut entries: Vec<_> = std::fs::read_dir(&arena.data)
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    entries.sort();
    assert_eq!(entries, ["file"]);
    assert_eq!(std::fs::read_dir(&arena.out).unwrap().count(), 0);
}

#[test]
fn bad_components_fail_to_load_with_the_cause() {
    let arena = Arena::new();
    let garbage = arena.fixture.write("garbage.wasm", [0x13u8; 64]);
    let core = arena.fixture.write("core.wasm", b"\0asm\x01\0\0\0");
    let component = |id: &str, path: &str| {
        format!("[[task]]\nid = {id:?}\nrationale = \"r\"\ncomponent = {path:?}\n")
    };
    let run = arena.run(&[
        component("a_garbage", &garbage.display().to_string()),
        component("b_core", &core.display().to_string()),
        component("c_wrong_world", artifacts::CORRAL_WRONG_WORLD),
        component("d_foreign", artifacts::CORRAL_FOREIGN_IMPORT),
    ]);
    let cause = |id: &str| run.assert_failed(id, "load").field("message").to_string();
    assert!(cause("a_garbage").contains("not a WebAssembly component"));
    assert!(cause("b_core").contains("core wasm module"));
    assert!(cause("c_wrong_world").contains("does not export the corral:task/task world"));
    let foreign = cause("d_foreign");
    assert!(
        foreign.contains("does not provide") && foreign.contains("corral:foreign/telemetry"),
        "{foreign}"
    );
}

#[test]
fn terminal_escapes_never_reach_the_terminal_raw() {
    let arena = Arena::new();
    let run = arena.run(&[
        arena.task("a_ansi", &["log-ansi"], ""),
        arena.task("b_fails", &["fail-error", "\u{1b}[2Jcleared"], ""),
    ]);
    run.assert_done("a_ansi");
    assert!(!run.stderr.contains('\u{1b}'), "raw escape in output");
    assert!(!run.stderr.contains('\u{7}'), "raw bell in output");
    assert!(run.stderr.contains("\\u{1b}[31mred"), "{}", run.stderr);
}
