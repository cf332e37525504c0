//! The git status task compares tracked files as git does, with full stat
//! data and native digests (`corral:task/files`): a repository cloned a
//! moment before, its index racily clean, is answered right within the
//! shipped manifest's budgets, and a mode change, a same-second rewrite, a
//! touch, a `.gitignore` edit, a file replaced by a directory and back, a
//! branch switch and a reset each give git's answer, field by field.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::git::{git, git_status_manifest, porcelain, repo};
use crate::repo_context::{corral_in, result_fields};
use crate::support::{Fixture, shipped_manifest};

/// The shipped manifest's `git_status` task alone, with its budgets.
fn shipped_git_status(fixture: &Fixture) {
    let mut manifest: toml::Table = toml::from_str(&shipped_manifest()).unwrap();
    let tasks = manifest["task"].as_array_mut().unwrap();
    tasks.retain(|task| task["id"].as_str() == Some("git_status"));
    assert_eq!(tasks.len(), 1);
    manifest.remove("version");
    fixture.manifest(&toml::to_string(&manifest).unwrap());
}

/// Our answer (run first: git's own `git status` may rewrite the index)
/// against git's.
fn assert_equals_git(fixture: &Fixture, dir: &Path, after: &str) {
    let run = corral_in(fixture, dir, &["run"]);
    assert!(run.status.success(), "after {after}: {run:?}");
    let ours = result_fields(fixture, dir);
    assert_eq!(ours, porcelain(dir), "after {after}");
}

#[test]
fn a_fresh_clone_is_answered_within_the_shipped_budgets() {
    let _cpu = crate::support::cpu_bound();
    let fixture = Fixture::new();
    shipped_git_status(&fixture);
    // 1,500 files of 32 KiB: hashing them in wasm takes more fuel than
    // the shipped budget has; natively it takes milliseconds.
    let source = fixture.mkdir("source");
    git(&source, &["init", "-q", "-b", "main"]);
    for i in 0..1500 {
        let dir = source.join(format!("d{}", i % 30));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(format!("f{i}")),
            format!("{i}\n").repeat(32 << 10 >> 2),
        )
        .unwrap();
    }
    git(&source, &["add", "."]);
    git(&source, &["commit", "-q", "-m", "many"]);
    git(fixture.path(), &["clone", "-q", "source", "clone"]);
    let clone = fixture.path().join("clone");
    let run = corral_in(&fixture, &clone, &["run"]);
    assert!(run.status.success(), "{run:?}");
    let ours = result_fields(&fixture, &clone);
    assert_eq!(ours, porcelain(&clone));
    assert_eq!(ours["upstream"], "origin/main");
}

#[test]
fn the_answer_equals_git_after_mode_racy_and_type_changes() {
    let _cpu = crate::support::cpu_bound();
    let fixture = Fixture::new();
    git_status_manifest(&fixture, false);
    let dir = repo(fixture.path(), "changes", "main");
    let tracked = dir.join("tracked");
    let chmod = |mode: u32| {
        std::fs::set_permissions(&tracked, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    let touch = |args: &[&str]| {
        let status = Command::new("touch")
            .args(args)
            .arg(&tracked)
            .status()
            .unwrap();
        assert!(status.success());
    };
    assert_equals_git(&fixture, &dir, "commit");

    chmod(0o755);
    assert_equals_git(&fixture, &dir, "chmod +x");
    chmod(0o644);
    assert_equals_git(&fixture, &dir, "chmod -x");

    // Same size, new bytes, and the index's own mtime: racily clean by
    // stat, so only the bytes can tell.
    std::fs::write(&tracked, "ONE\n").unwrap();
    touch(&["-r", dir.join(".git/index").to_str().unwrap()]);
    assert_equals_git(&fixture, &dir, "same-second rewrite");
    git(&dir, &["checkout", "-q", "--", "tracked"]);

    // Touched, not changed: the stat differs, the bytes do not.
    touch(&["-d", "2001-01-01"]);
    assert_equals_git(&fixture, &dir, "touch");

    std::fs::write(dir.join("build.log"), "x\n").unwrap();
    assert_equals_git(&fixture, &dir, "untracked log");
    std::fs::write(dir.join(".gitignore"), "*.log\n").unwrap();
    assert_equals_git(&fixture, &dir, ".gitignore edit");

    std::fs::remove_file(&tracked).unwrap();
    std::fs::create_dir(&tracked).unwrap();
    std::fs::write(tracked.join("inner"), "in\n").unwrap();
    assert_equals_git(&fixture, &dir, "file replaced by a directory");
    std::fs::remove_dir_all(&tracked).unwrap();
    git(&dir, &["checkout", "-q", "--", "tracked"]);
    assert_equals_git(&fixture, &dir, "and back");

    git(&dir, &["checkout", "-q", "-b", "topic"]);
    std::fs::write(&tracked, "topic\n").unwrap();
    git(&dir, &["commit", "-q", "-am", "topic"]);
    git(&dir, &["checkout", "-q", "main"]);
    assert_equals_git(&fixture, &dir, "branch switch");

    std::fs::write(dir.join("other"), "dirty\n").unwrap();
    git(&dir, &["add", "other"]);
    git(&dir, &["reset", "-q", "--hard"]);
    assert_equals_git(&fixture, &dir, "reset");
}
