//! `corral check`: the manifest, what it names on disk, and every
//! component loaded (and so compiled into the cache).

use std::path::Path;

use super::exit::{CliError, Exit};
use super::output::{manifest_line, print_raw};
use crate::escape::escape;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::events::{FailReason, Failure};
use crate::manifest::{Manifest, Task};
use crate::sandbox::{Compiling, Runtime};

pub fn check(manifest_path: &Path) -> Result<Exit, CliError> {
    let manifest = Manifest::load(manifest_path)?;
    manifest.check_files(&manifest.tasks)?;
    manifest.check_file_grants(&manifest.tasks)?;
    load_components(&manifest.tasks)?;
    print_raw(&format!(
        "{}{}: ok, {} tasks\nchecksum: {}\n",
        manifest_line(manifest_path),
        escape(&manifest_path.display().to_string()),
        manifest.tasks.len(),
        manifest.checksum()
    ))?;
    Ok(Exit::Success)
}

/// Loads every task's component, which verifies pins, proves each is a
/// task component and leaves its compilation in the cache. Reports every
/// problem; a pin mismatch makes it a refusal.
pub fn load_components<'a>(tasks: impl IntoIterator<Item = &'a Task>) -> Result<(), CliError> {
    let runtime =
        Runtime::new().map_err(|error| CliError::internal("cannot start wasmtime", error))?;
    let mut problems = Vec::new();
    let mut refused = false;
    for task in tasks {
        if let Err(failure) = load_showing_progress(&runtime, task) {
            refused |= failure.reason == FailReason::Integrity;
            problems.push(format!("task {}: {failure}", task.id));
        }
    }
    match (problems.is_empty(), refused) {
        (true, _) => Ok(()),
        (false, true) => Err(CliError::Refused(problems.join("\n"))),
        (false, false) => Err(CliError::TaskFailed(problems.join("\n"))),
    }
}

/// Loads one component; a first compilation says so, shows its progress
/// every second after the first, and says how large its artifact is.
fn load_showing_progress(runtime: &Runtime, task: &Task) -> Result<(), Failure> {
    let path = task.component_path.display().to_string();
    let pin = task.sha256.as_ref().map(|pin| pin.as_str());
    let (notices, heard) = mpsc::channel();
    let show = |notice: Compiling| match notice {
        Compiling::Started { component_bytes } => eprintln!(
            "corral: compiling {path} ({:.1} MB) for the first time; later loads use the cache",
            component_bytes as f64 / 1e6
        ),
        Compiling::Finished {
            artifact_bytes,
            seconds,
        } => eprintln!(
            "corral: compiled {path} in {seconds:.1} s; cached artifact {:.1} MB",
            artifact_bytes as f64 / 1e6
        ),
    };
    std::thread::scope(|scope| {
        let loading = scope.spawn(|| {
            let notify = |compiling| {
                let _ = notices.send(compiling);
            };
            runtime.load(&task.component_path, pin, &notify).map(drop)
        });
        let started = Instant::now();
        let mut compiling = false;
        while !loading.is_finished() {
            match heard.recv_timeout(Duration::from_secs(1)) {
                Ok(notice) => {
                    compiling = true;
                    show(notice);
                }
                Err(_) if compiling => eprintln!(
                    "corral: still compiling {path} ({} s)",
                    started.elapsed().as_secs()
                ),
                Err(_) => {}
            }
        }
        heard.try_iter().for_each(show);
        loading.join().unwrap_or_else(|_| {
            Err(Failure::new(
                FailReason::Load,
                "the compiler thread panicked",
            ))
        })
    })
}
