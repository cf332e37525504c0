//! Test repositories built with the real `git` CLI, and the reference
//! answer: `git status --porcelain=v2 --branch --show-stash` parsed into the
//! crate's own `Status`, so each test is a comparison of two values.

#![allow(dead_code)] // each test binary uses a different part

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use git_status::{Action, Counts, Head, Options, Silent, Status, Upstream};

/// A scratch directory that holds one or more repositories.
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Self {
        Scratch {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `git init` of a new repository at `rel`.
    pub fn init(&self, rel: &str) -> Repo {
        let path = self.path(rel);
        fs::create_dir_all(&path).unwrap();
        let repo = Repo { path };
        repo.git(&["init", "-q"]);
        repo
    }

    /// Runs git in the scratch directory itself (for `clone`).
    pub fn git(&self, args: &[&str]) -> String {
        run_git(self.dir.path(), args)
    }
}

/// One work tree.
pub struct Repo {
    pub path: PathBuf,
}

impl Repo {
    pub fn at(path: PathBuf) -> Self {
        Repo { path }
    }

    pub fn git(&self, args: &[&str]) -> String {
        run_git(&self.path, args)
    }

    /// Runs git and returns whether it succeeded (for commands expected to
    /// stop on a conflict).
    pub fn git_may_fail(&self, args: &[&str]) -> bool {
        git_command(&self.path, args)
            .output()
            .expect("run git")
            .status
            .success()
    }

    pub fn write(&self, rel: &str, contents: &str) {
        let path = self.path.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
    }

    /// Writes and commits `rel`.
    pub fn commit_file(&self, rel: &str, contents: &str, message: &str) {
        self.write(rel, contents);
        self.git(&["add", "--", rel]);
        self.git(&["commit", "-q", "-m", message]);
    }

    /// Our answer, with default options.
    pub fn ours(&self) -> Status {
        self.ours_with(&Options::default())
    }

    pub fn ours_with(&self, options: &Options) -> Status {
        git_status::status(&self.path, options, &mut Silent)
            .unwrap_or_else(|e| panic!("status of {}: {e}", self.path.display()))
    }

    /// git's answer; `action` is not part of porcelain v2, so the test
    /// states it.
    pub fn theirs(&self, action: Option<Action>) -> Status {
        let porcelain = self.git(&["status", "--porcelain=v2", "--branch", "--show-stash"]);
        let mut status = parse_porcelain_v2(&porcelain);
        status.action = action;
        let rev_parse = git_command(&self.path, &["rev-parse", "--verify", "-q", "HEAD"])
            .output()
            .unwrap();
        let head_oid = String::from_utf8(rev_parse.stdout)
            .unwrap()
            .trim()
            .to_owned();
        let porcelain_oid = match &status.head {
            Head::Branch { oid, .. } => oid.clone().unwrap_or_default(),
            Head::Detached { oid } => oid.clone(),
        };
        assert_eq!(
            porcelain_oid, head_oid,
            "porcelain and rev-parse disagree on HEAD"
        );
        status
    }

    /// Compares every field, before and after git refreshed the index (our
    /// side never writes it, so the first call sees un-refreshed stat data).
    pub fn assert_matches_git(&self, action: Option<Action>) -> Status {
        let before = self.ours();
        let expected = self.theirs(action);
        assert_eq!(before, expected, "before git refreshed the index");
        assert_eq!(self.ours(), expected, "after git refreshed the index");
        expected
    }
}

/// Parses `git status --porcelain=v2 --branch --show-stash`.
pub fn parse_porcelain_v2(out: &str) -> Status {
    let mut oid = None;
    let mut branch = None;
    let mut upstream = None;
    let mut ahead_behind = None;
    let mut counts = Counts::default();
    let mut stashes = 0;
    for line in out.lines() {
        let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
        match kind {
            "#" => {
                let (key, value) = rest.split_once(' ').unwrap();
                match key {
                    "branch.oid" => oid = (value != "(initial)").then(|| value.to_owned()),
                    "branch.head" => branch = (value != "(detached)").then(|| value.to_owned()),
                    "branch.upstream" => upstream = Some(value.to_owned()),
                    "branch.ab" => {
                        let (a, b) = value.split_once(' ').unwrap();
                        ahead_behind = Some((
                            a.strip_prefix('+').unwrap().parse().unwrap(),
                            b.strip_prefix('-').unwrap().parse().unwrap(),
                        ));
                    }
                    "stash" => stashes = value.parse().unwrap(),
                    other => panic!("unknown header {other}"),
                }
            }
            "1" | "2" => {
                let xy = rest.as_bytes();
                counts.staged += usize::from(xy[0] != b'.');
                counts.unstaged += usize::from(xy[1] != b'.');
            }
            "u" => counts.conflicted += 1,
            "?" => counts.untracked += 1,
            other => panic!("unexpected porcelain line kind {other:?}: {line}"),
        }
    }
    let head = match branch {
        Some(name) => Head::Branch { name, oid },
        None => Head::Detached {
            oid: oid.expect("detached HEAD has an oid"),
        },
    };
    Status {
        head,
        upstream: upstream.map(|name| Upstream { name, ahead_behind }),
        counts: Some(counts),
        stashes,
        action: None,
    }
}

/// git, isolated from the machine's configuration and with fixed identities
/// and dates.
fn git_command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .args(args)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_COUNT", "4")
        .env("GIT_CONFIG_KEY_0", "init.defaultBranch")
        .env("GIT_CONFIG_VALUE_0", "main")
        .env("GIT_CONFIG_KEY_1", "protocol.file.allow")
        .env("GIT_CONFIG_VALUE_1", "always")
        .env("GIT_CONFIG_KEY_2", "core.editor")
        .env("GIT_CONFIG_VALUE_2", "true")
        .env("GIT_CONFIG_KEY_3", "gc.auto")
        .env("GIT_CONFIG_VALUE_3", "0")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
        .env("GIT_AUTHOR_DATE", "2024-01-02T03:04:05Z")
        .env("GIT_COMMITTER_DATE", "2024-01-02T03:04:05Z")
        .env("GIT_EDITOR", "true")
        .env("GIT_SEQUENCE_EDITOR", "true")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C");
    cmd
}

fn run_git(dir: &Path, args: &[&str]) -> String {
    let out = git_command(dir, args).output().expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} in {} failed:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 git output")
}
