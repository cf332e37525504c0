//! The per-user server through the real binary: fresh answers that follow
//! every change of a real repository and equal `git status` field by
//! field, reuse while nothing changed, one server however many clients
//! race to start it, hostile peers, another uid, a server killed mid-run,
//! manifest edits, idle exit and an idle server that costs nothing.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::git::{git, git_status_manifest, porcelain, repo};
use crate::support::{Fixture, probe_task};
use crate::terminal::eventually;

const LIMIT: Duration = Duration::from_secs(60);

/// A server's private world: its own runtime directory (so tests never
/// share a server), stopped when dropped.
struct Home {
    runtime: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        let runtime = tempfile::tempdir().unwrap();
        Home { runtime }
    }

    fn socket_dir(&self) -> PathBuf {
        self.runtime.path().join("corral")
    }

    /// `corral ARGS` from `dir` with the fixture's manifest, this home's
    /// server and `env`.
    fn corral(&self, fixture: &Fixture, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.command(fixture, dir, args, env).output().unwrap()
    }

    fn command(
        &self,
        fixture: &Fixture,
        dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Command {
        let manifest = fixture.path().join("manifest.toml");
        let mut command =
            fixture.command(&[&["--manifest", manifest.to_str().unwrap()], args].concat());
        command
            .current_dir(dir)
            .env("PWD", dir)
            .env("XDG_RUNTIME_DIR", self.runtime.path())
            .env("CORRAL_SERVE_IDLE_SECS", "120")
            .envs(env.iter().copied());
        command
    }

    /// The fields of a `--fresh` answer from `dir`.
    fn fresh_fields(&self, fixture: &Fixture, dir: &Path) -> BTreeMap<String, String> {
        let output = self.corral(fixture, dir, &["result", "git_status", "--fresh"], &[]);
        assert!(output.status.success(), "{output:?}");
        fields(&String::from_utf8(output.stdout).unwrap())
    }

    /// `serve --status` as key=value pairs.
    fn status(&self, fixture: &Fixture) -> BTreeMap<String, String> {
        let output = self.corral(fixture, fixture.path(), &["serve", "--status"], &[]);
        assert!(output.status.success(), "{output:?}");
        fields(&String::from_utf8(output.stdout).unwrap())
    }

    fn pid(&self) -> Option<i32> {
        let text = std::fs::read_to_string(self.socket_dir().join("serve.lock")).ok()?;
        let pid: i32 = text.trim().parse().ok()?;
        alive(pid).then_some(pid)
    }

    /// Servers (of any build) serving this home now.
    fn servers(&self) -> usize {
        let wanted = format!("XDG_RUNTIME_DIR={}", self.runtime.path().display());
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter(|entry| entry.file_name().to_string_lossy().parse::<u32>().is_ok())
            .filter(|entry| {
                let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
                let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
                cmdline.split(|&b| b == 0).any(|arg| arg == b"serve")
                    && environ
                        .split(|&b| b == 0)
                        .any(|var| var == wanted.as_bytes())
            })
            .count()
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        if let Some(pid) = self.pid() {
            // SIGTERM: the server cancels its runs and exits.
            let _ = Command::new("kill").arg(pid.to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while alive(pid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

fn alive(pid: i32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // A zombie has exited.
    !stat.is_empty()
        && stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
}

fn fields(text: &str) -> BTreeMap<String, String> {
    text.split_whitespace()
        .filter_map(|field| {
            let (key, value) = field.split_once('=')?;
            Some((key.to_string(), value.to_string()))
        })
        .collect()
}

/// A manifest of one quick probe task, and a server that has answered
/// for it once.
fn quick_server() -> (Fixture, Home) {
    let fixture = Fixture::new();
    fixture.manifest(&probe_task("quick", &["ok"], ""));
    let home = Home::new();
    let first = home.corral(
        &fixture,
        fixture.path(),
        &["result", "quick", "--fresh"],
        &[],
    );
    assert!(first.status.success(), "{first:?}");
    (fixture, home)
}

#[test]
fn fresh_answers_follow_every_change_and_unchanged_ones_cost_one_run() {
    let fixture = Fixture::new();
    git_status_manifest(&fixture, true);
    let home = Home::new();
    let alpha = repo(fixture.path(), "alpha", "main");
    assert_eq!(home.fresh_fields(&fixture, &alpha), porcelain(&alpha));
    let first = home.status(&fixture);
    assert_eq!(first["runs"], "1", "{first:?}");
    // `git status` (in porcelain()) may have rewritten the index: that is
    // a change, and the next answer runs again. Then nothing changes.
    let settled = home.fresh_fields(&fixture, &alpha);
    let count = |key: &str| home.status(&fixture)[key].parse::<u64>().unwrap();
    let (runs, reused) = (count("runs"), count("reused"));
    for _ in 0..20 {
        assert_eq!(home.fresh_fields(&fixture, &alpha), settled);
    }
    assert_eq!(count("runs"), runs, "20 unchanged answers start no run");
    assert_eq!(count("reused"), reused + 20);
    assert_eq!(settled, porcelain(&alpha));

    // A change is seen by the very next answer, with no wait.
    std::fs::write(alpha.join("new"), "x").unwrap();
    let answer = home.fresh_fields(&fixture, &alpha);
    assert_eq!(answer["untracked"], "1", "{answer:?}");
    std::fs::write(alpha.join("tracked"), "changed\n").unwrap();
    let answer = home.fresh_fields(&fixture, &alpha);
    assert_eq!(answer["unstaged"], "1", "{answer:?}");
    assert_eq!(answer, porcelain(&alpha));

    // The reuse shows in the events of the answers that started no run.
    let runs_dir = fixture.path().join(".corral/runs");
    let events: String = std::fs::read_dir(&runs_dir)
        .unwrap()
        .flatten()
        .map(|entry| std::fs::read_to_string(entry.path()).unwrap())
        .collect();
    assert!(
        events.contains("name=async_task_git_status_skipped")
            && events.contains("reason=unchanged"),
        "{events}"
    );
}

/// After each step of a repository's life, the answer equals git's.
#[test]
fn the_answer_equals_git_after_every_step_of_a_long_history() {
    let _cpu = crate::support::cpu_bound();
    let fixture = Fixture::new();
    git_status_manifest(&fixture, true);
    let home = Home::new();
    let dir = repo(fixture.path(), "life", "main");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    type Step<'a> = (&'a str, Box<dyn Fn() + 'a>);
    let steps: Vec<Step> = vec![
        ("edit", Box::new(|| write("tracked", "edited\n"))),
        (
            "add",
            Box::new(|| git(&dir, &["add", "tracked"]).truncate(0)),
        ),
        ("new file", Box::new(|| write("fresh.txt", "new\n"))),
        (
            "remove",
            Box::new(|| std::fs::remove_file(dir.join("other")).unwrap()),
        ),
        (
            "git rm",
            Box::new(|| git(&dir, &["rm", "-q", "--cached", "other"]).truncate(0)),
        ),
        (
            "rename",
            Box::new(|| git(&dir, &["mv", "tracked", "moved"]).truncate(0)),
        ),
        (
            "ignore",
            Box::new(|| write(".gitignore", "*.log\nbuild/\n")),
        ),
        ("ignored write", Box::new(|| write("build/out.log", "x"))),
        (
            "write in ignored dir",
            Box::new(|| write("build/deep/a.o", "y")),
        ),
        ("unignore", Box::new(|| write(".gitignore", "*.log\n"))),
        (
            "commit",
            Box::new(|| {
                git(&dir, &["add", "-A"]);
                git(&dir, &["commit", "-q", "-m", "second"]);
            }),
        ),
        (
            "branch switch",
            Box::new(|| git(&dir, &["checkout", "-q", "-b", "topic"]).truncate(0)),
        ),
        ("edit on topic", Box::new(|| write("moved", "topic side\n"))),
        (
            "stash",
            Box::new(|| git(&dir, &["stash", "-q"]).truncate(0)),
        ),
        (
            "commit on topic",
            Box::new(|| {
                write("moved", "topic side\n");
                git(&dir, &["commit", "-q", "-am", "topic"]);
            }),
        ),
        (
            "back to main",
            Box::new(|| git(&dir, &["checkout", "-q", "main"]).truncate(0)),
        ),
        (
            "diverge",
            Box::new(|| {
                write("moved", "main side\n");
                git(&dir, &["commit", "-q", "-am", "main"]);
            }),
        ),
        (
            "merge conflict",
            Box::new(|| {
                let _ = Command::new("git")
                    .args(["merge", "-q", "topic"])
                    .current_dir(&dir)
                    .env("GIT_CONFIG_GLOBAL", "/dev/null")
                    .env("GIT_CONFIG_NOSYSTEM", "1")
                    .env("GIT_AUTHOR_NAME", "t")
                    .env("GIT_AUTHOR_EMAIL", "t@t")
                    .env("GIT_COMMITTER_NAME", "t")
                    .env("GIT_COMMITTER_EMAIL", "t@t")
                    .output()
                    .unwrap();
            }),
        ),
        (
            "reset",
            Box::new(|| git(&dir, &["reset", "-q", "--hard"]).truncate(0)),
        ),
        (
            "chmod",
            Box::new(|| {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(dir.join("moved"), std::fs::Permissions::from_mode(0o644))
                    .unwrap();
            }),
        ),
        (
            "stash pop",
            Box::new(|| git(&dir, &["stash", "drop", "-q"]).truncate(0)),
        ),
    ];
    for (name, step) in steps {
        step();
        // The answer first: git's own `git status` may rewrite the index.
        let mut ours = home.fresh_fields(&fixture, &dir);
        // porcelain=v2 does not name the operation in progress.
        let action = ours.remove("action");
        assert_eq!(
            action.is_some(),
            name == "merge conflict",
            "after {name}: {action:?}"
        );
        assert_eq!(ours, porcelain(&dir), "after {name}");
    }
}

#[test]
fn results_are_kept_per_repository_and_a_failure_is_visible() {
    let fixture = Fixture::new();
    git_status_manifest(&fixture, true);
    let home = Home::new();
    let alpha = repo(fixture.path(), "alpha", "main");
    let beta = repo(fixture.path(), "beta", "trunk");
    std::fs::write(beta.join("x"), "x").unwrap();
    assert_eq!(home.fresh_fields(&fixture, &alpha)["branch"], "main");
    assert_eq!(home.fresh_fields(&fixture, &beta)["branch"], "trunk");
    // Back in alpha, its own last status is there at once.
    let stored = home.corral(&fixture, &alpha, &["result", "git_status"], &[]);
    assert!(stored.status.success(), "{stored:?}");
    assert_eq!(
        fields(&String::from_utf8_lossy(&stored.stdout))["branch"],
        "main"
    );

    // A timeout is an answer that says so, with the last good result.
    std::fs::write(alpha.join("y"), "y").unwrap();
    let failed = home.corral(
        &fixture,
        &alpha,
        &["result", "git_status", "--fresh", "--json"],
        &[("CORRAL_FORCE_TIMEOUT", "git_status")],
    );
    assert_eq!(failed.status.code(), Some(1), "{failed:?}");
    let answer: serde_json::Value = serde_json::from_slice(&failed.stdout).unwrap();
    assert_eq!(answer["state"], "failed", "{answer}");
    assert!(
        answer["reason"].as_str().unwrap().starts_with("timeout"),
        "{answer}"
    );
    assert!(
        answer["result"].as_str().unwrap().contains("branch=main"),
        "{answer}"
    );
    // The stored result says it too, for the prompt.
    let stored = home.corral(&fixture, &alpha, &["result", "git_status", "--json"], &[]);
    let stored: serde_json::Value = serde_json::from_slice(&stored.stdout).unwrap();
    assert_eq!(stored["state"], "failed", "{stored}");
    // The next good run clears it.
    assert_eq!(home.fresh_fields(&fixture, &alpha), porcelain(&alpha));
    let stored = home.corral(&fixture, &alpha, &["result", "git_status", "--json"], &[]);
    let stored: serde_json::Value = serde_json::from_slice(&stored.stdout).unwrap();
    assert_eq!(stored["state"], "stale", "{stored}");
}

#[test]
fn ten_clients_racing_with_no_server_leave_exactly_one() {
    let _cpu = crate::support::cpu_bound();
    let fixture = Fixture::new();
    fixture.manifest(&probe_task("quick", &["ok"], ""));
    let home = Home::new();
    let children: Vec<_> = (0..10)
        .map(|_| {
            home.command(
                &fixture,
                fixture.path(),
                &["result", "quick", "--fresh"],
                &[],
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{output:?}");
        assert_eq!(String::from_utf8_lossy(&output.stdout), "ok\n");
    }
    eventually(Duration::from_secs(5), "the losing servers to exit", || {
        home.servers() == 1
    });
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(home.servers(), 1);
}

#[test]
fn hostile_peers_do_not_keep_a_client_from_its_answer() {
    let _cpu = crate::support::cpu_bound();
    let (fixture, home) = quick_server();
    let socket = home.socket_dir().join("serve.sock");
    // Garbage is answered with an error, and the server lives on.
    let mut garbage = UnixStream::connect(&socket).unwrap();
    garbage.write_all(b"\xff\x00{not json at all\n").unwrap();
    garbage
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reply = [0u8; 512];
    let read = garbage.read(&mut reply).unwrap();
    let reply = String::from_utf8_lossy(&reply[..read]);
    assert!(reply.contains("\"answer\":\"error\""), "{reply}");
    // Hundreds of idle connections, one half a request, one 16 MiB line.
    let idle: Vec<UnixStream> = (0..300)
        .filter_map(|_| UnixStream::connect(&socket).ok())
        .collect();
    let mut stalled = UnixStream::connect(&socket).unwrap();
    stalled.write_all(b"{\"build\":").unwrap();
    let flood_socket = socket.clone();
    let flood = std::thread::spawn(move || {
        let mut stream = UnixStream::connect(&flood_socket).unwrap();
        stream
            .set_write_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let line = vec![b'x'; 16 << 20];
        let _ = stream.write_all(&line);
    });
    let started = Instant::now();
    let status = home.corral(&fixture, fixture.path(), &["serve", "--status"], &[]);
    let answered = home.corral(
        &fixture,
        fixture.path(),
        &["result", "quick", "--fresh"],
        &[],
    );
    let took = started.elapsed();
    assert!(status.status.success(), "{status:?}");
    assert!(answered.status.success(), "{answered:?}");
    assert_eq!(String::from_utf8_lossy(&answered.stdout), "ok\n");
    assert!(took < Duration::from_secs(2), "answered after {took:?}");
    flood.join().unwrap();
    drop(idle);
    // The server answered without running anything new for the peers.
    assert!(home.pid().is_some(), "the server is still up");
}

#[test]
fn another_uid_cannot_connect() {
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipping: needs root to run a client as nobody");
        return;
    }
    let (fixture, home) = quick_server();
    let dir = home.socket_dir();
    let socket = dir.join("serve.sock");
    let probe = |path: &Path| {
        let script = format!(
            "import socket\ns=socket.socket(socket.AF_UNIX)\ntry:\n s.connect({:?})\nexcept OSError as e:\n print('refused', e.errno); raise SystemExit\ns.settimeout(5)\ntry:\n s.sendall(b'{{\"build\":{{}},\"op\":{{\"name\":\"status\"}}}}\\n')\n data=s.recv(4096)\nexcept (ConnectionResetError, BrokenPipeError):\n data=b''\nprint('answer', repr(data))\n",
            path.to_str().unwrap()
        );
        let output = Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "/usr/bin/python3",
                "-c",
                &script,
            ])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    // The 0700 directory stops another user before the socket.
    assert!(
        probe(&socket).starts_with("refused"),
        "the directory lets nobody in"
    );
    // Opened up by mistake, the server still refuses the peer: it closes
    // the connection without a byte.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o711)).unwrap();
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o777)).unwrap();
    let seen = probe(&socket);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(
        seen.trim(),
        "answer b''",
        "another uid got an answer: {seen}"
    );
    // A client refuses a directory others can enter, naming the fix.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let status = home.corral(&fixture, fixture.path(), &["serve", "--status"], &[]);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(status.status.code(), Some(2), "{status:?}");
    assert!(
        String::from_utf8_lossy(&status.stderr).contains("0700"),
        "{status:?}"
    );
}

#[test]
fn a_server_killed_during_a_run_leaves_nothing_torn() {
    let fixture = Fixture::new();
    fixture.manifest(&format!(
        "{}{}",
        probe_task("quick", &["echo-args", "a", "b"], ""),
        probe_task("slow", &["sleep", "1500"], "timeout_ms = 5000")
    ));
    let home = Home::new();
    let warm = home.corral(
        &fixture,
        fixture.path(),
        &["result", "quick", "--fresh"],
        &[],
    );
    assert!(warm.status.success(), "{warm:?}");
    let pid = home.pid().expect("a server");
    let client = home
        .command(
            &fixture,
            fixture.path(),
            &["result", "slow", "--fresh"],
            &[],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let events_dir = fixture.path().join(".corral/runs");
    eventually(LIMIT, "the slow task to start in the server", || {
        std::fs::read_dir(&events_dir)
            .unwrap()
            .flatten()
            .any(|entry| {
                std::fs::read_to_string(entry.path())
                    .unwrap_or_default()
                    .contains("async_task_slow_start")
            })
    });
    Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    // The client is answered all the same (here, by running the task).
    let output = client.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(!output.stdout.is_empty(), "{output:?}");
    // The next answer comes from a new server, and is right.
    let again = home.corral(
        &fixture,
        fixture.path(),
        &["result", "quick", "--fresh"],
        &[],
    );
    assert!(again.status.success(), "{again:?}");
    assert_eq!(String::from_utf8_lossy(&again.stdout), "echo-args\na\nb\n");
    let new_pid = home.pid().expect("a new server");
    assert_ne!(new_pid, pid);
    // No half-written result or temporary file is left.
    for entry in std::fs::read_dir(fixture.path().join(".corral/results"))
        .unwrap()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(!name.ends_with(".tmp"), "a temporary file was left: {name}");
    }
}

#[test]
fn manifest_edits_count_at_the_next_request_and_a_broken_one_is_refused_like_check() {
    let fixture = Fixture::new();
    fixture.manifest(&probe_task("echo", &["echo-args", "one"], ""));
    let home = Home::new();
    let ask = || {
        home.corral(
            &fixture,
            fixture.path(),
            &["result", "echo", "--fresh"],
            &[],
        )
    };
    assert_eq!(String::from_utf8_lossy(&ask().stdout), "echo-args\none\n");
    fixture.manifest(&probe_task("echo", &["echo-args", "two"], ""));
    assert_eq!(String::from_utf8_lossy(&ask().stdout), "echo-args\ntwo\n");
    fixture.manifest(&format!(
        "{}\nbogus_key = 1\n",
        probe_task("echo", &["echo-args", "two"], "")
    ));
    let broken = ask();
    let check = home.corral(&fixture, fixture.path(), &["check"], &[]);
    assert_eq!(broken.status.code(), Some(2), "{broken:?}");
    assert_eq!(check.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&broken.stderr),
        String::from_utf8_lossy(&check.stderr)
    );
    fixture.manifest(&probe_task("echo", &["echo-args", "three"], ""));
    assert_eq!(String::from_utf8_lossy(&ask().stdout), "echo-args\nthree\n");
    assert!(home.pid().is_some(), "one server all along");
}

#[test]
fn an_idle_server_costs_nothing_and_exits_when_idle() {
    let (fixture, home) = quick_server();
    let pid = home.pid().expect("a server");
    // No thread wakes while nothing runs (the epoch clock is parked).
    let switches = || -> u64 {
        std::fs::read_dir(format!("/proc/{pid}/task"))
            .unwrap()
            .flatten()
            .map(|task| {
                let status =
                    std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
                status
                    .lines()
                    .filter(|line| line.contains("ctxt_switches"))
                    .filter_map(|line| line.split_whitespace().last()?.parse::<u64>().ok())
                    .sum::<u64>()
            })
            .sum()
    };
    std::thread::sleep(Duration::from_millis(300));
    let before = switches();
    std::thread::sleep(Duration::from_secs(2));
    let woke = switches() - before;
    assert!(woke < 20, "an idle server woke {woke} times in 2 s");

    // `--stop` stops it; `--status` then says none runs.
    let stop = home.corral(&fixture, fixture.path(), &["serve", "--stop"], &[]);
    assert!(stop.status.success(), "{stop:?}");
    assert!(!alive(pid));
    let status = home.corral(&fixture, fixture.path(), &["serve", "--status"], &[]);
    assert_eq!(status.status.code(), Some(1), "{status:?}");

    // A server started with a short idle period goes by itself.
    let short = home.corral(
        &fixture,
        fixture.path(),
        &["result", "quick", "--fresh"],
        &[("CORRAL_SERVE_IDLE_SECS", "1")],
    );
    assert!(short.status.success(), "{short:?}");
    let pid = home.pid().expect("a server");
    eventually(Duration::from_secs(10), "the idle server to exit", || {
        !alive(pid)
    });
}

/// A detached run and an auto-started server keep none of their
/// starter's descriptors: a shell's fd 7 (here a pipe the test reads to
/// its end) closes as soon as the starting command has returned.
#[test]
fn detached_runs_and_servers_close_inherited_descriptors() {
    let fixture = Fixture::new();
    fixture.manifest(&format!(
        "{}{}",
        probe_task("quick", &["ok"], ""),
        probe_task("slow", &["sleep", "4000"], "timeout_ms = 5000")
    ));
    let home = Home::new();
    let corral = env!("CARGO_BIN_EXE_corral");
    for args in ["run --detach --only slow", "result quick --fresh"] {
        let script = format!("exec 7>&1; {corral} --manifest manifest.toml {args} >/dev/null 2>&1");
        let command = home.command(&fixture, fixture.path(), &[], &[]);
        let started = Instant::now();
        // sh's stdout (and so fd 7) is the pipe output() reads to its end.
        let output = Command::new("sh")
            .args(["-c", &script])
            .current_dir(fixture.path())
            .envs(
                command
                    .get_envs()
                    .filter_map(|(key, value)| Some((key, value?))),
            )
            .output()
            .unwrap();
        assert!(output.status.success(), "{args}: {output:?}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{args}: the pipe stayed open for {:?}",
            started.elapsed()
        );
    }
}

/// A server outlives the directory it was started from: it answers for
/// repositories after that directory is deleted (it used to find none).
#[test]
fn a_server_started_from_a_deleted_directory_still_finds_repositories() {
    let fixture = Fixture::new();
    git_status_manifest(&fixture, true);
    let home = Home::new();
    let start_dir = fixture.mkdir("short-lived");
    let started = home.corral(&fixture, &start_dir, &["serve", "--start"], &[]);
    assert!(started.status.success(), "{started:?}");
    std::fs::remove_dir(&start_dir).unwrap();
    let dir = repo(fixture.path(), "after", "main");
    assert_eq!(home.fresh_fields(&fixture, &dir)["branch"], "main");
}

/// git's answer without refreshing the index, as a prompt that only shows
/// the status would run it: it writes nothing in the git directory.
fn porcelain_quietly(dir: &Path) -> BTreeMap<String, String> {
    crate::git::porcelain_with(dir, &["--no-optional-locks"])
}

/// How the git task listed in the server's runs so far, oldest first.
fn listing_notes(fixture: &Fixture) -> Vec<String> {
    crate::support::logged(
        fixture,
        &[
            "listing the whole work tree",
            "parts of the work tree again",
            "no earlier listing",
            "changes unknown",
        ],
    )
}

#[test]
fn a_change_in_the_work_tree_is_listed_alone_and_broken_state_only_costs_time() {
    let _cpu = crate::support::cpu_bound();
    let fixture = Fixture::new();
    git_status_manifest(&fixture, true);
    let home = Home::new();
    let dir = repo(fixture.path(), "inc", "main");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    let answer = |after: &str| {
        let ours = home.fresh_fields(&fixture, &dir);
        assert_eq!(ours, porcelain_quietly(&dir), "after {after}");
    };
    answer("the first run");
    let first = listing_notes(&fixture);
    assert!(
        first.iter().any(|note| note.contains("no earlier listing")),
        "{first:?}"
    );
    write("new.txt", "x\n");
    answer("a new file");
    write("tracked", "edited\n");
    answer("an edit");
    write("dir/deep/f", "f\n");
    answer("a new directory");
    let notes = listing_notes(&fixture);
    let alone = notes
        .iter()
        .filter(|note| note.contains("listing 1 parts of the work tree again"))
        .count();
    assert_eq!(alone, 3, "each change listed alone: {notes:?}");

    // The state the task keeps, broken every way: each costs one full
    // listing, never a wrong answer.
    let states: Vec<PathBuf> =
        std::fs::read_dir(fixture.path().join(".corral/task-state/git_status"))
            .unwrap()
            .flatten()
            .flat_map(|digest| std::fs::read_dir(digest.path()).unwrap().flatten())
            .map(|repo| repo.path().join("listing"))
            .collect();
    assert_eq!(states.len(), 1, "one state for one repository: {states:?}");
    let state = &states[0];
    let whole = std::fs::read(state).unwrap();
    let broken: [(&str, Vec<u8>); 3] = [
        ("truncated", whole[..whole.len() / 2].to_vec()),
        ("garbage", vec![0x5a; whole.len()]),
        ("empty", Vec::new()),
    ];
    for (how, bytes) in broken {
        std::fs::write(state, bytes).unwrap();
        write("new.txt", &format!("{how}\n"));
        std::fs::remove_dir_all(dir.join("dir")).unwrap();
        answer(&format!("a {how} state"));
        write("dir/deep/f", "f\n");
        answer(&format!("a change after the {how} state was replaced"));
    }
    let notes = listing_notes(&fixture);
    assert_eq!(
        notes
            .iter()
            .filter(|note| note.contains("no earlier listing"))
            .count(),
        4,
        "the first run and each broken state: {notes:?}"
    );
}
