//! Pins, locking, acknowledgements and audits.

use crate::support::{Fixture, artifacts, grant, probe_task};

/// A fixture with its own copy of the probe, pinned or not.
fn with_own_probe(fixture: &Fixture, extra: &str) {
    std::fs::copy(artifacts::CORRAL_PROBE, fixture.path().join("probe.wasm")).unwrap();
    fixture.manifest(&format!(
        "# The probe, reviewed.\n[[task]]\nid = \"probe\"\nrationale = \"r\"  # why\ncomponent = \"probe.wasm\"\nargs = [\"ok\"]\n{extra}"
    ));
}

#[test]
fn lock_pins_components_and_keeps_comments() {
    let fixture = Fixture::new();
    with_own_probe(&fixture, "");
    let locked = fixture.corral(&["lock"]);
    assert_eq!(locked.code, Some(0), "{}", locked.stderr);
    assert!(
        locked.stdout.starts_with("pinned probe sha256="),
        "{}",
        locked.stdout
    );
    let text = std::fs::read_to_string(fixture.path().join("manifest.toml")).unwrap();
    assert!(
        text.contains("# The probe, reviewed.") && text.contains("\"r\"  # why"),
        "{text}"
    );
    assert!(text.contains("sha256 = \""), "{text}");
    assert!(
        fixture
            .corral(&["lock"])
            .stdout
            .starts_with("unchanged probe")
    );
    assert_eq!(fixture.corral(&["run", "--locked"]).code, Some(0));
}

#[test]
fn locked_refuses_unpinned_tasks() {
    let fixture = Fixture::new();
    with_own_probe(&fixture, "");
    let run = fixture.corral(&["run", "--locked"]);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(
        run.stderr.contains("probe") && run.stderr.contains("corral lock"),
        "{}",
        run.stderr
    );
    assert!(!run.has_segment("async_task_probe_start"));
}

#[test]
fn a_swapped_byte_is_refused_before_compilation() {
    let fixture = Fixture::new();
    with_own_probe(&fixture, "");
    assert_eq!(fixture.corral(&["lock"]).code, Some(0));
    let path = fixture.path().join("probe.wasm");
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();

    let cache = fixture.mkdir("cache");
    let run = fixture.corral_with(&["run"], &[("CORRAL_CACHE_DIR", cache.to_str().unwrap())]);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    let message = run
        .assert_failed("probe", "integrity")
        .field("message")
        .to_string();
    assert!(
        message.contains("has sha256") && message.contains("pins"),
        "{message}"
    );
    // Nothing was compiled: the private cache stayed empty.
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 0);
}

/// The cache remembers a settled component's digest by its stamp, so an
/// unchanged file is not read again; a byte swapped in place (same size,
/// same inode) changes the stamp, and the pin still refuses it.
#[test]
fn a_component_changed_in_place_after_its_digest_was_remembered_is_refused() {
    use std::io::{Seek, SeekFrom, Write};
    let fixture = Fixture::new();
    with_own_probe(&fixture, "");
    assert_eq!(fixture.corral(&["lock"]).code, Some(0));
    let cache = fixture.mkdir("cache");
    let env = [("CORRAL_CACHE_DIR", cache.to_str().unwrap())];
    // Older than the tick a same-size rewrite could hide in.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(fixture.corral_with(&["run"], &env).code, Some(0));
    let records = std::fs::read_dir(cache.join("sources")).unwrap().count();
    assert_eq!(records, 1, "the digest is remembered");
    assert_eq!(fixture.corral_with(&["run"], &env).code, Some(0));

    let path = fixture.path().join("probe.wasm");
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    let last = file.seek(SeekFrom::End(-1)).unwrap();
    let mut byte = [0u8];
    std::io::Read::read_exact(&mut file, &mut byte).unwrap();
    file.seek(SeekFrom::Start(last)).unwrap();
    file.write_all(&[byte[0] ^ 0xff]).unwrap();
    drop(file);
    let run = fixture.corral_with(&["run"], &env);
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    run.assert_failed("probe", "integrity");
}

#[test]
fn require_ack_refuses_changes_until_acknowledged() {
    let fixture = Fixture::new();
    let data = fixture.mkdir("data");
    let body = |mode: &str| {
        format!(
            "[runtime]\nrequire_ack = true\n{}",
            probe_task("reader", &["ok"], &grant(&data, "/data", mode))
        )
    };
    fixture.manifest(&body("ro"));
    let never = fixture.corral(&["run"]);
    assert_eq!(never.code, Some(3), "{}", never.stderr);
    assert!(
        never.stderr.contains("never been acknowledged"),
        "{}",
        never.stderr
    );

    assert_eq!(fixture.corral(&["ack"]).code, Some(0));
    assert_eq!(fixture.corral(&["run"]).code, Some(0));
    std::fs::copy(
        fixture.path().join("manifest.toml"),
        fixture.path().join("old.toml"),
    )
    .unwrap();

    // A comment-only edit changes nothing.
    let text = std::fs::read_to_string(fixture.path().join("manifest.toml")).unwrap();
    fixture.write(
        "manifest.toml",
        format!("# reviewed by the auditor\n{text}"),
    );
    assert_eq!(fixture.corral(&["run"]).code, Some(0));
    assert_eq!(
        fixture.corral(&["audit", "--diff", "old.toml"]).stdout,
        "no changes\n"
    );

    // An edited grant trips the acknowledgement and the review diff names it.
    fixture.manifest(&body("rw"));
    let changed = fixture.corral(&["run"]);
    assert_eq!(changed.code, Some(3), "{}", changed.stderr);
    assert!(
        changed
            .stderr
            .contains("~ task.reader.dir./data.mode: \"ro\" -> \"rw\""),
        "{}",
        changed.stderr
    );
    let review = fixture.corral(&["audit", "--diff", "old.toml"]);
    assert_eq!(
        review.stdout,
        "~ task.reader.dir./data.mode: \"ro\" -> \"rw\"\n"
    );
    assert_eq!(fixture.corral(&["ack"]).code, Some(0));
    assert_eq!(fixture.corral(&["run"]).code, Some(0));
}

#[test]
fn audit_lists_authority_and_imports() {
    let fixture = Fixture::new();
    let data = fixture.mkdir("data");
    fixture.manifest(&probe_task(
        "reader",
        &["ok"],
        &format!("env = {{ LANG = \"C\" }}\n{}", grant(&data, "/data", "ro")),
    ));
    let text = fixture.corral(&["audit"]);
    assert_eq!(text.code, Some(0), "{}", text.stderr);
    assert!(
        text.stdout
            .contains(&format!("grant ro /data <- {}", data.display())),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("env keys: LANG"), "{}", text.stdout);
    assert!(text.stdout.contains("wasi:filesystem/"), "{}", text.stdout);
    assert!(
        text.stdout.contains("corral:task/host@0.1.3"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("findings: 0"), "{}", text.stdout);

    let json = fixture.corral(&["audit", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["tasks"][0]["grants"][0]["mode"], "ro");
    assert_eq!(report["tasks"][0]["sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn audit_flags_foreign_imports_and_filesystem_without_grants() {
    let fixture = Fixture::new();
    fixture.manifest(&format!(
        "[[task]]\nid = \"foreign\"\nrationale = \"r\"\ncomponent = {:?}\n{}",
        artifacts::CORRAL_FOREIGN_IMPORT,
        probe_task("no_grants", &["ok"], ""),
    ));
    let audit = fixture.corral(&["audit"]);
    assert!(
        audit.stdout.contains("foreign: unprovided-import:")
            && audit.stdout.contains("corral:foreign/telemetry"),
        "{}",
        audit.stdout
    );
    assert!(
        audit
            .stdout
            .contains("no_grants: filesystem-without-grants"),
        "{}",
        audit.stdout
    );
}

/// `[[task.file]]` grants are judged where they really lead: a symlink's
/// target is shown, and `/proc`, another user's file and a file over the
/// snapshot bound are findings (`/proc/self/environ` used to pass with
/// `findings: 0`).
#[test]
fn audit_resolves_file_grants_and_flags_what_they_lead_to() {
    let fixture = Fixture::new();
    let real = fixture.write("real.rc", "x");
    let link = fixture.path().join("link.rc");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let big = fixture.write("big.rc", vec![b'#'; 2 << 20]);
    let foreign = fixture.write("foreign.rc", "x");
    let running_as_root = rustix::process::geteuid().is_root();
    if running_as_root {
        std::os::unix::fs::chown(&foreign, Some(4242), Some(4242)).unwrap();
    }
    let file = |host: &std::path::Path, guest: &str| {
        format!("[[task.file]]\nhost = {host:?}\nguest = {guest:?}\n")
    };
    fixture.manifest(&probe_task(
        "reader",
        &["ok"],
        &[
            file(&link, "/home/.zshrc"),
            file(std::path::Path::new("/proc/self/environ"), "/home/.env"),
            file(&big, "/home/.big"),
            file(&foreign, "/home/.foreign"),
        ]
        .concat(),
    ));
    let text = fixture.corral(&["audit"]);
    assert_eq!(text.code, Some(0), "{}", text.stderr);
    let shown = format!(
        "file ro /home/.zshrc <- {} (really {})",
        link.display(),
        real.canonicalize().unwrap().display()
    );
    assert!(text.stdout.contains(&shown), "{}", text.stdout);
    let json = fixture.corral(&["audit", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| finding["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"system-tree"), "{rules:?}");
    assert!(rules.contains(&"oversized-file"), "{rules:?}");
    assert_eq!(
        rules.contains(&"foreign-owner"),
        running_as_root,
        "{rules:?}"
    );
}
