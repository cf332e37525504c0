//! Fixtures: a temporary directory with a manifest, and the parsed output
//! of one `corral` invocation.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub use corral_test_artifacts as artifacts;

/// A temporary directory holding a manifest and whatever files a test needs.
pub struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new() -> Self {
        Fixture {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file (creating parent directories) and returns its path.
    pub fn write(&self, relative: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path
    }

    pub fn mkdir(&self, relative: &str) -> PathBuf {
        let path = self.path().join(relative);
        std::fs::create_dir_all(&path).unwrap();
        path
    }

    /// Writes `manifest.toml`: `version = 1` followed by `body`.
    pub fn manifest(&self, body: &str) -> &Self {
        self.write("manifest.toml", format!("version = 1\n{body}"));
        self
    }

    /// A `corral` command that runs in this directory with this manifest and
    /// none of the caller's `CORRAL_*` settings.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_corral"));
        command.current_dir(self.path()).args(args);
        for (key, _) in std::env::vars() {
            if key.starts_with("CORRAL_") {
                command.env_remove(key);
            }
        }
        // Tests share one compiled-component cache, kept out of the user's.
        command.env("CORRAL_CACHE_DIR", shared_cache_dir());
        command
    }

    pub fn corral(&self, args: &[&str]) -> Run {
        self.corral_with(args, &[])
    }

    /// Like [`Fixture::corral`], with extra environment variables.
    pub fn corral_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = self.command(args);
        command.envs(env.iter().copied());
        Run::from(command.output().expect("running corral"))
    }
}

/// The lines of every run's events file (`.corral/runs/*.events`) that
/// contain one of `needles`, oldest run first: what guests logged.
pub fn logged(fixture: &Fixture, needles: &[&str]) -> Vec<String> {
    let mut runs: Vec<std::path::PathBuf> = std::fs::read_dir(fixture.path().join(".corral/runs"))
        .map(|entries| entries.flatten().map(|entry| entry.path()).collect())
        .unwrap_or_default();
    runs.retain(|path| path.extension().is_some_and(|ext| ext == "events"));
    runs.sort_by_key(|path| {
        std::fs::metadata(path)
            .and_then(|meta| meta.modified())
            .ok()
    });
    runs.iter()
        .flat_map(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            text.lines()
                .filter(|line| needles.iter().any(|needle| line.contains(needle)))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Waits, up to a generous minute, until `count` runs have written their
/// `PERF_GUARD` line to their events file under `.corral/runs`: evidence
/// that they ended, so that what they have not done by then they never
/// do (a check of an absence needs it, where a sleep would only hope).
pub fn wait_for_runs_to_end(fixture: &Fixture, count: usize) {
    crate::terminal::eventually(
        std::time::Duration::from_secs(60),
        &format!("{count} run(s) to write PERF_GUARD"),
        || logged(fixture, &["PERF_GUARD"]).len() >= count,
    );
}

/// Held by the tests that load both cores (compiling components, 5,000-file
/// repositories, floods of processes) and by those that judge time (the
/// shipped manifest's 1.5 s timeouts, budgets): on a 2-core machine the
/// two kinds must not run at once, or the timing tests fail for want of
/// CPU, not for a defect.
pub fn cpu_bound() -> std::sync::MutexGuard<'static, ()> {
    static CPU: std::sync::Mutex<()> = std::sync::Mutex::new(());
    CPU.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub fn shared_cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("component-cache")
}

/// A `[[task]]` running the probe component with the given behaviour.
pub fn probe_task(id: &str, args: &[&str], extra: &str) -> String {
    guest_task(artifacts::CORRAL_PROBE, id, args, extra)
}

/// A `[[task]]` running `component` with `args`; `extra` is appended.
pub fn guest_task(component: &str, id: &str, args: &[&str], extra: &str) -> String {
    let mut task = String::new();
    writeln!(task, "[[task]]").unwrap();
    writeln!(task, "id = {id:?}").unwrap();
    writeln!(task, "rationale = \"test task\"").unwrap();
    writeln!(task, "component = {component:?}").unwrap();
    let args = toml::Value::Array(args.iter().map(|&arg| arg.into()).collect());
    writeln!(task, "args = {args}").unwrap();
    if !extra.is_empty() {
        writeln!(task, "{}", extra.trim_end()).unwrap();
    }
    task
}

/// A `[[task.dir]]` grant.
pub fn grant(host: &Path, guest: &str, mode: &str) -> String {
    format!(
        "[[task.dir]]\nhost = {:?}\nguest = {guest:?}\nmode = {mode:?}\n",
        host
    )
}

/// One `SEGMENT` or `PERF_GUARD` line, split into its fields.
#[derive(Debug)]
pub struct Line {
    pub kind: String,
    pub fields: BTreeMap<String, String>,
}

impl Line {
    pub fn name(&self) -> &str {
        self.fields.get("name").map_or("", String::as_str)
    }

    pub fn field(&self, key: &str) -> &str {
        self.fields.get(key).map_or("", String::as_str)
    }
}

/// The output of one `corral` invocation.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub lines: Vec<Line>,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            lines: parse_lines(&stderr),
            stderr,
        }
    }
}

impl Run {
    /// The segment named `name`, failing the test if it is missing.
    pub fn segment(&self, name: &str) -> &Line {
        self.lines
            .iter()
            .find(|line| line.name() == name)
            .unwrap_or_else(|| panic!("no segment {name} in:\n{}", self.stderr))
    }

    pub fn has_segment(&self, name: &str) -> bool {
        self.lines.iter().any(|line| line.name() == name)
    }

    pub fn perf_guard(&self) -> &Line {
        self.lines
            .iter()
            .find(|line| line.kind == "PERF_GUARD")
            .unwrap_or_else(|| panic!("no PERF_GUARD in:\n{}", self.stderr))
    }

    /// Asserts the task ended in `_fail` with `reason` and returns the line.
    pub fn assert_failed(&self, label: &str, reason: &str) -> &Line {
        let line = self.segment(&format!("async_task_{label}_fail"));
        assert_eq!(line.field("reason"), reason, "{}", self.stderr);
        line
    }

    pub fn assert_done(&self, label: &str) -> &Line {
        self.segment(&format!("async_task_{label}_done"))
    }
}

/// The `SEGMENT` and `PERF_GUARD` lines of a run's output, split by
/// corral's own event decoder (quoted values unescaped). Other output
/// (tracing, build logs) is skipped; a malformed event line fails the test.
pub fn parse_lines(text: &str) -> Vec<Line> {
    text.lines()
        .filter_map(|line| corral::parse_line(line).unwrap_or_else(|e| panic!("{e}: {line:?}")))
        .filter(|raw| raw.kind == "SEGMENT" || raw.kind == "PERF_GUARD")
        .map(|corral::RawEvent { kind, fields }| Line { kind, fields })
        .collect()
}

/// Every event of a run's output, typed by corral's decoder.
pub fn decode_events(text: &str) -> Vec<corral::Event> {
    let mut decoder = corral::Decoder::default();
    text.lines()
        .filter_map(|line| {
            decoder
                .decode(line)
                .unwrap_or_else(|e| panic!("{e}: {line:?}"))
        })
        .collect()
}

/// Each task's `[start, end]` in ms since process start, from its `_start`
/// line and the duration on its `_done`/`_fail` line.
pub fn task_intervals(run: &Run) -> Vec<(String, f64, f64)> {
    run.lines
        .iter()
        .filter_map(|line| {
            let label = line
                .name()
                .strip_prefix("async_task_")?
                .strip_suffix("_start")?;
            let start: f64 = line.field("ms").parse().ok()?;
            let end = run.lines.iter().find_map(|end| {
                let name = end.name();
                (name == format!("async_task_{label}_done")
                    || name == format!("async_task_{label}_fail"))
                .then(|| end.field("ms").parse::<f64>().ok())
                .flatten()
            })?;
            Some((label.to_string(), start, start + end))
        })
        .collect()
}

/// The largest number of intervals open at the same instant.
pub fn max_overlap(intervals: &[(String, f64, f64)]) -> usize {
    let mut points: Vec<(f64, i32)> = intervals
        .iter()
        .flat_map(|(_, start, end)| [(*start, 1), (*end, -1)])
        .collect();
    // Ends sort before starts at the same instant: a freed slot is reused.
    points.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut open = 0;
    let mut most = 0;
    for (_, delta) in points {
        open += delta;
        most = most.max(open);
    }
    most as usize
}

/// The shipped manifest with components taken from the test artifacts and
/// read-only grants pointing into the repository; state stays in the fixture.
pub fn shipped_manifest() -> String {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let text = std::fs::read_to_string(repo.join("manifest.toml")).unwrap();
    let mut manifest: toml::Table = toml::from_str(&text).unwrap();
    for task in manifest["task"].as_array_mut().unwrap() {
        let task = task.as_table_mut().unwrap();
        let id = task["id"].as_str().unwrap().to_string();
        let component = artifacts::ALL
            .iter()
            .find(|(name, _)| *name == id)
            .unwrap_or_else(|| panic!("no test artifact for shipped task {id}"))
            .1;
        task.insert("component".into(), component.into());
        task.remove("build");
        let dirs = task.get_mut("dir").and_then(toml::Value::as_array_mut);
        for dir in dirs.into_iter().flatten() {
            let dir = dir.as_table_mut().unwrap();
            if dir["mode"].as_str() == Some("ro") {
                let host = repo.join(dir["host"].as_str().unwrap());
                dir.insert("host".into(), host.display().to_string().into());
            }
        }
    }
    toml::to_string(&manifest).unwrap()
}

/// Compares with the expected file (which must exist unless blessing a
/// `required` one), or rewrites it when `CORRAL_BLESS` is set.
pub fn compare_golden(expected: &Path, actual: &str, required: bool) {
    if std::env::var_os("CORRAL_BLESS").is_some() {
        std::fs::write(expected, actual).unwrap();
        return;
    }
    let Ok(wanted) = std::fs::read_to_string(expected) else {
        assert!(
            !required,
            "{} is missing (CORRAL_BLESS=1 writes it)",
            expected.display()
        );
        return;
    };
    assert_eq!(
        wanted,
        actual,
        "{} differs (CORRAL_BLESS=1 rewrites it)",
        expected.display()
    );
}

/// Whether every one of `programs` is on `PATH`. A test, or the part of a
/// test, that needs them runs only when it is true. CI installs them all
/// (.ci/run) and sets `CI`, so there a missing one fails the test instead;
/// elsewhere stderr says what is skipped and why.
pub fn require(programs: &[&str]) -> bool {
    let missing: Vec<String> = programs
        .iter()
        .filter(|program| !on_path(program))
        .map(|program| program.to_string())
        .collect();
    present_or_skip(&missing, ".ci/run installs them")
}

/// Like [`require`], for files and directories: the template tools under
/// `target/tools`, a distribution's completion directories. `remedy` says
/// how to install them.
pub fn require_files(paths: &[&Path], remedy: &str) -> bool {
    let missing: Vec<String> = paths
        .iter()
        .filter(|path| !path.exists())
        .map(|path| path.display().to_string())
        .collect();
    present_or_skip(&missing, remedy)
}

/// Whether an executable file named `program` is in a directory of `PATH`.
fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| {
        std::fs::metadata(dir.join(program))
            .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
    })
}

fn present_or_skip(missing: &[String], remedy: &str) -> bool {
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{missing:?} not installed; {remedy}"
    );
    eprintln!("skipping what needs {missing:?}: not installed ({remedy})");
    false
}
