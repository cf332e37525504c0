//! Every manifest rule rejects a violating manifest with exit 2 and an error
//! that names the file, the line and the key.

use crate::support::{Fixture, artifacts, probe_task};

/// A valid task, for manifests whose mistake lies elsewhere.
fn valid_task(id: &str) -> String {
    probe_task(id, &["ok"], "")
}

fn assert_rejected(body: &str, line: usize, key: &str) {
    let fixture = Fixture::new();
    fixture.mkdir("data");
    fixture.manifest(body);
    let run = fixture.corral(&["check"]);
    assert_eq!(run.code, Some(2), "body:\n{body}\nstderr:\n{}", run.stderr);
    let location = format!("manifest.toml:{line}: `{key}`");
    assert!(
        run.stderr.contains(&location),
        "expected {location:?} for body:\n{body}\nstderr:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("help:"),
        "no fix offered:\n{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn malformed_toml() {
    // Line numbers count the `version = 1` line the fixture writes first.
    assert_rejected("[[task]\nid = \"x\"\n", 2, "(document)");
}

#[test]
fn unknown_keys_anywhere() {
    assert_rejected("colour = 1\n", 2, "colour");
    assert_rejected("[runtime]\nmax_concurency = 2\n", 3, "max_concurency");
    assert_rejected(
        &format!("{}timeot_ms = 5\n", valid_task("a")),
        7,
        "timeot_ms",
    );
    assert_rejected(
        &format!(
            "{}[[task.dir]]\nhost = \"data\"\nguest = \"/d\"\nmode = \"ro\"\nwrite = true\n",
            valid_task("a")
        ),
        11,
        "write",
    );
}

#[test]
fn wrong_schema_version() {
    let fixture = Fixture::new();
    fixture.write("manifest.toml", "version = 2\n");
    let run = fixture.corral(&["check"]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("manifest.toml:1: `version`"),
        "{}",
        run.stderr
    );
}

#[test]
fn missing_required_keys() {
    assert_rejected(
        &format!(
            "[[task]]\nid = \"a\"\ncomponent = {:?}\n",
            artifacts::CORRAL_PROBE
        ),
        2,
        "rationale",
    );
}

#[test]
fn duplicate_and_unsorted_ids() {
    assert_rejected(
        &format!("{}{}", valid_task("a"), valid_task("a")),
        7,
        "task.id",
    );
    assert_rejected(
        &format!("{}{}", valid_task("b"), valid_task("a")),
        7,
        "task.id",
    );
}

#[test]
fn invalid_names() {
    assert_rejected(&valid_task("Bad-Id"), 3, "id");
    assert_rejected(
        &format!("{}label = \"no spaces\"\n", valid_task("a")),
        7,
        "label",
    );
}

#[test]
fn bad_priority_and_mode() {
    assert_rejected(
        &format!("{}priority = \"urgent\"\n", valid_task("a")),
        7,
        "priority",
    );
    assert_rejected(
        &format!(
            "{}[[task.dir]]\nhost = \"data\"\nguest = \"/d\"\nmode = \"wo\"\n",
            valid_task("a")
        ),
        10,
        "mode",
    );
}

#[test]
fn budgets_out_of_range() {
    let capped = format!(
        "[runtime]\nmax_timeout_ms = 1000\n{}timeout_ms = 2000\n",
        valid_task("a")
    );
    assert_rejected(&capped, 9, "task.timeout_ms");
    assert_rejected(
        &format!("{}memory_mb = 0\n", valid_task("a")),
        7,
        "task.memory_mb",
    );
    assert_rejected(
        &format!("{}retries = 99\n", valid_task("a")),
        7,
        "task.retries",
    );
    assert_rejected(
        "[runtime]\nmax_concurrency = 0\n",
        3,
        "runtime.max_concurrency",
    );
    assert_rejected(
        "[defaults]\nfuel = 0\n[[task]]\nid = \"a\"\nrationale = \"r\"\ncomponent = \"x.wasm\"\n",
        3,
        "task.fuel",
    );
}

#[test]
fn rationale_must_be_one_line() {
    let body = format!(
        "[[task]]\nid = \"a\"\nrationale = \"\"\"\ntwo\nlines\"\"\"\ncomponent = {:?}\n",
        artifacts::CORRAL_PROBE
    );
    assert_rejected(&body, 4, "task.rationale");
}

#[test]
fn undefined_class_and_bad_flag() {
    assert_rejected(
        &format!("{}class = \"io\"\n", valid_task("a")),
        7,
        "task.class",
    );
    assert_rejected(
        &format!("{}feature_flag = \"NOT A VAR\"\n", valid_task("a")),
        7,
        "task.feature_flag",
    );
}

#[test]
fn malformed_sha256() {
    assert_rejected(
        &format!("{}sha256 = \"abc\"\n", valid_task("a")),
        7,
        "task.sha256",
    );
}

#[test]
fn bad_guest_paths() {
    // `/.corral` is where tasks' private state is preopened.
    for guest in ["relative", "/a/../b", "/", "/.corral", "/.corral/state/x"] {
        let body = format!(
            "{}[[task.dir]]\nhost = \"data\"\nguest = {guest:?}\nmode = \"ro\"\n",
            valid_task("a")
        );
        assert_rejected(&body, 9, "task.dir.guest");
    }
    let fixture = Fixture::new();
    fixture.write("data/f", "x");
    fixture.manifest(&format!(
        "{}[[task.file]]\nhost = \"data/f\"\nguest = \"/.corral/state/f\"\n",
        valid_task("a")
    ));
    let run = fixture.corral(&["check"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("reserved"), "{}", run.stderr);
    // A name that only starts like it is anybody's.
    fixture.manifest(&format!(
        "{}[[task.dir]]\nhost = \"data\"\nguest = \"/.corralx\"\nmode = \"ro\"\n",
        valid_task("a")
    ));
    let run = fixture.corral(&["check"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[test]
fn bad_env_entries() {
    assert_rejected(
        &format!("{}env = {{ \"A=B\" = \"x\" }}\n", valid_task("a")),
        7,
        "task.env",
    );
}

#[test]
fn unset_variable_in_a_path() {
    let body = format!(
        "{}[[task.dir]]\nhost = \"${{CORRAL_TEST_UNSET_VARIABLE}}/x\"\nguest = \"/d\"\nmode = \"ro\"\n",
        valid_task("a")
    );
    assert_rejected(&body, 8, "task.dir.host");
}

#[test]
fn missing_component_and_host_directory() {
    assert_rejected(
        "[[task]]\nid = \"a\"\nrationale = \"r\"\ncomponent = \"missing.wasm\"\n",
        2,
        "task.component",
    );
    let body = format!(
        "{}[[task.dir]]\nhost = \"no_such_dir\"\nguest = \"/d\"\nmode = \"ro\"\n",
        valid_task("a")
    );
    assert_rejected(&body, 7, "task.dir.host");
}

#[test]
fn missing_manifest_file() {
    let fixture = Fixture::new();
    let run = fixture.corral(&["run"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("manifest.toml"), "{}", run.stderr);
}

#[test]
fn every_problem_is_reported_at_once() {
    let fixture = Fixture::new();
    fixture.manifest(&format!("{}memory_mb = 0\nretries = 99\n", valid_task("a")));
    let run = fixture.corral(&["check"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("`task.memory_mb`"), "{}", run.stderr);
    assert!(run.stderr.contains("`task.retries`"), "{}", run.stderr);
}

/// Without `--manifest`: `$CORRAL_MANIFEST`, else `./manifest.toml`, else
/// the user's `$XDG_CONFIG_HOME/corral/manifest.toml`.
#[test]
fn the_default_manifest_follows_the_documented_chain() {
    let fixture = Fixture::new();
    fixture.write(
        "config/corral/manifest.toml",
        "version = 1\n[runtime]\nphase = \"user\"\n",
    );
    fixture.write(
        "elsewhere.toml",
        "version = 1\n[runtime]\nphase = \"env\"\n",
    );
    fixture.mkdir("work");
    let config = fixture.path().join("config").display().to_string();
    let checksum = |env: &[(&str, &str)]| {
        let mut command = fixture.command(&["check"]);
        command
            .current_dir(fixture.path().join("work"))
            .envs(env.iter().copied());
        let run = crate::support::Run::from(command.output().unwrap());
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        run.stdout
    };
    let user = checksum(&[("XDG_CONFIG_HOME", &config)]);
    assert!(user.contains("config/corral/manifest.toml: ok"), "{user}");
    assert!(
        user.starts_with(&format!("manifest: {config}/corral/manifest.toml\n")),
        "{user}"
    );
    let from_env = checksum(&[
        ("XDG_CONFIG_HOME", &config),
        ("CORRAL_MANIFEST", "../elsewhere.toml"),
    ]);
    // The first line names the manifest read, absolute.
    let root = fixture.path().display().to_string();
    assert!(
        from_env.starts_with(&format!(
            "manifest: {root}/work/../elsewhere.toml\n../elsewhere.toml: ok"
        )),
        "{from_env}"
    );
    fixture.write("work/manifest.toml", "version = 1\n");
    let local = checksum(&[("XDG_CONFIG_HOME", &config)]);
    assert!(
        local.starts_with(&format!(
            "manifest: {root}/work/manifest.toml\nmanifest.toml: ok"
        )),
        "{local}"
    );
}
