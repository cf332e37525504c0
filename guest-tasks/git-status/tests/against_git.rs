//! Every field of our status against `git status --porcelain=v2 --branch
//! --show-stash` on repositories made with the real git CLI.

mod support;

use std::fs;

use git_status::{Action, Counts, Error, Head, Options, Silent};
use support::{Repo, Scratch};

/// A repository with two commits on `main`.
fn base(scratch: &Scratch) -> Repo {
    let repo = scratch.init("repo");
    repo.commit_file("a.txt", "a\n", "first");
    repo.commit_file("dir/b.txt", "b\n", "second");
    repo
}

fn counts(status: &git_status::Status) -> Counts {
    status.counts.expect("counts known")
}

#[test]
fn clean() {
    let scratch = Scratch::new();
    let repo = base(&scratch);
    let s = repo.assert_matches_git(None);
    assert_eq!(counts(&s), Counts::default());
    assert!(matches!(s.head, Head::Branch { ref name, oid: Some(_) } if name == "main"));
}

#[test]
fn staged_unstaged_untracked_and_ignored() {
    let scratch = Scratch::new();
    let repo = base(&scratch);
    repo.commit_file("c.txt", "c\n", "third");
    repo.commit_file(
        "old-name.txt",
        "rename me\nwith enough content to be similar\n",
        "fourth",
    );
    repo.commit_file(".gitignore", "*.log\n", "ignore logs");
    repo.commit_file("dir/.gitignore", "build/\n!keep.log\n", "nested ignore");
    fs::write(repo.path.join(".git/info/exclude"), "secret.txt\n").unwrap();

    repo.write("a.txt", "a staged\n"); // staged only
    repo.git(&["add", "a.txt"]);
    repo.write("dir/b.txt", "b staged\n"); // staged, then modified again
    repo.git(&["add", "dir/b.txt"]);
    repo.write("dir/b.txt", "b staged and modified\n");
    repo.write("c.txt", "c modified\n"); // unstaged only
    repo.git(&["mv", "old-name.txt", "new-name.txt"]); // one staged rename
    repo.write("new.txt", "new\n"); // staged addition
    repo.git(&["add", "new.txt"]);
    repo.write("untracked.txt", "u\n"); // untracked file
    repo.write("untracked-dir/x/y.txt", "y\n"); // untracked directory: one entry
    repo.write("untracked-dir/z.txt", "z\n");
    repo.write("app.log", "ignored by .gitignore\n");
    repo.write("dir/build/out.o", "ignored by dir/.gitignore\n");
    repo.write("dir/keep.log", "re-included by dir/.gitignore\n"); // untracked
    repo.write("secret.txt", "ignored by info/exclude\n");
    repo.write(
        "only-ignored/a.log",
        "a directory of ignored files is not listed\n",
    );
    fs::create_dir_all(repo.path.join("empty-dir")).unwrap(); // not listed

    let s = repo.assert_matches_git(None);
    assert_eq!(
        counts(&s),
        Counts {
            staged: 4,
            unstaged: 2,
            untracked: 3,
            conflicted: 0
        }
    );
}

#[test]
fn deleted_and_mode_changed_files() {
    let scratch = Scratch::new();
    let repo = base(&scratch);
    repo.commit_file("script.sh", "echo hi\n", "script");
    fs::remove_file(repo.path.join("a.txt")).unwrap();
    repo.git(&["rm", "-q", "--cached", "dir/b.txt"]); // staged deletion, file left untracked
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(
        repo.path.join("script.sh"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let s = repo.assert_matches_git(None);
    assert_eq!(
        counts(&s),
        Counts {
            staged: 1,
            unstaged: 2,
            untracked: 1,
            conflicted: 0
        }
    );
}

#[test]
fn merge_conflict() {
    let scratch = Scratch::new();
    let repo = base(&scratch);
    repo.git(&["checkout", "-q", "-b", "other"]);
    repo.commit_file("a.txt", "other side\n", "other");
    repo.commit_file("only-other.txt", "o\n", "other file");
    repo.git(&["checkout", "-q", "main"]);
    repo.commit_file("a.txt", "main side\n", "main");
    assert!(
        !repo.git_may_fail(&["merge", "-q", "other"]),
        "the merge should conflict"
    );
    let s = repo.assert_matches_git(Some(Action::Merge));
    assert_eq!(
        counts(&s),
        Counts {
            staged: 1,
            unstaged: 0,
            untracked: 0,
            conflicted: 1
        }
    );
}

#[test]
fn cherry_pick_conflict() {
    let scratch = Scratch::new();
    let repo = base(&scratch);
    repo.git(&["checkout", "-q", "-b", "other"]);
    repo.commit_file("a.txt", "other side\n", "other");
    repo.git(&["checkout", "-q", "main"]);
    repo.commit_file("a.txt", "main side\n", "main");
    assert!(!repo.git_may_fail(&["cherry-pick", "other"]));
    repo.assert_matches_git(Some(Action::CherryPick));
}

#[test]
fn stash() {
    let scratch = Scratch::new();
    let repo = base(&scratch);
    for i in 0..3 {
        repo.write("a.txt", &format!("change {i}\n"));
        repo.git(&["stash", "-q"]);
    }
    repo.write("a.txt", "still here\n");
    let s = repo.assert_matches_git(None);
    assert_eq!(s.stashes, 3);
}

/// A clone of `origin` whose `main` is `ahead` commits ahead of and
/// `behind` commits behind `origin/main`.
fn diverged_clone(scratch: &Scratch, ahead: usize, behind: usize) -> (Repo, Repo) {
    let origin = base(scratch);
    scratch.git(&["clone", "-q", "repo", "clone"]);
    let clone = Repo::at(scratch.path("clone"));
    for i in 0..behind {
        origin.commit_file("upstream.txt", &format!("{i}\n"), &format!("upstream {i}"));
    }
    for i in 0..ahead {
        clone.commit_file("local.txt", &format!("{i}\n"), &format!("local {i}"));
    }
    clone.git(&["fetch", "-q"]);
    (origin, clone)
}

#[test]
fn upstream_ahead_and_behind_loose_objects() {
    let scratch = Scratch::new();
    let (_origin, clone) = diverged_clone(&scratch, 2, 3);
    let s = clone.assert_matches_git(None);
    let upstream = s.upstream.expect("upstream");
    assert_eq!(
        (upstream.name.as_str(), upstream.ahead_behind),
        ("origin/main", Some((2, 3)))
    );
}

#[test]
fn upstream_ahead_and_behind_packed_objects() {
    let scratch = Scratch::new();
    let (_origin, clone) = diverged_clone(&scratch, 3, 4);
    clone.git(&["gc", "-q", "--prune=now"]);
    let loose = fs::read_dir(clone.path.join(".git/objects"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().len() == 2)
        .count();
    assert_eq!(loose, 0, "every object is packed");
    let s = clone.assert_matches_git(None);
    assert_eq!(s.upstream.unwrap().ahead_behind, Some((3, 4)));
}

#[test]
fn packed_refs() {
    let scratch = Scratch::new();
    let (_origin, clone) = diverged_clone(&scratch, 1, 0);
    clone.git(&["pack-refs", "--all"]);
    assert!(!clone.path.join(".git/refs/heads/main").exists());
    let s = clone.assert_matches_git(None);
    assert_eq!(s.upstream.unwrap().ahead_behind, Some((1, 0)));
}

#[test]
fn upstream_that_is_gone() {
    let scratch = Scratch::new();
    let (_origin, clone) = diverged_clone(&scratch, 1, 0);
    clone.git(&["update-ref", "-d", "refs/remotes/origin/main"]);
    let s = clone.assert_matches_git(None);
    assert_eq!(
        s.upstream.unwrap().ahead_behind,
        None,
        "prints as ahead=-1 behind=-1"
    );
}

#[test]
fn upstream_is_a_local_branch() {
    let scratch = Scratch::new();
    let repo = base(&scratch);
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.git(&["branch", "-q", "--set-upstream-to=main"]);
    repo.commit_file("f.txt", "f\n", "feature");
    let s = repo.assert_matches_git(None);
    let upstream = s.upstream.unwrap();
    assert_eq!(
        (upstream.name.as_str(), upstream.ahead_behind),
        ("main", Some((1, 0)))
    );
}

#[test]
fn detached_head() {
    let scratch = Scratch::new();
    let repo = base(&scratch);
    repo.git(&["checkout", "-q", "--detach", "HEAD~1"]);
    repo.write("a.txt", "modified while detached\n");
    let s = repo.assert_matches_git(None);
    assert!(matches!(s.head, Head::Detached { .. }));
    assert!(s.to_string().starts_with("detached head="));
}

#[test]
fn unborn_branch() {
    let scratch = Scratch::new();
    let repo = scratch.init("repo");
    repo.write("staged.txt", "s\n");
    repo.git(&["add", "staged.txt"]);
    repo.write("untracked.txt", "u\n");
    let s = repo.assert_matches_git(None);
    assert_eq!(
        s.head,
        Head::Branch {
            name: "main".into(),
            oid: None
        }
    );
    assert!(
        s.to_string()
            .starts_with("branch=main head=unborn staged=1 unstaged=0 untracked=1")
    );
}

#[test]
fn rebase_stopped_on_conflict() {
    let scratch = Scratch::new();
    let repo = base(&scratch);
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.commit_file("a.txt", "topic side\n", "topic");
    repo.git(&["checkout", "-q", "main"]);
    repo.commit_file("a.txt", "main side\n", "main");
    repo.git(&["checkout", "-q", "topic"]);
    assert!(
        !repo.git_may_fail(&["rebase", "main"]),
        "the rebase should stop"
    );
    let s = repo.assert_matches_git(Some(Action::Rebase));
    assert!(matches!(s.head, Head::Detached { .. }));
    assert_eq!(counts(&s).conflicted, 1);
}

#[test]
fn interactive_rebase_is_reported_as_rebase() {
    let scratch = Scratch::new();
    let repo = base(&scratch);
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.commit_file("a.txt", "topic side\n", "topic");
    repo.git(&["checkout", "-q", "main"]);
    repo.commit_file("a.txt", "main side\n", "main");
    repo.git(&["checkout", "-q", "topic"]);
    assert!(!repo.git_may_fail(&["rebase", "-i", "main"]));
    repo.assert_matches_git(Some(Action::Rebase));
}

#[test]
fn bisect() {
    let scratch = Scratch::new();
    let repo = base(&scratch);
    repo.commit_file("c.txt", "c\n", "third");
    repo.git(&["bisect", "start", "HEAD", "HEAD~2"]);
    repo.assert_matches_git(Some(Action::Bisect));
}

#[test]
fn linked_worktree() {
    let scratch = Scratch::new();
    let main = base(&scratch);
    main.write("a.txt", "stashed from main\n");
    main.git(&["stash", "-q"]);
    main.git(&["worktree", "add", "-q", "-b", "feature", "../linked"]);
    let linked = Repo::at(scratch.path("linked"));
    assert!(linked.path.join(".git").is_file());
    linked.commit_file("f.txt", "f\n", "feature commit");
    linked.write("a.txt", "modified in the linked worktree\n");
    linked.write("new-in-linked.txt", "n\n");
    let s = linked.assert_matches_git(None);
    assert_eq!(s.stashes, 1, "the stash is shared through the common dir");
    assert!(matches!(s.head, Head::Branch { ref name, .. } if name == "feature"));
    assert_eq!(
        counts(&s),
        Counts {
            staged: 0,
            unstaged: 1,
            untracked: 1,
            conflicted: 0
        }
    );
    // The main work tree is unaffected by the linked one's changes.
    main.assert_matches_git(None);
}

#[test]
fn index_version_4() {
    let scratch = Scratch::new();
    let repo = base(&scratch);
    repo.commit_file("dir/sub/deep.txt", "d\n", "deep");
    repo.git(&["update-index", "--index-version", "4"]);
    assert_eq!(index_version(&repo), 4);
    repo.write("dir/sub/deep.txt", "changed\n");
    repo.write("dir/new.txt", "n\n");
    repo.git(&["add", "dir/new.txt"]);
    let s = repo.assert_matches_git(None);
    assert_eq!(
        counts(&s),
        Counts {
            staged: 1,
            unstaged: 1,
            untracked: 0,
            conflicted: 0
        }
    );
}

#[test]
fn index_version_3_from_intent_to_add() {
    let scratch = Scratch::new();
    let repo = base(&scratch);
    repo.write("intended.txt", "i\n");
    repo.git(&["add", "-N", "intended.txt"]);
    assert_eq!(index_version(&repo), 3);
    let s = repo.assert_matches_git(None);
    assert_eq!(
        counts(&s),
        Counts {
            staged: 0,
            unstaged: 1,
            untracked: 0,
            conflicted: 0
        }
    );
}

#[test]
fn modified_submodule() {
    let scratch = Scratch::new();
    let sub = scratch.init("sub-origin");
    sub.commit_file("s.txt", "s\n", "sub first");
    let repo = base(&scratch);
    repo.git(&["submodule", "add", "-q", "../sub-origin", "sub"]);
    repo.git(&["commit", "-q", "-m", "add submodule"]);
    repo.assert_matches_git(None);

    let inside = Repo::at(repo.path.join("sub"));
    inside.commit_file("s.txt", "new commit in the submodule\n", "sub second");
    let s = repo.assert_matches_git(None);
    assert_eq!(
        counts(&s),
        Counts {
            staged: 0,
            unstaged: 1,
            untracked: 0,
            conflicted: 0
        }
    );
}

#[test]
fn max_index_entries_gives_unknown_counts() {
    let scratch = Scratch::new();
    let (_origin, clone) = diverged_clone(&scratch, 1, 1);
    clone.write("a.txt", "modified\n");
    let limited = Options {
        max_index_entries: 1,
        ..Options::default()
    };
    let s = clone.ours_with(&limited);
    assert_eq!(s.counts, None);
    let expected = clone.theirs(None);
    assert_eq!(
        (&s.head, &s.upstream, s.stashes),
        (&expected.head, &expected.upstream, 0)
    );
    let line = s.to_string();
    assert!(
        line.contains(" upstream=origin/main ahead=1 behind=1 "),
        "{line}"
    );
    assert!(
        line.ends_with(" staged=-1 unstaged=-1 untracked=-1 conflicted=-1 stashes=0"),
        "{line}"
    );
    // Exactly at the limit the counts are still computed.
    let at_limit = Options {
        max_index_entries: 3,
        ..Options::default()
    };
    assert_eq!(clone.ours_with(&at_limit), expected);
}

#[test]
fn limited_metadata_gives_the_same_answer() {
    let scratch = Scratch::new();
    let repo = base(&scratch);
    repo.write("a.txt", "modified\n");
    repo.write("u.txt", "u\n");
    let minimal = Options {
        limited_metadata: true,
        ..Options::default()
    };
    assert_eq!(repo.ours_with(&minimal), repo.theirs(None));
}

#[test]
fn not_a_work_tree_is_invalid_input() {
    let scratch = Scratch::new();
    let repo = base(&scratch);
    let plain = scratch.path("plain");
    fs::create_dir_all(&plain).unwrap();
    for path in [
        plain,
        scratch.path("missing"),
        repo.path.join("dir"),
        repo.path.join(".git"),
    ] {
        let err = git_status::status(&path, &Options::default(), &mut Silent).unwrap_err();
        assert!(
            matches!(err, Error::InvalidInput(_)),
            "{}: {err:?}",
            path.display()
        );
    }
}

fn index_version(repo: &Repo) -> u32 {
    let index = fs::read(repo.path.join(".git/index")).unwrap();
    u32::from_be_bytes(index[4..8].try_into().unwrap())
}

/// Unchanged, non-racy stat data is trusted exactly as git trusts it: a
/// same-size edit whose mtime is put back is invisible to both (with
/// `core.trustctime=false`, as ctime cannot be put back), while an edit that
/// moves mtime is found by hashing.
#[test]
fn trusts_stat_data_like_git() {
    let scratch = Scratch::new();
    let repo = base(&scratch);
    repo.git(&["config", "core.trustctime", "false"]);
    // Make every entry older than the index, so none is racy.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    repo.git(&["read-tree", "HEAD"]);
    repo.git(&["update-index", "-q", "--refresh"]);

    let hidden = repo.path.join("a.txt");
    let mtime = fs::metadata(&hidden).unwrap().modified().unwrap();
    fs::write(&hidden, "z\n").unwrap(); // same size as "a\n"
    fs::File::options()
        .write(true)
        .open(&hidden)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    repo.write("dir/b.txt", "y\n"); // same size, new mtime

    for options in [
        Options::default(),
        Options {
            limited_metadata: true,
            ..Options::default()
        },
    ] {
        let s = repo.ours_with(&options);
        assert_eq!(
            counts(&s),
            Counts {
                staged: 0,
                unstaged: 1,
                untracked: 0,
                conflicted: 0
            }
        );
    }
    repo.assert_matches_git(None);
}

/// gix collapses a directory whose tracked files are all gone from disk
/// into one untracked entry; for git it is still tracked and what is in
/// it is listed one by one (a directory that replaced a tracked file not
/// at all), however deep that goes.
#[test]
fn a_directory_whose_tracked_files_are_all_gone_lists_its_contents_one_by_one() {
    let scratch = Scratch::new();
    let repo = base(&scratch);
    repo.commit_file("deep/er/c.txt", "c\n", "third");
    fs::remove_file(repo.path.join("dir/b.txt")).unwrap();
    repo.write("dir/b.txt/inner", "replaces the tracked file\n");
    repo.write("dir/new.txt", "n\n");
    repo.write("dir/sub/x.txt", "an untracked directory: one entry\n");
    fs::remove_file(repo.path.join("deep/er/c.txt")).unwrap();
    repo.write("deep/er/y.txt", "y\n");
    repo.write("deep/z.txt", "z\n");
    let s = repo.assert_matches_git(None);
    assert_eq!(
        counts(&s),
        Counts {
            staged: 0,
            unstaged: 2,
            untracked: 4,
            conflicted: 0
        }
    );
}

/// More untracked names than the listing hands gix as pathspecs: gix walks
/// the tree itself, and the answer is the same; beside them a nested
/// repository, a symlink to a directory, ignored files and a `.git` file
/// deep inside a tracked directory.
#[test]
fn many_untracked_names_nested_repositories_and_symlinks() {
    let scratch = Scratch::new();
    let repo = base(&scratch);
    repo.commit_file(".gitignore", "*.log\n", "ignore logs");
    for n in 0..300 {
        repo.write(&format!("dir/new-{n}.txt"), "n\n");
    }
    repo.write("dir/skip.log", "ignored\n");
    let nested = scratch.init("repo/nested");
    nested.commit_file("inner.txt", "i\n", "inner");
    std::os::unix::fs::symlink(repo.path.join("dir"), repo.path.join("link-to-dir")).unwrap();
    repo.write("dir/deeper/.git", "gitdir: /nowhere\n");
    let s = repo.assert_matches_git(None);
    assert_eq!(counts(&s).untracked, 302, "{s:?}");

    // Under the cap: the listing's own candidates, the same answer.
    for n in 10..300 {
        fs::remove_file(repo.path.join(format!("dir/new-{n}.txt"))).unwrap();
    }
    let s = repo.assert_matches_git(None);
    assert_eq!(counts(&s).untracked, 12, "{s:?}");
}

/// Ignored directories are not looked into (a build directory may hold
/// more than the work tree), a force-added file keeps its directory
/// tracked, and a negated pattern still re-includes a file.
#[test]
fn ignored_directories_force_added_files_and_negations() {
    let scratch = Scratch::new();
    let repo = base(&scratch);
    repo.commit_file(".gitignore", "build/\nout/\n*.tmp\n", "ignores");
    repo.commit_file("sub/.gitignore", "!keep.tmp\n", "re-include");
    repo.write("build/tracked.txt", "forced\n");
    repo.git(&["add", "-f", "build/tracked.txt"]);
    repo.git(&["commit", "-q", "-m", "force-added"]);
    repo.write("build/new.txt", "inside an ignored, tracked directory\n");
    repo.write("build/tracked.txt", "forced, then changed\n");
    for n in 0..400 {
        repo.write(&format!("out/deep/{n}.o"), "object\n");
    }
    repo.write("sub/keep.tmp", "re-included\n");
    repo.write("sub/drop.tmp", "ignored\n");
    repo.write("top.tmp", "ignored\n");
    let s = repo.assert_matches_git(None);
    assert_eq!((counts(&s).untracked, counts(&s).unstaged), (1, 1), "{s:?}");
}
