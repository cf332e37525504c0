//! Repositories made with the real git CLI, and what `git status
//! --porcelain=v2 --branch --show-stash` says about them in the field names
//! of the git status task's result.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs git in `dir` with a fixed identity and no user or system config.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@t")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@t")
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A repository with one commit on `branch`.
pub fn repo(parent: &Path, name: &str, branch: &str) -> PathBuf {
    let dir = parent.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    git(&dir, &["init", "-q", "-b", branch]);
    std::fs::write(dir.join("tracked"), "one\n").unwrap();
    std::fs::write(dir.join("other"), "two\n").unwrap();
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-q", "-m", "first"]);
    dir
}

/// What git says, in the task's field names.
pub fn porcelain(dir: &Path) -> BTreeMap<String, String> {
    porcelain_with(dir, &[])
}

/// [`porcelain`] with git's own options before `status`.
pub fn porcelain_with(dir: &Path, options: &[&str]) -> BTreeMap<String, String> {
    let args = [
        options,
        &["status", "--porcelain=v2", "--branch", "--show-stash"],
    ]
    .concat();
    let text = git(dir, &args);
    let (mut staged, mut unstaged, mut untracked, mut conflicted, mut stashes) = (0, 0, 0, 0, 0);
    let mut fields = BTreeMap::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split(' ').collect();
        match words[..] {
            ["#", "branch.head", head] => {
                let branch = if head == "(detached)" {
                    "detached"
                } else {
                    head
                };
                fields.insert("branch".into(), branch.into());
            }
            ["#", "branch.oid", oid] => {
                let head = if oid == "(initial)" { "unborn" } else { oid };
                fields.insert("head".into(), head.into());
            }
            ["#", "branch.upstream", upstream] => {
                fields.insert("upstream".into(), upstream.into());
            }
            ["#", "branch.ab", ahead, behind] => {
                fields.insert("ahead".into(), ahead.trim_start_matches('+').into());
                fields.insert("behind".into(), behind.trim_start_matches('-').into());
            }
            ["#", "stash", n] => stashes = n.parse().unwrap(),
            ["1" | "2", xy, ..] => {
                staged += u32::from(!xy.starts_with('.'));
                unstaged += u32::from(!xy.ends_with('.'));
            }
            ["u", ..] => conflicted += 1,
            ["?", ..] => untracked += 1,
            _ => {}
        }
    }
    for (key, n) in [
        ("staged", staged),
        ("unstaged", unstaged),
        ("untracked", untracked),
        ("conflicted", conflicted),
        ("stashes", stashes),
    ] {
        fields.insert(key.into(), n.to_string());
    }
    fields
}

/// The fixture's manifest: the shipped git status task bound to the
/// shell's repository, with budgets for a racily clean 5,000-file index,
/// its results reused by the server when `reuse`.
pub fn git_status_manifest(fixture: &crate::support::Fixture, reuse: bool) {
    fixture.manifest(&format!(
        r#"[runtime]
max_timeout_ms = 10000
[[task]]
id = "git_status"
rationale = "test"
component = {:?}
context = "repo"
reuse = {reuse}
timeout_ms = 10000
fuel = 40_000_000_000
memory_mb = 256
"#,
        crate::support::artifacts::GIT_STATUS
    ));
}
