//! Golden files: each `tests/ui/NAME.toml` is a manifest with its expected
//! outputs beside it, one test per case so a failure names its file:
//! - `NAME.canonical`: the canonical form (pretty JSON) and checksum of a
//!   manifest that parses, so a new field cannot change checksums, and so
//!   every acknowledgement, by accident;
//! - `NAME.check` / `NAME.audit`: the exact output of `corral check` /
//!   `corral audit` run in a fresh directory, shown as `$DIR`.
//!
//! A case must have at least one expected file, and a manifest that parses
//! must have a `.canonical`. Set `CORRAL_BLESS=1` to rewrite the expected
//! files after a deliberate change.

use std::path::{Path, PathBuf};

use crate::support::{Fixture, compare_golden};

macro_rules! golden_cases {
    ($($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                check_case(stringify!($case));
            }
        )*
        const CASES: &[&str] = &[$(stringify!($case)),*];
    };
}

golden_cases!(
    audit_findings,
    bad_context,
    bad_priority,
    budgets_and_rules,
    canonical_every_key,
    file_grants,
    perf_bad_values,
    perf_budgets,
    perf_unknown_mode,
    repo_context,
    reuse,
    unknown_key,
    unsorted_and_duplicate,
);

fn ui_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/ui")
}

#[test]
fn every_case_in_tests_ui_is_listed() {
    let mut found: Vec<String> = std::fs::read_dir(ui_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    found.sort();
    assert_eq!(
        found,
        CASES,
        "add new cases to golden_cases! in {}",
        file!()
    );
}

/// The shipped manifest's checksum, pinned: acknowledgements of it stay
/// valid across corral versions unless its meaning changes.
#[test]
fn shipped_manifest_checksum_is_pinned() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../manifest.toml");
    let manifest = corral::Manifest::load(&path).unwrap();
    assert_eq!(
        manifest.checksum(),
        "faed8227b126b20e345b296f8bf540a50beb11336b2e4559b4f47a22a8a9a801"
    );
}

fn check_case(name: &str) {
    let case = ui_dir().join(format!("{name}.toml"));
    let mut compared = 0;
    let text = std::fs::read_to_string(&case).unwrap();
    if let Ok(manifest) = corral::Manifest::parse(Path::new("manifest.toml"), &text) {
        let actual = format!(
            "{:#}\nchecksum: {}\n",
            manifest.canonical(),
            manifest.checksum()
        );
        compare_golden(&case.with_extension("canonical"), &actual, true);
        compared += 1;
    }
    for command in ["check", "audit"] {
        let expected = case.with_extension(command);
        if !expected.exists() {
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
        compare_golden(&expected, &actual, false);
        compared += 1;
    }
    assert!(compared > 0, "{} has no expected file", case.display());
}
