//! Listing again only what changed (`status_since`) against `git status
//! --porcelain=v2 --branch --show-stash`, step by step on one repository
//! made with the git CLI, each step fed the paths that changed as the
//! host's feed names them: found by comparing `lstat` snapshots of the
//! whole tree (`.git` included) taken where the host takes its cursor.

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use git_status::{Earlier, Listing, Observer, Options, Status};
use support::{Repo, Scratch, parse_porcelain_v2};

/// Every path under `top` with what a change would alter.
type Snapshot = BTreeMap<PathBuf, (bool, i64, i64, i64, i64, u64, u64, u32)>;

fn snapshot(top: &Path) -> Snapshot {
    let mut found = Snapshot::new();
    let mut pending = vec![top.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                pending.push(path.clone());
            }
            found.insert(
                path,
                (
                    meta.is_dir(),
                    meta.mtime(),
                    meta.mtime_nsec(),
                    meta.ctime(),
                    meta.ctime_nsec(),
                    meta.size(),
                    meta.ino(),
                    meta.mode(),
                ),
            );
        }
    }
    found
}

/// The paths a feed names between two snapshots: everything created,
/// removed or altered, except a directory that only had entries added or
/// removed (its entries are named themselves).
fn feed(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    let mut changed: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|path| match (before.get(*path), after.get(*path)) {
            (Some(old), Some(new)) if old.0 && new.0 => old.7 != new.7 || old.6 != new.6,
            (old, new) => old != new,
        })
        .map(|path| path.to_str().unwrap().to_owned())
        .collect();
    changed.sort();
    changed.dedup();
    changed
}

/// Keeps the core's debug lines, to see which way it listed.
#[derive(Default)]
struct Notes(Vec<String>);

impl Observer for Notes {
    fn debug(&mut self, message: &str) {
        self.0.push(message.to_owned());
    }
}

/// git's answer without refreshing the index (which would be a change
/// inside the git directory, as a prompt's own git would not make).
fn theirs(repo: &Repo) -> Status {
    parse_porcelain_v2(&repo.git(&[
        "--no-optional-locks",
        "status",
        "--porcelain=v2",
        "--branch",
        "--show-stash",
    ]))
}

/// One repository followed from run to run, as the task follows it.
struct Follower {
    repo: Repo,
    listing: Option<Listing>,
    at_cursor: Snapshot,
}

impl Follower {
    fn new(repo: Repo) -> Follower {
        let at_cursor = snapshot(&repo.path);
        let (_, listing) =
            git_status::status_since(&repo.path, &Options::default(), None, &mut Notes::default())
                .unwrap();
        Follower {
            repo,
            listing,
            at_cursor,
        }
    }

    /// A run after `change`: equal to git and to a full listing, and
    /// whether it listed only what changed.
    fn step(&mut self, what: &str, change: impl FnOnce(&Repo)) -> bool {
        change(&self.repo);
        let now = snapshot(&self.repo.path);
        let changed = feed(&self.at_cursor, &now);
        self.at_cursor = now;
        let mut notes = Notes::default();
        let earlier = Earlier {
            listing: self.listing.take().expect("counts known"),
            changed,
        };
        let (ours, listing) = git_status::status_since(
            &self.repo.path,
            &Options::default(),
            Some(earlier),
            &mut notes,
        )
        .unwrap();
        self.listing = listing;
        assert_eq!(
            ours,
            theirs(&self.repo),
            "{what}: against git ({:?})",
            notes.0
        );
        let full = git_status::status(&self.repo.path, &Options::default(), &mut Notes::default())
            .unwrap();
        assert_eq!(ours, full, "{what}: against a full listing");
        notes
            .0
            .iter()
            .any(|note| note.contains("listing") && note.contains("parts of the work tree again"))
    }
}

#[test]
fn each_change_is_listed_again_alone_and_the_answer_stays_gits() {
    let scratch = Scratch::new();
    let repo = scratch.init("repo");
    repo.commit_file("a.txt", "a\n", "first");
    repo.commit_file("dir/b.txt", "b\n", "second");
    repo.commit_file("tool.sh", "echo\n", "third");
    repo.commit_file(".gitignore", "target/\n", "ignore");
    fs::create_dir_all(repo.path.join("target")).unwrap();
    let mut follower = Follower::new(repo);

    let incremental = [
        follower.step("a new file at the top", |repo| repo.write("x", "x\n")),
        // Nothing changed since: the listing is carried over whole.
        follower.step("nothing", |_| {}),
        follower.step("a tracked file rewritten at once, same size", |repo| {
            repo.write("a.txt", "b\n")
        }),
        follower.step("chmod +x", |repo| {
            let path = repo.path.join("tool.sh");
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        }),
        follower.step("a new untracked directory", |repo| {
            repo.write("new/sub/f", "f\n");
            repo.write("new/g", "g\n");
        }),
        follower.step("a file added to an untracked directory", |repo| {
            repo.write("new/sub/h", "h\n")
        }),
        follower.step("a write in an ignored directory", |repo| {
            repo.write("target/out.o", "o\n")
        }),
        follower.step("a tracked file replaced by a directory", |repo| {
            fs::remove_file(repo.path.join("dir/b.txt")).unwrap();
            repo.write("dir/b.txt/inner", "i\n");
        }),
        follower.step("and back", |repo| {
            fs::remove_dir_all(repo.path.join("dir/b.txt")).unwrap();
            repo.write("dir/b.txt", "b\n");
        }),
        follower.step("an untracked directory removed", |repo| {
            fs::remove_dir_all(repo.path.join("new")).unwrap()
        }),
        follower.step("a tracked file deleted", |repo| {
            fs::remove_file(repo.path.join("tool.sh")).unwrap()
        }),
    ];
    assert!(
        incremental.iter().all(|listed_alone| *listed_alone),
        "every work-tree change listed alone: {incremental:?}"
    );

    let full = [
        follower.step("a .gitignore edited", |repo| {
            repo.write(".gitignore", "target/\nx\n")
        }),
        follower.step("git add", |repo| {
            repo.git(&["add", "a.txt"]);
        }),
        follower.step("a branch switch", |repo| {
            repo.git(&["stash", "-u", "-q"]);
            repo.git(&["checkout", "-q", "-b", "other"]);
            repo.write("a.txt", "changed on other\n");
            repo.git(&["commit", "-q", "-am", "other"]);
            repo.git(&["checkout", "-q", "main"]);
        }),
        follower.step("a reset", |repo| {
            repo.write("a.txt", "dirty\n");
            repo.git(&["reset", "-q", "--hard", "other"]);
        }),
    ];
    assert!(
        full.iter().all(|listed_alone| !listed_alone),
        "changes to the rules or the git directory list everything: {full:?}"
    );
    // And the listing carried on from a full run is right again.
    assert!(follower.step("a new file after all that", |repo| repo.write("y", "y\n")));
}
