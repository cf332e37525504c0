//! Private state of the tasks that import `corral:task/incremental`,
//! through the real binary: the integrity scan keeps its digests there and
//! hashes only files whose full stat changed, yet still sees a change
//! whose mtime was set back; the state is shown by `audit`, emptied when
//! the component's digest changes and dropped past its cap; without a
//! server the change feed is unknown.

use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::git::{git_status_manifest, repo};
use crate::support::{Fixture, Run, artifacts};

const FILES: usize = 40;

/// A scan of `tree/` (granted read-only) with its baseline kept in an
/// `rw` grant, run by `component`.
fn scan_manifest(fixture: &Fixture, component: &str) {
    fixture.manifest(&format!(
        "[[task]]\nid = \"scan\"\nrationale = \"t\"\ncomponent = {component:?}\nargs = [\"/tree\", \"/keep/baseline.sha256\"]\n[[task.dir]]\nhost = \"tree\"\nguest = \"/tree\"\nmode = \"ro\"\n[[task.dir]]\nhost = \".corral/keep\"\nguest = \"/keep\"\nmode = \"rw\"\n"
    ));
}

/// A run's guest log lines that contain `needle`.
fn said<'a>(run: &'a Run, needle: &str) -> Vec<&'a str> {
    run.stderr
        .lines()
        .filter(|line| line.starts_with("LOG ") && line.contains(needle))
        .collect()
}

/// Runs the manifest; it must succeed.
fn run(fixture: &Fixture) -> Run {
    let run = fixture.corral(&["run"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    run
}

/// The scan's state directories (digest, key) now.
fn state_dirs(fixture: &Fixture) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let Ok(digests) = fs::read_dir(fixture.path().join(".corral/task-state/scan")) else {
        return found;
    };
    for digest in digests.flatten() {
        for key in fs::read_dir(digest.path()).unwrap().flatten() {
            found.push((
                digest.file_name().into_string().unwrap(),
                key.file_name().into_string().unwrap(),
            ));
        }
    }
    found
}

fn result(fixture: &Fixture) -> String {
    let run = fixture.corral(&["result", "scan"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    run.stdout
}

#[test]
fn the_scan_hashes_only_what_changed_and_still_sees_an_mtime_set_back() {
    let fixture = Fixture::new();
    for n in 0..FILES {
        fixture.write(&format!("tree/d{}/f{n}", n % 4), format!("file {n}\n"));
    }
    scan_manifest(&fixture, artifacts::INTEGRITY_SCAN);
    // Files changed within a second of a scan's start are hashed again
    // by the next one (the racy-clean rule): let these settle first.
    std::thread::sleep(Duration::from_millis(1200));
    let hashed = |run: &Run, n: usize| {
        let lines = said(run, "files hashed");
        assert!(
            lines.len() == 1 && lines[0].contains(&format!("{n} of {FILES} files hashed")),
            "{}",
            run.stderr
        );
    };
    hashed(&run(&fixture), FILES);
    assert_eq!(
        result(&fixture).trim(),
        format!("baseline=created files={FILES}")
    );
    hashed(&run(&fixture), 0);

    // Same size, and the mtime set back as `touch -d` would: only the
    // ctime shows the write, and the scan sees it.
    let path = fixture.path().join("tree/d1/f5");
    let mtime = fs::metadata(&path).unwrap().modified().unwrap();
    fs::write(&path, "FILE 5\n").unwrap();
    fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), mtime);
    hashed(&run(&fixture), 1);
    assert_eq!(
        result(&fixture).trim(),
        format!("files={FILES} added=0 removed=0 changed=1\nchanged d1/f5")
    );
}

/// In a tree of 200 files, a scan that hashed a few does not rewrite the
/// digests of all: the next scan hashes those few again (and still reports
/// them), until more than one in 64 changed.
#[test]
fn a_few_changed_files_are_hashed_again_rather_than_the_state_rewritten() {
    const MANY: usize = 200;
    let fixture = Fixture::new();
    for n in 0..MANY {
        fixture.write(&format!("tree/d{}/f{n}", n % 4), format!("file {n}\n"));
    }
    scan_manifest(&fixture, artifacts::INTEGRITY_SCAN);
    let settle = || std::thread::sleep(Duration::from_millis(1200));
    let hashed = |n: usize| {
        let run = run(&fixture);
        let lines = said(&run, "files hashed");
        assert!(
            lines.len() == 1 && lines[0].contains(&format!("{n} of {MANY} files hashed")),
            "{}",
            run.stderr
        );
    };
    settle();
    hashed(MANY);
    hashed(0);
    fixture.write("tree/d1/f5", "FILE 5\n");
    settle();
    hashed(1);
    hashed(1);
    assert_eq!(
        result(&fixture).trim(),
        format!("files={MANY} added=0 removed=0 changed=1\nchanged d1/f5")
    );
    for n in [9, 13, 17] {
        fixture.write(&format!("tree/d1/f{n}"), format!("FILE {n}\n"));
    }
    settle();
    hashed(4);
    hashed(0);
    assert_eq!(
        result(&fixture).trim(),
        format!(
            "files={MANY} added=0 removed=0 changed=4\nchanged d1/f13\nchanged d1/f17\nchanged d1/f5\nchanged d1/f9"
        )
    );
}

#[test]
fn state_is_shown_by_audit_emptied_by_a_new_build_and_dropped_past_its_cap() {
    let fixture = Fixture::new();
    fixture.write("tree/a", "a\n");
    scan_manifest(&fixture, artifacts::INTEGRITY_SCAN);
    run(&fixture);
    let first = state_dirs(&fixture);
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].1, "-", "a task bound to no repository");
    let audit = fixture.corral(&["audit"]);
    assert!(
        audit.stdout.contains("state rw /.corral/state <- ")
            && audit.stdout.contains(".corral/task-state/scan/"),
        "{}",
        audit.stdout
    );

    // Another build of the component (a custom section appended changes
    // its digest, not its behaviour): the old build's state goes.
    let mut bytes = fs::read(artifacts::INTEGRITY_SCAN).unwrap();
    bytes.extend_from_slice(&[0, 5, 4, b't', b'e', b's', b't']);
    let rebuilt = fixture.write("rebuilt.wasm", &bytes);
    scan_manifest(&fixture, rebuilt.to_str().unwrap());
    run(&fixture);
    let second = state_dirs(&fixture);
    assert_eq!(second.len(), 1, "{second:?}");
    assert_ne!(second[0].0, first[0].0, "a new digest, a new directory");

    // Past the cap (a sparse file: its length counts), the state goes.
    let state = fixture
        .path()
        .join(".corral/task-state/scan")
        .join(&second[0].0)
        .join("-");
    fs::File::create(state.join("big"))
        .unwrap()
        .set_len(64 << 20 | 1)
        .unwrap();
    let capped = run(&fixture);
    assert!(!state.exists(), "dropped");
    assert_eq!(
        said(&capped, "private state dropped").len(),
        1,
        "{}",
        capped.stderr
    );
    // And the next run starts a new one.
    run(&fixture);
    assert!(state.join("digests").is_file());
}

#[test]
fn without_a_server_the_change_feed_is_unknown_and_state_is_kept_per_repository() {
    let fixture = Fixture::new();
    git_status_manifest(&fixture, false);
    let one = repo(fixture.path(), "one", "main");
    let two = repo(fixture.path(), "two", "main");
    let notes: Vec<String> = [&one, &two, &one]
        .into_iter()
        .map(|dir| {
            let run = Run::from(run_in(&fixture, dir));
            assert_eq!(run.code, Some(0), "{}", run.stderr);
            let notes = [
                said(&run, "no earlier listing"),
                said(&run, "changes unknown"),
            ]
            .concat();
            assert_eq!(notes.len(), 1, "{}", run.stderr);
            notes[0].to_owned()
        })
        .collect();
    assert!(notes[0].contains("no earlier listing"), "{notes:?}");
    assert!(notes[1].contains("no earlier listing"), "{notes:?}");
    assert!(
        notes[2].contains("changes are known only to a running `corral serve`"),
        "{notes:?}"
    );
    let keys = fs::read_dir(fixture.path().join(".corral/task-state/git_status"))
        .unwrap()
        .flatten()
        .flat_map(|digest| fs::read_dir(digest.path()).unwrap().flatten())
        .count();
    assert_eq!(keys, 2, "one state per repository");
}

fn run_in(fixture: &Fixture, dir: &Path) -> std::process::Output {
    let manifest = fixture.path().join("manifest.toml");
    fixture
        .command(&["--manifest", manifest.to_str().unwrap(), "run"])
        .current_dir(dir)
        .env("PWD", dir)
        .output()
        .unwrap()
}
