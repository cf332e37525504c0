//! Staged counts read from packs and from the index's cache tree, against
//! `git status --porcelain=v2 --branch --show-stash`.
//!
//! Packed objects are read by range and their delta chains applied by the
//! crate (`src/pack.rs`); the `HEAD`-to-index diff reads only the trees the
//! cache tree cannot vouch for (`src/staged.rs`). These repositories make
//! both paths do real work: deltified trees and blobs, and indexes whose
//! cache tree is valid, absent, or invalidated along one path.

mod support;

use std::fs;

use git_status::Counts;
use support::{Repo, Scratch};

/// A repository whose history is packed with deltas: a larger file and a
/// directory of many files edited across many commits (so that its tree is
/// large enough to deltify), then `git gc --aggressive`, then reset to an
/// older commit, since git keeps the newest versions whole and deltifies
/// the older ones against them.
fn packed_history(scratch: &Scratch) -> Repo {
    let repo = scratch.init("repo");
    let mut big = String::new();
    for line in 0..400 {
        big.push_str(&format!("line {line} of a file that deltas well\n"));
    }
    repo.write("top.txt", "top\n");
    repo.write("src/lib.rs", "fn lib() {}\n");
    repo.write("src/deep/er/mod.rs", "fn deep() {}\n");
    repo.write("docs/guide.md", "guide\n");
    for n in 0..40 {
        repo.write(&format!("src/many/file{n}.rs"), "fn f() {}\n");
    }
    for round in 0..12 {
        repo.write(&format!("src/many/file{round}.rs"), "fn edited() {}\n");
        big.push_str(&format!("appended in round {round}\n"));
        repo.write("src/big.txt", &big);
        repo.write("docs/guide.md", &format!("guide, revision {round}\n"));
        repo.git(&["add", "-A"]);
        repo.git(&["commit", "-q", "-m", &format!("round {round}")]);
    }
    repo.git(&["gc", "-q", "--aggressive", "--prune=now"]);
    let loose = fs::read_dir(repo.path.join(".git/objects"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().len() == 2)
        .count();
    assert_eq!(loose, 0, "every object is packed");
    repo.git(&["reset", "-q", "--hard", "HEAD~6"]);
    repo
}

/// Whether object `rev` is stored as a delta (`git verify-pack -v` prints
/// a depth and a base for those).
fn is_delta(repo: &Repo, rev: &str) -> bool {
    let id = repo.git(&["rev-parse", rev]);
    let pack_dir = repo.path.join(".git/objects/pack");
    let idx = fs::read_dir(&pack_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|ext| ext == "idx"))
        .expect("a pack index");
    repo.git(&["verify-pack", "-v", idx.to_str().unwrap()])
        .lines()
        .any(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.len() == 7 && fields[0] == id.trim()
        })
}

fn has_cache_tree(repo: &Repo) -> bool {
    let index = fs::read(repo.path.join(".git/index")).unwrap();
    index.windows(4).any(|w| w == b"TREE")
}

#[test]
fn clean_with_a_valid_cache_tree() {
    let scratch = Scratch::new();
    let repo = packed_history(&scratch);
    assert!(has_cache_tree(&repo));
    let s = repo.assert_matches_git(None);
    assert_eq!(s.counts, Some(Counts::default()));
}

#[test]
fn staged_edit_reads_deltified_trees() {
    let scratch = Scratch::new();
    let repo = packed_history(&scratch);
    assert!(
        is_delta(&repo, "HEAD:src/many"),
        "the test needs a deltified tree"
    );
    repo.write("src/many/file30.rs", "fn staged() {}\n");
    repo.git(&["add", "src/many/file30.rs"]);
    repo.write("top.txt", "top, unstaged\n");
    let s = repo.assert_matches_git(None);
    assert_eq!(s.counts.unwrap().staged, 1);
}

#[test]
fn staged_rename_compares_deltified_blobs() {
    let scratch = Scratch::new();
    let repo = packed_history(&scratch);
    assert!(
        is_delta(&repo, "HEAD:src/big.txt"),
        "the test needs a deltified blob"
    );
    repo.git(&["mv", "src/big.txt", "docs/moved.txt"]);
    let mut moved = fs::read_to_string(repo.path.join("docs/moved.txt")).unwrap();
    moved.push_str("one more line, still similar\n");
    repo.write("docs/moved.txt", &moved);
    repo.git(&["add", "docs/moved.txt"]);
    let s = repo.assert_matches_git(None);
    assert_eq!(s.counts.unwrap().staged, 1, "one rename");
}

#[test]
fn index_without_a_cache_tree() {
    let scratch = Scratch::new();
    let repo = packed_history(&scratch);
    fs::remove_file(repo.path.join(".git/index")).unwrap();
    let tracked = repo.git(&["ls-tree", "-r", "--name-only", "HEAD"]);
    let mut args = vec!["update-index", "--add", "--"];
    args.extend(tracked.lines());
    repo.git(&args);
    assert!(!has_cache_tree(&repo));
    let s = repo.assert_matches_git(None);
    assert_eq!(s.counts, Some(Counts::default()));

    repo.write("src/lib.rs", "fn lib2() {}\n");
    repo.git(&["update-index", "--", "src/lib.rs"]);
    repo.git(&["update-index", "--force-remove", "--", "docs/guide.md"]);
    let s = repo.assert_matches_git(None);
    assert_eq!(s.counts.unwrap().staged, 2);
}

#[test]
fn cache_tree_invalidated_along_one_path() {
    let scratch = Scratch::new();
    let repo = packed_history(&scratch);
    repo.write("src/deep/er/new.rs", "fn new() {}\n");
    repo.git(&["add", "src/deep/er/new.rs"]);
    assert!(has_cache_tree(&repo));
    let s = repo.assert_matches_git(None);
    assert_eq!(s.counts.unwrap().staged, 1);

    // A removal elsewhere invalidates a second path; a re-add of the same
    // content leaves a subtree invalid although it equals HEAD again.
    repo.git(&["rm", "-q", "--cached", "docs/guide.md"]);
    repo.git(&["rm", "-q", "--cached", "top.txt"]);
    repo.git(&["add", "top.txt"]);
    let s = repo.assert_matches_git(None);
    assert_eq!(s.counts.unwrap().staged, 2);
    assert_eq!(s.counts.unwrap().untracked, 1);
}

#[test]
fn valid_cache_tree_of_another_commit() {
    let scratch = Scratch::new();
    let repo = packed_history(&scratch);
    repo.write("src/many/file35.rs", "fn committed() {}\n");
    repo.write("docs/added.md", "added\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "to be undone"]);
    // The index keeps the cache tree of the undone commit, valid throughout
    // but differing from `HEAD` along two paths.
    repo.git(&["reset", "-q", "--soft", "HEAD~1"]);
    assert!(has_cache_tree(&repo));
    let s = repo.assert_matches_git(None);
    assert_eq!(s.counts.unwrap().staged, 2);
}
