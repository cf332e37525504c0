//! A task sees exactly its grants: `ro` cannot be written, nothing outside
//! the grants can be read, the environment is exactly the manifest's.

use crate::support::{Fixture, artifacts, grant, probe_task};

#[test]
fn ro_grant_cannot_be_written() {
    let fixture = Fixture::new();
    let data = fixture.mkdir("data");
    fixture.write("data/existing", "original");
    let task = |id: &str, args: &[&str]| probe_task(id, args, &grant(&data, "/data", "ro"));
    fixture.manifest(&format!(
        "{}{}{}",
        task("create_file", &["write", "/data/new", "x"]),
        task("overwrite", &["write", "/data/existing", "changed"]),
        task("read_back", &["read", "/data/existing"]),
    ));
    let run = fixture.corral(&["run"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    run.assert_failed("create_file", "error");
    run.assert_failed("overwrite", "error");
    run.assert_done("read_back");
    assert!(!data.join("new").exists());
    assert_eq!(
        std::fs::read_to_string(data.join("existing")).unwrap(),
        "original"
    );
    assert_eq!(
        fixture.corral(&["result", "read_back"]).stdout,
        "original\n"
    );
}

#[test]
fn rw_grant_can_be_written() {
    let fixture = Fixture::new();
    let out = fixture.mkdir("out");
    fixture.manifest(&probe_task(
        "writer",
        &["write", "/out/file", "written"],
        &grant(&out, "/out", "rw"),
    ));
    let run = fixture.corral(&["run"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(out.join("file")).unwrap(),
        "written"
    );
}

#[test]
fn files_outside_the_grants_cannot_be_read() {
    let fixture = Fixture::new();
    let data = fixture.mkdir("data");
    fixture.write("canary", "secret");
    let task = |id: &str, path: &str| probe_task(id, &["read", path], &grant(&data, "/data", "ro"));
    fixture.manifest(&format!(
        "{}{}{}",
        task("absolute", "/etc/hostname"),
        task("dotdot", "/data/../canary"),
        task(
            "host_path",
            &fixture.path().join("canary").display().to_string()
        ),
    ));
    let run = fixture.corral(&["run"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    for id in ["absolute", "dotdot", "host_path"] {
        run.assert_failed(id, "error");
        assert_eq!(
            fixture.corral(&["result", id]).code,
            Some(1),
            "nothing stored"
        );
    }
    // The events carry the guests' logs and failure messages: the secret
    // is in none of them.
    assert!(!run.stderr.contains("secret"), "{}", run.stderr);
}

#[test]
fn environment_and_args_are_exactly_the_manifests() {
    let fixture = Fixture::new();
    fixture.manifest(&format!(
        "{}{}",
        probe_task("args", &["echo-args", "one", "two words"], ""),
        probe_task(
            "env",
            &["echo-env"],
            "env = { GREETING = \"hello\", LANG = \"C\" }"
        ),
    ));
    let run = fixture.corral_with(&["run"], &[("CORRAL_TEST_LEAK", "must-not-be-seen")]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let env = fixture.corral(&["result", "env"]).stdout;
    assert_eq!(env, "GREETING=hello\nLANG=C\n");
    let args = fixture.corral(&["result", "args"]).stdout;
    assert_eq!(args, "echo-args\none\ntwo words\n");
}

/// `[[task.file]]`: the task sees the granted file and nothing beside it,
/// cannot write it, and a symlink it was not given is not followed.
#[test]
fn a_file_grant_shows_only_that_file_read_only() {
    let fixture = Fixture::new();
    let rc = fixture.write("home/.zshrc", "export EDITOR=vi\n");
    fixture.write("home/.ssh/id_ed25519", "PRIVATE KEY");
    let file = format!("[[task.file]]\nhost = {:?}\nguest = \"/home/.zshrc\"\n", rc);
    let task = |id: &str, args: &[&str]| probe_task(id, args, &file);
    fixture.manifest(&format!(
        "{}{}{}{}",
        task("a_read", &["read", "/home/.zshrc"]),
        task("b_list", &["readdir", "/home"]),
        task("c_write", &["write", "/home/.zshrc", "rm -rf ~"]),
        task("d_key", &["read", "/home/.ssh/id_ed25519"]),
    ));
    let run = fixture.corral(&["run"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    run.assert_done("a_read");
    run.assert_done("b_list");
    run.assert_failed("c_write", "error");
    run.assert_failed("d_key", "error");
    assert_eq!(
        fixture.corral(&["result", "a_read"]).stdout,
        "export EDITOR=vi\n"
    );
    assert_eq!(fixture.corral(&["result", "b_list"]).stdout, ".zshrc\n");
    assert_eq!(std::fs::read_to_string(&rc).unwrap(), "export EDITOR=vi\n");

    // Named in list and audit; a missing file is a manifest error naming it.
    let list = fixture.corral(&["list"]);
    assert!(list.stdout.contains("/home/.zshrc="), "{}", list.stdout);
    let audit = fixture.corral(&["audit"]);
    assert!(
        audit.stdout.contains("file ro /home/.zshrc <- "),
        "{}",
        audit.stdout
    );
    std::fs::remove_file(&rc).unwrap();
    let check = fixture.corral(&["check"]);
    assert_eq!(check.code, Some(2), "{}", check.stderr);
    assert!(check.stderr.contains("task.file.host"), "{}", check.stderr);
    assert!(check.stderr.contains(".zshrc"), "{}", check.stderr);
}

/// A file grant may not land in a directory that is also a `[[task.dir]]`.
#[test]
fn a_file_grant_inside_a_dir_grant_is_a_manifest_error() {
    let fixture = Fixture::new();
    let data = fixture.mkdir("data");
    let rc = fixture.write("rc", "x");
    let extra = format!(
        "{}[[task.file]]\nhost = {:?}\nguest = \"/data/rc\"\n",
        grant(&data, "/data", "ro"),
        rc
    );
    fixture.manifest(&probe_task("t", &["ok"], &extra));
    let check = fixture.corral(&["check"]);
    assert_eq!(check.code, Some(2), "{}", check.stderr);
    assert!(check.stderr.contains("task.file.guest"), "{}", check.stderr);
}

/// A granted file is copied within bounds: a larger one is denied at run
/// time, naming the file; a granted symlink is followed (the user named it).
#[test]
fn file_grants_are_bounded_and_a_named_symlink_is_followed() {
    let fixture = Fixture::new();
    let big = fixture.write("big", vec![b'x'; (1 << 20) + 1]);
    let real = fixture.write("dotfiles/zshrc", "from the checkout");
    let link = fixture.path().join("zshrc-link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let file =
        |host: &std::path::Path| format!("[[task.file]]\nhost = {host:?}\nguest = \"/in/file\"\n");
    fixture.manifest(&format!(
        "{}{}",
        probe_task("a_big", &["read", "/in/file"], &file(&big)),
        probe_task("b_link", &["read", "/in/file"], &file(&link)),
    ));
    let run = fixture.corral(&["run"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    run.assert_failed("a_big", "denied");
    assert!(
        run.stderr.contains("larger than 1048576 bytes"),
        "{}",
        run.stderr
    );
    run.assert_done("b_link");
    assert_eq!(
        fixture.corral(&["result", "b_link"]).stdout,
        "from the checkout\n"
    );
}

/// Deleting a watched file does not silence the check: the scan fails on
/// its own (its `.failed` marker raises the prompt's alert) and every
/// other task still runs.
#[test]
fn a_deleted_watched_file_fails_its_task_alone() {
    let fixture = Fixture::new();
    let watched = fixture.write("home/.zshenv", "export A=1\n");
    fixture.manifest(&format!(
        "[[task]]\nid = \"integrity_scan\"\nrationale = \"t\"\ncomponent = {:?}\nargs = [\"/home/.zshenv\", \"/state/baseline.sha256\"]\n[[task.file]]\nhost = {:?}\nguest = \"/home/.zshenv\"\n[[task.dir]]\nhost = \".corral/integrity\"\nguest = \"/state\"\nmode = \"rw\"\n{}",
        artifacts::INTEGRITY_SCAN,
        watched.display().to_string(),
        probe_task("other", &["ok"], "")
    ));
    assert_eq!(fixture.corral(&["run", "--quiet"]).code, Some(0));
    std::fs::remove_file(&watched).unwrap();
    let run = fixture.corral(&["run", "--quiet"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    run.assert_failed("integrity_scan", "denied");
    run.assert_done("other");
    let failed = fixture.path().join(".corral/results/integrity_scan.failed");
    assert!(failed.is_file(), "the alert's marker");
    // `corral check` still names the missing file.
    let check = fixture.corral(&["check"]);
    assert_eq!(check.code, Some(2));
    assert!(check.stderr.contains("task.file.host"), "{}", check.stderr);
}
