//! `corral rebaseline ID`: run one task once with `--rebaseline` before its
//! manifest args, so that a tamper check (the shipped `integrity_scan`)
//! accepts the current state of what it watches and says what it accepted.
//!
//! The flag exists only for the length of this command: a normal run never
//! passes it, so a check never quietly accepts what it finds. The policy
//! (`require_ack`) is judged on the manifest as written.

use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, Instant};

use super::exit::{CliError, Exit};
use super::output::print_escaped;
use super::run::execute_plan;
use crate::events::{EventFormat, EventTarget, Events, RunTags};
use crate::manifest::Manifest;
use crate::mode::Mode;
use crate::plan::{Plan, UnknownTask};
use crate::review::policy::{self, Policy};
use crate::review::rebaseline;
use crate::run::controls::Controls;
use crate::run::results::ResultStore;
use crate::sandbox::Runtime;

pub fn rebaseline(manifest_path: &Path, id: &str) -> Result<Exit, CliError> {
    let process_start = Instant::now();
    let manifest = Manifest::load(manifest_path)?;
    if manifest.task(id).is_none() {
        return Err(UnknownTask(id.to_string()).into());
    }
    let env = |name: &str| std::env::var(name).ok();
    let only = [id.to_string()];
    let as_written = Plan::new(&manifest, &only, env)?;
    if as_written.start.is_empty() {
        return Err(CliError::Usage(format!(
            "task {id} is turned off by its feature flag\n  help: set the flag for this command"
        )));
    }
    manifest.check_files(&as_written.start)?;
    let policy = Policy {
        locked: false,
        require_ack: false,
    };
    policy::enforce(&manifest, &as_written.start, policy)?;

    let accepting = rebaseline::accepting(&manifest, id);
    let plan = Plan::new(&accepting, &only, env)?;
    let controls = Controls::from_env(env).map_err(CliError::Usage)?;
    let tags = RunTags {
        phase: manifest.runtime.phase.to_string(),
        mode: Mode::On,
    };
    // A person at a terminal reads a sentence, not event lines; a script
    // reading stderr still gets the events.
    let terminal = std::io::stderr().is_terminal();
    let target = match terminal {
        true => EventTarget::Discard,
        false => EventTarget::Stderr,
    };
    let (events, writer) = Events::open(&target, EventFormat::Segment, tags, process_start, None)
        .map_err(|error| CliError::Usage(error.to_string()))?;
    let runtime =
        Runtime::new().map_err(|error| CliError::internal("cannot start wasmtime", error))?;
    let outcome = execute_plan(&accepting, plan, &runtime, 1, Mode::On, controls, &events);
    drop(events);
    let _ = writer.finish(Duration::from_secs(5));
    let (outcome, signal) = outcome?;
    if let Some(exit) = signal {
        return Ok(exit);
    }
    if outcome.integrity_failures > 0 {
        return Ok(Exit::Refused);
    }
    if outcome.summary.fail + outcome.summary.timeout > 0 {
        return Ok(Exit::TaskFailed);
    }
    let bound = manifest.task(id).is_some_and(|task| task.context.is_some());
    let stored = ResultStore::read(&manifest.runtime.state_path, id, bound)
        .map_err(|error| CliError::internal(format!("cannot read the result of {id}"), error))?;
    if terminal {
        eprintln!(
            "corral: {id} accepted the current state of what it checks; from now on it reports changes against it:"
        );
    }
    if let Some(stored) = stored {
        print_escaped(&stored.result)?;
    }
    Ok(Exit::Success)
}
