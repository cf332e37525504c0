//! Tasks bound to the shell's repository (`context = "repo"`), through the
//! real binary: the git status task's result against `git status
//! --porcelain=v2 --branch --show-stash` on repositories made with git,
//! runs outside any repository, coalesced reruns, and the prompt of a real
//! zsh and bash in tmux following the shell from repository to repository.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::git::{git, git_status_manifest, porcelain, repo};
use crate::support::{Fixture, parse_lines, require, wait_for_runs_to_end};
use crate::terminal::{fish_script, interactive_shell, shell_quote};

const LIMIT: Duration = Duration::from_secs(60);

/// The stored result's fields, as `corral result` prints them from `dir`.
pub fn result_fields(fixture: &Fixture, dir: &Path) -> BTreeMap<String, String> {
    let output = corral_in(fixture, dir, &["result", "git_status"]);
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout)
        .unwrap()
        .split_whitespace()
        .map(|field| {
            let (key, value) = field.split_once('=').unwrap();
            (key.to_string(), value.to_string())
        })
        .collect()
}

/// `corral ARGS` run from `dir` (as a shell in `dir` would) with the
/// fixture's manifest.
pub fn corral_in(fixture: &Fixture, dir: &Path, args: &[&str]) -> std::process::Output {
    let manifest = fixture.path().join("manifest.toml");
    let mut command =
        fixture.command(&[&["--manifest", manifest.to_str().unwrap()], args].concat());
    command.current_dir(dir).env("PWD", dir);
    command.output().unwrap()
}

fn events(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn the_result_is_for_the_repository_corral_runs_in_and_equals_git() {
    let fixture = Fixture::new();
    git_status_manifest(&fixture, false);
    let alpha = repo(fixture.path(), "alpha", "main");
    // A dirty tree, from a subdirectory: staged, unstaged, untracked,
    // ignored (not counted), and a stash.
    std::fs::write(alpha.join("tracked"), "changed\n").unwrap();
    git(&alpha, &["stash", "-q"]);
    std::fs::write(alpha.join("other"), "staged\n").unwrap();
    git(&alpha, &["add", "other"]);
    std::fs::write(alpha.join("tracked"), "unstaged\n").unwrap();
    std::fs::write(alpha.join(".gitignore"), "*.log\n").unwrap();
    std::fs::write(alpha.join("build.log"), "ignored\n").unwrap();
    let sub = alpha.join("deep/er");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(sub.join("new"), "untracked\n").unwrap();

    let run = corral_in(&fixture, &sub, &["run", "--quiet"]);
    assert!(run.status.success(), "{}", events(&run));
    assert!(events(&run).contains("async_task_git_status_done"));
    let expected = porcelain(&alpha);
    assert_eq!(result_fields(&fixture, &sub), expected);
    assert_eq!(expected["staged"], "1");

    // A linked worktree (`.git` is a file): its own branch, the common
    // directory granted beside the work tree.
    git(
        &alpha,
        &["worktree", "add", "-q", "-b", "feature", "../linked"],
    );
    let linked = fixture.path().join("linked");
    std::fs::write(linked.join("tracked"), "linked edit\n").unwrap();
    let run = corral_in(&fixture, &linked, &["run", "--quiet"]);
    assert!(run.status.success(), "{}", events(&run));
    let fields = result_fields(&fixture, &linked);
    assert_eq!(fields, porcelain(&linked));
    assert_eq!(fields["branch"], "feature");

    // Results are kept per repository: back in alpha, alpha's last
    // status, never the linked worktree's.
    let back = result_fields(&fixture, &alpha);
    assert_eq!(back["branch"], "main");
    assert_eq!(back, expected);
}

#[test]
fn outside_any_repository_the_task_is_skipped() {
    let fixture = Fixture::new();
    git_status_manifest(&fixture, false);
    let plain = fixture.mkdir("not-a-repo");
    let run = corral_in(&fixture, &plain, &["run", "--quiet"]);
    assert!(run.status.success(), "{}", events(&run));
    let text = events(&run);
    assert!(
        text.contains("async_task_git_status_skipped") && text.contains("reason=no_repo"),
        "{text}"
    );
    assert!(!text.contains("async_task_git_status_start"), "{text}");
    let result = corral_in(&fixture, &plain, &["result", "git_status"]);
    assert_eq!(result.status.code(), Some(1));
}

/// A shell whose directory was deleted still gets its prompt-time run: the
/// bound task is skipped, not the run failed.
#[test]
fn a_deleted_current_directory_skips_the_task() {
    let fixture = Fixture::new();
    git_status_manifest(&fixture, false);
    let gone = fixture.mkdir("gone");
    let manifest = fixture.path().join("manifest.toml");
    let output = Command::new("sh")
        .args([
            "-c",
            "rmdir \"$PWD\" && exec \"$0\" --manifest \"$1\" run --quiet",
        ])
        .arg(env!("CARGO_BIN_EXE_corral"))
        .arg(&manifest)
        .current_dir(&gone)
        .env("PWD", &gone)
        .env("CORRAL_CACHE_DIR", crate::support::shared_cache_dir())
        .output()
        .unwrap();
    let text = events(&output);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("reason=no_repo"), "{text}");
}

/// Ten runs asked for while one holds the repository's task: each skips at
/// once, and exactly one more run follows the holder, after it.
#[test]
fn runs_that_pile_up_coalesce_into_one_rerun() {
    let fixture = Fixture::new();
    git_status_manifest(&fixture, false);
    let alpha = repo(fixture.path(), "alpha", "main");
    // Warm the component cache so the holder's timing is its latency.
    assert!(
        corral_in(&fixture, &alpha, &["run", "--quiet"])
            .status
            .success()
    );

    let manifest = fixture.path().join("manifest.toml");
    let mut holder = fixture.command(&["--manifest", manifest.to_str().unwrap(), "run", "--quiet"]);
    let mut holder = holder
        .current_dir(&alpha)
        .env("CORRAL_FAKE_LATENCY_MS", "4000")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The holder has the lock once its task has started.
    let mut holder_events = std::io::BufReader::new(holder.stderr.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("async_task_git_status_start") {
        let mut line = String::new();
        let read = std::io::BufRead::read_line(&mut holder_events, &mut line).unwrap();
        assert!(read > 0, "the holder ended without starting:\n{seen}");
        seen.push_str(&line);
    }
    for _ in 0..10 {
        let run = corral_in(&fixture, &alpha, &["run", "--quiet"]);
        assert!(run.status.success());
        assert!(events(&run).contains("reason=running"), "{}", events(&run));
    }
    std::io::Read::read_to_string(&mut holder_events, &mut seen).unwrap();
    let held = holder.wait().unwrap();
    assert!(held.success(), "{seen}");
    assert!(seen.contains("async_task_git_status_done"), "{seen}");

    // The holder has exited, so every rerun it started has its events
    // file; once the rerun has ended, no request is left for another.
    let runs = fixture.path().join(".corral/runs");
    let reruns: Vec<_> = std::fs::read_dir(&runs).unwrap().collect();
    assert_eq!(reruns.len(), 1, "one rerun for ten requests");
    wait_for_runs_to_end(&fixture, 1);
    let left: Vec<_> = std::fs::read_dir(fixture.path().join(".corral/locks"))
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name())
        .filter(|name| name.to_string_lossy().ends_with(".rerun"))
        .collect();
    assert!(
        left.is_empty(),
        "a rerun request outlived the rerun: {left:?}"
    );
    let reruns: Vec<_> = std::fs::read_dir(&runs).unwrap().collect();
    assert_eq!(reruns.len(), 1, "one rerun for ten requests");
    let text = std::fs::read_to_string(runs.join("..").join("last-run.events")).unwrap();
    let lines = parse_lines(&text);
    assert!(
        lines
            .iter()
            .any(|line| line.name() == "async_task_git_status_done"),
        "{text}"
    );
}

/// Repositories A (`alpha-branch`) and B (`beta-branch`). The component is
/// compiled once, in a third repository, so that results in A and B can
/// only come from the shell's runs.
fn two_repositories(fixture: &Fixture) -> (PathBuf, PathBuf) {
    let alpha = repo(fixture.path(), "alpha", "alpha-branch");
    let beta = repo(fixture.path(), "beta", "beta-branch");
    let warm = repo(fixture.path(), "warm", "warm-branch");
    let run = corral_in(fixture, &warm, &["run", "--quiet"]);
    assert!(run.status.success(), "{}", events(&run));
    (alpha, beta)
}

/// A prompt that shows the branch and unstaged count of the bound result:
/// `$seg`, set by `_seg` after corral's hook has read the results.
const SEGMENT_FUNCTION: &str = r#"_seg() {
  local r=${corral_results[git_status]}
  if [[ -n $r ]]; then
    local u=${r#*unstaged=}
    seg="${r%% *} unstaged=${u%% *}"
  else
    seg=none
  fi
}
"#;

/// The shell story of the issue: cd into A shows A's branch, an edit shows
/// one unstaged file after the next command, cd into B shows B and never
/// A, cd / shows no segment; the prompt never waits for corral.
fn prompt_follows_the_shell(shell: &str) {
    if !require(&["tmux", shell, "git"]) {
        return;
    }
    let fixture = Fixture::new();
    git_status_manifest(&fixture, false);
    let (alpha, beta) = two_repositories(&fixture);

    let snippet = fixture.corral(&["shell-init", shell, "--manifest", "manifest.toml"]);
    assert_eq!(snippet.code, Some(0), "{}", snippet.stderr);
    let snippet_path = fixture.write("corral.init", &snippet.stdout);
    let source = shell_quote(&snippet_path.display().to_string());
    let (rc_name, rc) = match shell {
        "zsh" => (
            ".zshrc",
            format!(
                "setopt prompt_subst\n{SEGMENT_FUNCTION}source {source}\nprecmd_functions+=(_seg)\nPS1='[$seg] READY> '\n"
            ),
        ),
        _ => (
            "bashrc",
            format!(
                "{SEGMENT_FUNCTION}PROMPT_COMMAND=_seg\nsource {source}\nPS1='[$seg] READY> '\n"
            ),
        ),
    };
    let rc_path = fixture.write(rc_name, rc);
    let tmux = interactive_shell(fixture.path(), shell, &rc_path, LIMIT);

    // Each step types a command, then presses Enter until the newest
    // prompt shows `want`; every prompt drawn after the command must pass
    // `never`.
    let step = |command: &str, want: &str, never: &str| {
        tmux.send(&["clear", "Enter"]);
        std::thread::sleep(Duration::from_millis(200));
        tmux.send(&[command, "Enter"]);
        let deadline = std::time::Instant::now() + LIMIT;
        loop {
            std::thread::sleep(Duration::from_millis(400));
            let screen = tmux.screen();
            let after = screen
                .rsplit_once(&format!("READY> {command}\n"))
                .map(|(_, after)| after.to_string())
                .unwrap_or_default();
            assert!(
                never.is_empty() || !after.contains(never),
                "after `{command}` a prompt showed {never}:\n{screen}"
            );
            let newest = after.lines().rev().find(|line| line.contains("READY>"));
            if newest.is_some_and(|line| line.starts_with(&format!("[{want}] READY>"))) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "after `{command}` no prompt showed [{want}]:\n{screen}"
            );
            tmux.send(&["Enter"]);
        }
    };
    let cd = |dir: &Path| format!("cd {}", shell_quote(&dir.display().to_string()));
    step(&cd(&alpha), "branch=alpha-branch unstaged=0", "");
    step("echo edit >> tracked", "branch=alpha-branch unstaged=1", "");
    step(&cd(&beta), "branch=beta-branch unstaged=0", "alpha-branch");
    step("cd /", "none", "branch=");
}

#[test]
fn zsh_prompt_shows_the_status_of_the_repository_it_is_in() {
    prompt_follows_the_shell("zsh");
}

#[test]
fn bash_prompt_shows_the_status_of_the_repository_it_is_in() {
    prompt_follows_the_shell("bash");
}

/// fish has no tmux test here; its snippet is driven by emitting the
/// `fish_prompt` event in a real fish, as the prompt would.
#[test]
fn fish_shows_only_the_status_of_the_repository_it_is_in() {
    if !require(&["fish", "git"]) {
        return;
    }
    let fixture = Fixture::new();
    git_status_manifest(&fixture, false);
    let (alpha, beta) = two_repositories(&fixture);
    let snippet = fixture.corral(&["shell-init", "fish", "--manifest", "manifest.toml"]);
    assert_eq!(snippet.code, Some(0), "{}", snippet.stderr);
    let snippet_path = fixture.write("corral.fish", &snippet.stdout);
    let script = format!(
        r#"source {snippet}
function wait_for -a want
    for i in (seq 150)
        emit fish_prompt
        string match -q -- "$want*" "$corral_result_git_status"; and return
        sleep 0.2
    end
end
cd {alpha}
wait_for branch=alpha-branch
echo "A:$corral_result_git_status"
cd {beta}
emit fish_prompt
echo "B-first:$corral_result_git_status"
wait_for branch=beta-branch
echo "B:$corral_result_git_status"
cd /
emit fish_prompt
echo "root:$corral_result_git_status"
"#,
        snippet = shell_quote(&snippet_path.display().to_string()),
        alpha = shell_quote(&alpha.display().to_string()),
        beta = shell_quote(&beta.display().to_string()),
    );
    let output = fish_script(fixture.path(), fixture.path(), &script, &[]);
    let text = String::from_utf8_lossy(&output.stdout);
    let line = |prefix: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(prefix))
            .unwrap_or_else(|| {
                panic!(
                    "no {prefix} line in:\n{text}\n{}",
                    String::from_utf8_lossy(&output.stderr)
                )
            })
            .to_string()
    };
    assert!(line("A:").starts_with("branch=alpha-branch "), "{text}");
    assert!(!line("B-first:").contains("alpha"), "{text}");
    assert!(line("B:").starts_with("branch=beta-branch "), "{text}");
    assert_eq!(line("root:"), "", "{text}");
}

/// What an unpacked archive could plant in a directory the shell enters,
/// each naming a private repository's git directory: a `.git` file, the
/// same through that repository's `worktrees/`, a `.git` symlink, and a
/// `commondir` pointing out. None is granted: the bound task is skipped
/// with `reason=refused`, and `corral result` says why.
#[test]
fn planted_git_directories_are_refused_not_granted() {
    let fixture = Fixture::new();
    git_status_manifest(&fixture, false);
    let private = repo(fixture.path(), "private", "secret-branch");
    git(&private, &["worktree", "add", "-q", "../linked"]);
    let private_git = private.join(".git").canonicalize().unwrap();
    let worktree_dir = private_git.join("worktrees/linked");

    let planted = |name: &str, plant: &dyn Fn(&Path)| {
        let dir = fixture.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        plant(&dir);
        dir
    };
    let dirs = [
        planted("git-file", &|dir| {
            std::fs::write(
                dir.join(".git"),
                format!("gitdir: {}\n", private_git.display()),
            )
            .unwrap()
        }),
        planted("through-worktrees", &|dir| {
            std::fs::write(
                dir.join(".git"),
                format!("gitdir: {}\n", worktree_dir.display()),
            )
            .unwrap()
        }),
        planted("git-symlink", &|dir| {
            std::os::unix::fs::symlink(&private_git, dir.join(".git")).unwrap()
        }),
        planted("commondir-out", &|dir| {
            git(dir, &["init", "-q"]);
            std::fs::write(dir.join(".git/commondir"), private_git.to_str().unwrap()).unwrap();
        }),
    ];
    for dir in &dirs {
        let run = corral_in(&fixture, dir, &["run"]);
        let text = events(&run);
        let skipped = parse_lines(&text)
            .into_iter()
            .find(|line| line.name() == "async_task_git_status_skipped")
            .unwrap_or_else(|| panic!("{}: {text}", dir.display()));
        assert_eq!(skipped.field("reason"), "refused", "{text}");
        assert!(skipped.field("message").contains("not granted"), "{text}");
        assert!(!text.contains("secret-branch"), "{text}");
        let result = corral_in(&fixture, dir, &["result", "git_status"]);
        assert!(!result.status.success());
        let said = String::from_utf8_lossy(&result.stderr);
        assert!(said.contains("not granted"), "{said}");
    }
    // The real linked worktree still gets its common directory, and the
    // run's events name both implicit grants.
    let linked = fixture.path().join("linked");
    let run = corral_in(&fixture, &linked, &["run"]);
    assert!(run.status.success(), "{}", events(&run));
    let named = format!(
        "granted ro for the repository: {} {}",
        linked.display(),
        private_git.display()
    );
    assert!(events(&run).contains(&named), "{}", events(&run));
    // So does what `corral result` reports.
    let json = corral_in(&fixture, &linked, &["result", "git_status", "--json"]);
    let answer: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        answer["grants"],
        serde_json::json!([
            linked.display().to_string(),
            private_git.display().to_string()
        ]),
        "{answer}"
    );
    assert_eq!(result_fields(&fixture, &linked), porcelain(&linked));
}
