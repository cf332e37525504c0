//! Golden files: each `tests/ui/NAME.toml` runs as a manifest in a fresh
//! directory; `NAME.check` holds the exact output of `corral check` and
//! `NAME.audit` that of `corral audit`, with the directory shown as `$DIR`.
//! Set `CORRAL_BLESS=1` to rewrite the expected files after a deliberate
//! change.

use std::path::Path;

use crate::support::Fixture;

#[test]
fn golden_files_match() {
    let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/ui");
    let mut cases: Vec<_> = std::fs::read_dir(&ui)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    cases.sort();
    assert!(!cases.is_empty());
    let bless = std::env::var_os("CORRAL_BLESS").is_some();
    let mut mismatches = Vec::new();
    for case in cases {
        for command in ["check", "audit"] {
            let expected_path = case.with_extension(command);
            if !expected_path.exists() {
                continue;
            }
            let fixture = Fixture::new();
            fixture.mkdir("data");
            fixture.mkdir("home");
            std::fs::copy(&case, fixture.path().join("manifest.toml")).unwrap();
            let output = fixture
                .command(&[command])
                .env("HOME", fixture.path().join("home"))
                .output()
                .unwrap();
            let actual = format!(
                "exit: {}\n--- stdout\n{}--- stderr\n{}",
                output.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
            .replace(&fixture.path().display().to_string(), "$DIR");
            if bless {
                std::fs::write(&expected_path, &actual).unwrap();
            } else if std::fs::read_to_string(&expected_path).unwrap() != actual {
                mismatches.push(format!("{}:\n{actual}", expected_path.display()));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "golden files differ (CORRAL_BLESS=1 rewrites them):\n{}",
        mismatches.join("\n")
    );
}
