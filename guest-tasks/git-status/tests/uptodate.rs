//! Entries the crate proves unchanged from stat data alone, and those it
//! must leave to gix-status, against `git status --porcelain=v2 --branch
//! --show-stash` (see `src/uptodate.rs`).

mod support;

use std::fs;

use git_status::{Counts, Options};
use support::{Repo, Scratch};

/// Tracked `a.txt`, `dir/b.txt`, `dir/sub/c.txt`, all older than the index.
fn settled(scratch: &Scratch) -> Repo {
    let repo = scratch.init("repo");
    repo.write("a.txt", "a\n");
    repo.write("dir/b.txt", "b\n");
    repo.write("dir/sub/c.txt", "c\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "files"]);
    // Make every entry older than the index, so none is racy.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    repo.git(&["update-index", "-q", "--really-refresh"]);
    repo
}

fn assert_both_modes(repo: &Repo, expected: Counts) {
    for limited_metadata in [false, true] {
        let options = Options {
            limited_metadata,
            ..Options::default()
        };
        assert_eq!(repo.ours_with(&options).counts, Some(expected));
    }
    repo.assert_matches_git(None);
}

#[cfg(unix)]
#[test]
fn a_leading_directory_replaced_by_a_symlink() {
    let scratch = Scratch::new();
    let repo = settled(&scratch);
    // The files keep their stat data, but git no longer follows `dir`.
    fs::rename(repo.path.join("dir"), scratch.path("elsewhere")).unwrap();
    std::os::unix::fs::symlink(scratch.path("elsewhere"), repo.path.join("dir")).unwrap();
    assert_both_modes(
        &repo,
        Counts {
            unstaged: 2,
            untracked: 1,
            ..Counts::default()
        },
    );
}

#[cfg(unix)]
#[test]
fn a_file_replaced_by_a_symlink() {
    let scratch = Scratch::new();
    let repo = settled(&scratch);
    fs::remove_file(repo.path.join("a.txt")).unwrap();
    std::os::unix::fs::symlink("dir/b.txt", repo.path.join("a.txt")).unwrap();
    assert_both_modes(
        &repo,
        Counts {
            unstaged: 1,
            ..Counts::default()
        },
    );
}

#[test]
fn settled_entries_are_trusted_and_edits_found() {
    let scratch = Scratch::new();
    let repo = settled(&scratch);
    assert_both_modes(&repo, Counts::default());
    repo.write("dir/sub/c.txt", "c, longer\n");
    fs::remove_file(repo.path.join("dir/b.txt")).unwrap();
    assert_both_modes(
        &repo,
        Counts {
            unstaged: 2,
            ..Counts::default()
        },
    );
}
