//! R1-R3: the per-user server on the G1/G2 repository, each paired with
//! `git status --porcelain=v2 --branch` in the same run; then the idle
//! server's CPU and its memory after visiting 100 repositories.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use corral_test_artifacts::GIT_STATUS;

use super::{Bench, CORRAL, Row, Target, spawn, time};

/// A server of its own, in a private runtime directory; stopped on drop.
pub struct Server {
    runtime: tempfile::TempDir,
    manifest: PathBuf,
    cache: PathBuf,
    /// The server's build, learnt from its first answer.
    build: serde_json::Value,
}

impl Server {
    fn start(bench: &Bench) -> Server {
        let manifest = bench.dir.join("serve.toml");
        std::fs::write(
            &manifest,
            format!(
                "version = 1\n[runtime]\nmax_timeout_ms = 60000\nstate_dir = {:?}\n[[task]]\nid = \"git_status\"\nrationale = \"benchmark\"\ncomponent = {GIT_STATUS:?}\ncontext = \"repo\"\nreuse = true\ntimeout_ms = 60000\nfuel = 1_000_000_000_000_000\nmemory_mb = 1024\n",
                bench.dir.join("serve-state").display()
            ),
        )
        .unwrap();
        let mut server = Server {
            runtime: tempfile::tempdir().unwrap(),
            manifest,
            cache: bench.cache.clone(),
            build: serde_json::Value::Null,
        };
        // The first client starts the server; its status names its build,
        // which later requests carry.
        let first = server
            .client(&bench.dir, &["result", "git_status", "--fresh"])
            .output()
            .unwrap();
        assert!(first.status.code().is_some(), "{first:?}");
        let answer = server.raw(&serde_json::json!({
            "build": {"version": "", "exe": "", "stamp_ns": 0},
            "op": {"name": "status"},
        }));
        server.build = answer["build"].clone();
        server
    }

    fn socket(&self) -> PathBuf {
        self.runtime.path().join("corral/serve.sock")
    }

    fn client(&self, dir: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(CORRAL);
        command
            .arg("--manifest")
            .arg(&self.manifest)
            .args(args)
            .current_dir(dir)
            .env("PWD", dir)
            .env("XDG_RUNTIME_DIR", self.runtime.path())
            .env("CORRAL_CACHE_DIR", &self.cache);
        command
    }

    fn raw(&self, request: &serde_json::Value) -> serde_json::Value {
        let mut stream = UnixStream::connect(self.socket()).unwrap();
        let mut line = serde_json::to_vec(request).unwrap();
        line.push(b'\n');
        stream.write_all(&line).unwrap();
        let mut answer = String::new();
        BufReader::new(stream).read_line(&mut answer).unwrap();
        serde_json::from_str(&answer).unwrap()
    }

    /// The server's answer for `repo`, over the socket.
    fn answer(&self, repo: &Path) -> serde_json::Value {
        let answer = self.raw(&serde_json::json!({
            "build": self.build,
            "op": {
                "name": "results",
                "manifest": self.manifest,
                "cwd": repo,
                "ids": ["git_status"],
                "env": {},
            },
        }));
        assert_eq!(answer["results"][0]["state"], "fresh", "{answer}");
        answer
    }

    fn pid(&self) -> u32 {
        let text = std::fs::read_to_string(self.runtime.path().join("corral/serve.lock")).unwrap();
        text.trim().parse().unwrap()
    }

    /// User and system CPU time of the server so far.
    fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap()
            .split_whitespace()
            .collect();
        // utime and stime: fields 14 and 15 of stat(5), here 12 and 13.
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        Duration::from_millis(ticks * 10)
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.client(Path::new("/"), &["serve", "--stop"]).output();
    }
}

/// R1-R3 on `repo` (the G1/G2 repository), and the idle and memory lines.
pub fn rows(bench: &Bench, repo: &Path) -> (Vec<Row>, Vec<String>) {
    let server = Server::start(bench);
    let git = || {
        let mut command = Command::new("git");
        command
            .args(["status", "--porcelain=v2", "--branch"])
            .current_dir(repo);
        time(|| spawn(command))
    };
    // git status refreshes the index; a change corral must see. Settle it
    // before the rows that measure an unchanged repository.
    let settle = || {
        git();
        server.answer(repo);
    };
    settle();
    let r1 = Row::paired(
        "R1",
        "result git_status --fresh, nothing changed (client process) / git status",
        "<= 0.3",
        Target::AtMost(0.3),
        || {
            let baseline = git();
            server.answer(repo);
            let command = server.client(repo, &["result", "git_status", "--fresh"]);
            (baseline, time(|| spawn(command)))
        },
    );
    settle();
    let r2 = Row::paired(
        "R2",
        "the server's answer over the socket, nothing changed / git status",
        "<= 0.02",
        Target::AtMost(0.02),
        || {
            let baseline = git();
            server.answer(repo);
            (baseline, time(|| drop(server.answer(repo))))
        },
    );
    let touched = repo.join("bench-touched");
    let mut flip = false;
    let r3 = Row::paired(
        "R3",
        "a file changed -> the server holds the fresh result / git status",
        "<= 2",
        Target::AtMost(2.0),
        || {
            let baseline = git();
            server.answer(repo);
            flip = !flip;
            let changed = Instant::now();
            if flip {
                std::fs::write(&touched, "x").unwrap();
            } else {
                std::fs::remove_file(&touched).unwrap();
            }
            server.answer(repo);
            (baseline, changed.elapsed())
        },
    );
    let _ = std::fs::remove_file(&touched);
    let i1 = one_file_edit(&server, repo);

    let mut lines = Vec::new();
    let before = server.cpu();
    std::thread::sleep(Duration::from_secs(IDLE_SECS));
    lines.push(format!(
        "server CPU over {IDLE_SECS} idle seconds: {} ms (target ~0)",
        (server.cpu() - before).as_millis()
    ));
    let repos = bench.dir.join("hundred");
    for n in 0..100 {
        let dir = repos.join(format!("r{n:03}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("file"), n.to_string()).unwrap();
        for args in [
            &["init", "-q"][..],
            &["add", "-A"],
            &[
                "-c",
                "user.name=b",
                "-c",
                "user.email=b@b",
                "commit",
                "-q",
                "-m",
                "one",
            ],
        ] {
            let status = Command::new("git")
                .args(args)
                .current_dir(&dir)
                .status()
                .unwrap();
            assert!(status.success());
        }
        server.answer(&dir);
    }
    lines.push(format!(
        "server RSS after visiting 100 repositories: {:.1} MiB",
        server.rss_kib() as f64 / 1024.0
    ));
    (vec![r1, r2, r3, i1], lines)
}

/// I1: a tracked file edited, then `corral result git_status --fresh`
/// (the client process included): the git task lists that file alone
/// (`corral:task/incremental`), against a `git status` that writes
/// nothing (`--no-optional-locks`: refreshing the index would be a change
/// in the git directory, which makes the task list everything).
fn one_file_edit(server: &Server, repo: &Path) -> Row {
    let edited = repo.join("bench-edited.txt");
    std::fs::write(&edited, "one\n").unwrap();
    for args in [
        &["add", "--", "bench-edited.txt"][..],
        &[
            "-c",
            "user.name=b",
            "-c",
            "user.email=b@b",
            "commit",
            "-q",
            "-m",
            "edited",
        ],
    ] {
        let status = Command::new("git")
            .args(args)
            .current_dir(repo)
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }
    let git = || {
        let mut command = Command::new("git");
        command
            .args([
                "--no-optional-locks",
                "status",
                "--porcelain=v2",
                "--branch",
            ])
            .current_dir(repo);
        time(|| spawn(command))
    };
    let mut flip = false;
    Row::paired(
        "I1",
        "a tracked file edited -> result git_status --fresh (client process) / git status",
        "<= 0.5",
        Target::AtMost(0.5),
        || {
            let baseline = git();
            server.answer(repo);
            flip = !flip;
            std::fs::write(&edited, if flip { "two\n" } else { "one\n" }).unwrap();
            let command = server.client(repo, &["result", "git_status", "--fresh"]);
            (baseline, time(|| spawn(command)))
        },
    )
}

/// How long the idle CPU is sampled: long enough for a ticking clock
/// (200 wake-ups a second) to show, short enough for the bench.
const IDLE_SECS: u64 = 20;

/// Q1: how long the zsh prompt waits per command (precmd to zle-line-init)
/// with the server up, in an unchanged repository, against one spawn of
/// `/bin/true`; zsh in tmux, timed by the shell itself.
pub fn zsh_prompt_wait(bench: &Bench, repo: &Path) -> Option<Row> {
    let present = |program: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {program}")])
            .output()
            .is_ok_and(|output| output.status.success())
    };
    if !present("zsh") || !present("tmux") {
        eprintln!("Q1 skipped: zsh or tmux is not installed");
        return None;
    }
    let server = Server::start(bench);
    let home = bench.dir.join("q1");
    std::fs::create_dir_all(&home).unwrap();
    let snippet = server
        .client(&home, &["shell-init", "zsh"])
        .output()
        .unwrap();
    assert!(snippet.status.success(), "{snippet:?}");
    std::fs::write(home.join("corral.zsh"), &snippet.stdout).unwrap();
    let log = home.join("waits");
    std::fs::write(
        home.join(".zshrc"),
        format!(
            "zmodload zsh/datetime\n_q1_start() {{ typeset -gF _q1_t0=$EPOCHREALTIME }}\nprecmd_functions=(_q1_start)\nsource {snippet:?}\n_q1_end() {{ (( ${{+_q1_t0}} )) && print -r -- $(( (EPOCHREALTIME - _q1_t0) * 1000 )) >> {log:?}; unset _q1_t0 }}\nautoload -Uz add-zle-hook-widget && add-zle-hook-widget line-init _q1_end\nsetopt prompt_subst\nPROMPT='${{corral_results[git_status]%% *}} > '\n",
            snippet = home.join("corral.zsh"),
            log = log,
        ),
    )
    .unwrap();
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .args(["-L", "corral-bench-q1", "-f", "/dev/null"])
            .args(args)
            .output()
            .unwrap()
    };
    tmux(&[
        "new-session",
        "-d",
        "-c",
        repo.to_str().unwrap(),
        &format!(
            "env -i HOME={home} ZDOTDIR={home} PATH=/usr/bin:/bin TERM=xterm XDG_RUNTIME_DIR={runtime} CORRAL_CACHE_DIR={cache} zsh -i",
            home = home.display(),
            runtime = server.runtime.path().display(),
            cache = server.cache.display(),
        ),
    ]);
    let waits = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .count()
    };
    let prompt = || {
        let before = waits();
        tmux(&["send-keys", "Enter"]);
        let deadline = Instant::now() + Duration::from_secs(10);
        while waits() == before && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        let text = std::fs::read_to_string(&log).unwrap();
        let ms: f64 = text.lines().last().unwrap().parse().unwrap();
        Duration::from_secs_f64(ms / 1000.0)
    };
    // The first prompts connect and compute; the rows measure steady state.
    for _ in 0..5 {
        prompt();
        std::thread::sleep(Duration::from_millis(100));
    }
    let row = Row::paired(
        "Q1",
        "zsh prompt wait per command with the server, unchanged repo / spawn /bin/true",
        "<= 0.5",
        Target::AtMost(0.5),
        || {
            std::thread::sleep(Duration::from_millis(50));
            (time(|| spawn(Command::new("/bin/true"))), prompt())
        },
    );
    tmux(&["kill-server"]);
    Some(row)
}
