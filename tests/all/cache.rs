//! The compiled-component cache: a hit never compiles, and a corrupt,
//! foreign or unsafely placed artifact is never trusted.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::support::{Fixture, Run, probe_task};

fn run_with_cache(fixture: &Fixture, cache: &Path) -> Run {
    let run = fixture.corral_with(
        &["run"],
        &[
            ("CORRAL_CACHE_DIR", cache.to_str().unwrap()),
            ("CORRAL_LOG", "corral=debug"),
        ],
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    run.assert_done("quick");
    run
}

fn artifact(cache: &Path) -> PathBuf {
    std::fs::read_dir(cache)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.extension().is_some_and(|ext| ext == "cwasm"))
        .expect("an artifact in the cache")
}

fn compiled(run: &Run) -> bool {
    run.stderr.contains("compiling component")
}

#[test]
fn a_cache_hit_does_not_compile() {
    let _cpu = crate::support::cpu_bound();
    let fixture = Fixture::new();
    fixture.manifest(&probe_task("quick", &["ok"], ""));
    let cache = fixture.path().join("cache");
    assert!(compiled(&run_with_cache(&fixture, &cache)));
    let mode = std::fs::metadata(&cache).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    let file_mode = std::fs::metadata(artifact(&cache))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(file_mode & 0o077, 0, "artifacts are private");

    let second = run_with_cache(&fixture, &cache);
    assert!(!compiled(&second), "{}", second.stderr);
    assert!(
        second.stderr.contains("loaded precompiled component"),
        "{}",
        second.stderr
    );
}

#[test]
fn a_tampered_artifact_is_rejected_and_rebuilt() {
    let _cpu = crate::support::cpu_bound();
    let fixture = Fixture::new();
    fixture.manifest(&probe_task("quick", &["ok"], ""));
    let cache = fixture.path().join("cache");
    run_with_cache(&fixture, &cache);
    let path = artifact(&cache);
    let original = std::fs::read(&path).unwrap();
    let mut tampered = original.clone();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x01;
    std::fs::write(&path, &tampered).unwrap();

    let run = run_with_cache(&fixture, &cache);
    assert!(run.stderr.contains("fails its checksum"), "{}", run.stderr);
    assert!(compiled(&run), "{}", run.stderr);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        original,
        "the artifact is rebuilt"
    );
    assert!(!compiled(&run_with_cache(&fixture, &cache)));
}

#[test]
fn a_foreign_artifact_with_a_matching_checksum_is_rejected() {
    let _cpu = crate::support::cpu_bound();
    let fixture = Fixture::new();
    fixture.manifest(&probe_task("quick", &["ok"], ""));
    let cache = fixture.path().join("cache");
    run_with_cache(&fixture, &cache);
    let path = artifact(&cache);
    // Not produced by this engine, but consistent with its own checksum.
    let foreign = b"\x7fELF not a wasmtime artifact".to_vec();
    std::fs::write(&path, &foreign).unwrap();
    let digest = {
        use sha2::Digest;
        sha2::Sha256::digest(&foreign)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    std::fs::write(path.with_extension("sha256"), digest).unwrap();

    let run = run_with_cache(&fixture, &cache);
    assert!(
        run.stderr.contains("ignoring an unusable cached artifact"),
        "{}",
        run.stderr
    );
    assert!(compiled(&run));
}

#[test]
fn a_cache_directory_others_can_write_is_not_used() {
    let fixture = Fixture::new();
    fixture.manifest(&probe_task("quick", &["ok"], ""));
    let cache = fixture.mkdir("shared-cache");
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let run = run_with_cache(&fixture, &cache);
    assert!(
        run.stderr.contains("not using the component cache"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 0);
}
