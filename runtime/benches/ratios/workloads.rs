//! Rows on real data: a tree of real source files (the path given after
//! `--`, else a few thousand files of the cargo registry's unpacked crate
//! sources, which every build machine has), a git checkout of it, a large
//! manifest, and `--detach`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use corral_test_artifacts::{CORRAL_FILES_PROBE, GIT_STATUS, INTEGRITY_SCAN};

use super::{Bench, Row, Target, spawn, time};

/// Files copied from the registry when no tree is given.
const TREE_FILES: usize = 4_800;

/// The tree W1, W2 and G1 read: the first argument that is not a flag, or
/// a copy of registry sources in `work`.
pub fn real_tree(work: &Path) -> PathBuf {
    if let Some(path) = std::env::args().skip(1).find(|arg| !arg.starts_with('-')) {
        return PathBuf::from(path);
    }
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"));
    let tree = work.join("tree");
    let mut copied = 0;
    let mut crates: Vec<PathBuf> = std::fs::read_dir(home.join("registry/src"))
        .expect("the cargo registry's sources")
        .flat_map(|index| std::fs::read_dir(index.unwrap().path()).unwrap())
        .map(|entry| entry.unwrap().path())
        .collect();
    crates.sort();
    for krate in crates {
        if copied >= TREE_FILES {
            break;
        }
        copied += copy_files(&krate, &tree.join(krate.file_name().unwrap()));
    }
    tree
}

fn copy_files(from: &Path, to: &Path) -> usize {
    std::fs::create_dir_all(to).unwrap();
    let mut copied = 0;
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copied += copy_files(&entry.path(), &to.join(entry.file_name()));
        } else if kind.is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
            copied += 1;
        }
    }
    copied
}

fn one_task(bench: &Bench, name: &str, component: &str, args: &[&str], grants: &str) -> PathBuf {
    let args: Vec<String> = args.iter().map(|a| format!("{a:?}")).collect();
    let text = format!(
        "version = 1\n[runtime]\nmax_timeout_ms = 60000\nstate_dir = {:?}\n[[task]]\nid = \"t0\"\nrationale = \"benchmark\"\ncomponent = {component:?}\nargs = [{}]\ntimeout_ms = 60000\nfuel = 1_000_000_000_000_000\nmemory_mb = 1024\n{grants}",
        bench.dir.join(format!("{name}-state")).display(),
        args.join(", "),
    );
    let path = bench.dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

fn grant(host: &Path, guest: &str, mode: &str) -> String {
    format!("[[task.dir]]\nhost = {host:?}\nguest = {guest:?}\nmode = {mode:?}\n")
}

/// A manifest of the integrity scan of `tree`, named `name`.
fn scan_of(bench: &Bench, name: &str, tree: &Path) -> PathBuf {
    let state = bench.dir.join(format!("{name}-baseline"));
    std::fs::create_dir_all(&state).unwrap();
    one_task(
        bench,
        name,
        INTEGRITY_SCAN,
        &["/tree", "/state/baseline.sha256"],
        &(grant(tree, "/tree", "ro") + &grant(&state, "/state", "rw")),
    )
}

/// `sha256sum` of every file of `tree`, timed.
fn sha256sum(tree: &Path) -> Duration {
    let mut native = Command::new("sh");
    native
        .arg("-c")
        .arg("find . -type f -print0 | xargs -0 sha256sum")
        .current_dir(tree);
    time(|| spawn(native))
}

/// W1: the integrity scan of the tree against a native `sha256sum` of it,
/// with no digests kept from an earlier scan.
pub fn integrity_scan(bench: &Bench, tree: &Path) -> Row {
    let manifest = scan_of(bench, "w1", tree);
    let kept = bench.dir.join("w1-state/task-state");
    Row::paired(
        "W1",
        "integrity_scan of a real source tree, nothing kept / find | xargs sha256sum",
        "<= 2.0",
        Target::AtMost(2.0),
        || {
            let _ = std::fs::remove_dir_all(&kept);
            (sha256sum(tree), bench.run_wall(&manifest, &[]))
        },
    )
}

/// W3: the integrity scan after one file of the tree changed (the digests
/// of the last scan kept in its private state), against `sha256sum` of
/// the whole tree, W1's baseline. On a copy of the tree: the bench writes.
pub fn integrity_after_one_change(bench: &Bench, tree: &Path) -> Row {
    let copy = bench.dir.join("w3-tree");
    copy_files(tree, &copy);
    let changed = copy.join("bench-changed.txt");
    std::fs::write(&changed, "0").unwrap();
    let manifest = scan_of(bench, "w3", &copy);
    // The baseline, and digests kept for the next scans. Files copied
    // within a second of a scan are racily clean and hashed again by the
    // next one, so the second scan, past that second, keeps digests the
    // samples can trust: each sample then measures one changed file.
    bench.run_wall(&manifest, &[]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    bench.run_wall(&manifest, &[]);
    let mut round = 0;
    Row::paired(
        "W3",
        "integrity_scan after one file changed / find | xargs sha256sum",
        "<= 0.2",
        Target::AtMost(0.2),
        || {
            round += 1;
            std::fs::write(&changed, round.to_string()).unwrap();
            (sha256sum(&copy), bench.run_wall(&manifest, &[]))
        },
    )
}

/// W2: listing and stat-ing every file of the tree inside a guest, the
/// guest library's walk (one `corral:task/files.walk-tree` call), against
/// native `find`.
pub fn walk(bench: &Bench, tree: &Path) -> Row {
    let manifest = one_task(
        bench,
        "w2",
        CORRAL_FILES_PROBE,
        &["walk", "/tree"],
        &grant(tree, "/tree", "ro"),
    );
    Row::paired(
        "W2",
        "walk (list and stat every file) of the tree in a guest, walk-tree / find",
        "<= 1.5",
        Target::AtMost(1.5),
        || {
            let mut native = Command::new("find");
            native.arg(tree).args(["-printf", "%s\n"]);
            (time(|| spawn(native)), bench.task_ms(&manifest, "t0"))
        },
    )
}

/// G1, G3 and G2: the git status task on a git checkout of the tree,
/// clean, freshly cloned, and with 10 files modified, against `git status
/// --porcelain=v2`.
pub fn git_status(bench: &Bench, tree: &Path) -> Vec<Row> {
    let repo = bench.dir.join("repo");
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(["-c", "user.name=bench", "-c", "user.email=bench@localhost"])
            .args(args)
            .current_dir(&repo)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    };
    copy_files(tree, &repo);
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "tree"]);
    // As shipped: bound to the repository corral runs in.
    let manifest = one_task(bench, "g1", GIT_STATUS, &[], "context = \"repo\"\n");
    let corral = || {
        let mut command = bench.command(&manifest, &[]);
        command.current_dir(&repo).env("PWD", &repo);
        time(|| spawn(command))
    };
    let native = || {
        let mut command = Command::new("git");
        command
            .args(["status", "--porcelain=v2", "--branch"])
            .current_dir(&repo);
        time(|| spawn(command))
    };
    let clean = Row::paired(
        "G1",
        "git status task, clean checkout of the tree / git status --porcelain=v2",
        "<= 1.5",
        Target::AtMost(1.5),
        || (native(), corral()),
    );
    // A clone a moment old: its checkout and index written in the same
    // second, every entry racily clean, so git and the task must both
    // compare bytes (the task through the host's native digests).
    let clone = |name: &str| {
        let dir = bench.dir.join(name);
        let _ = std::fs::remove_dir_all(&dir);
        git(&["clone", "-q", ".", dir.to_str().unwrap()]);
        dir
    };
    let fresh = Row::paired(
        "G3",
        "git status task, first answer in a fresh clone / git status in a fresh clone",
        "<= 2.0",
        Target::AtMost(2.0),
        || {
            let theirs = clone("fresh-git");
            let mut native = Command::new("git");
            native
                .args(["status", "--porcelain=v2", "--branch"])
                .current_dir(&theirs);
            let ours = clone("fresh-corral");
            let mut command = bench.command(&manifest, &[]);
            command.current_dir(&ours).env("PWD", &ours);
            (time(|| spawn(native)), time(|| spawn(command)))
        },
    );
    let edited: Vec<PathBuf> = walkdir(&repo)
        .into_iter()
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .take(10)
        .collect();
    assert_eq!(edited.len(), 10, "the tree has at least 10 Rust files");
    for path in edited {
        let mut text = std::fs::read(&path).unwrap();
        text.extend_from_slice(b"\n// edited\n");
        std::fs::write(&path, text).unwrap();
    }
    let dirty = Row::paired(
        "G2",
        "git status task, 10 files modified / git status --porcelain=v2",
        "<= 1.5",
        Target::AtMost(1.5),
        || (native(), corral()),
    );
    vec![clean, fresh, dirty]
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|name| name == ".git") {
            continue;
        }
        if path.is_dir() {
            found.extend(walkdir(&path));
        } else {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// M1: loading a manifest of 20,000 tasks against 8 times a manifest of
/// 2,500: 1.0 is linear.
pub fn large_manifest(bench: &Bench) -> Row {
    let big = bench.manifest("m20000", 20_000, &["ok"], "");
    let small = bench.manifest("m2500", 2_500, &["ok"], "");
    let list = |manifest: &Path| {
        let mut command = Command::new(super::CORRAL);
        command.arg("list").arg("--manifest").arg(manifest);
        time(|| spawn(command))
    };
    Row::paired(
        "M1",
        "`corral list` of 20,000 tasks / 8 x 2,500 tasks (1.0 = linear)",
        "<= 1.3",
        Target::AtMost(1.3),
        || (list(&small) * 8, list(&big)),
    )
}

/// S2: what a prompt hook blocks on, `corral run --detach`, in process
/// spawns.
pub fn detach(bench: &Bench, manifest: &Path) -> Row {
    Row::paired(
        "S2",
        "`corral run --detach` returning to the shell / spawn /bin/true",
        "<= 1.5",
        Target::AtMost(1.5),
        || {
            let baseline = time(|| spawn(Command::new("/bin/true")));
            let detached = bench.run_wall(manifest, &["--detach"]);
            // Let the detached run finish before the next sample.
            std::thread::sleep(Duration::from_millis(50));
            (baseline, detached)
        },
    )
}
