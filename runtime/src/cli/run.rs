//! `corral run`: plan the manifest's tasks, run them on a tokio executor
//! until they end or a signal cancels them, and turn the outcome into an
//! exit code.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;

use super::args::{FormatArg, ModeArg};
use super::detach;
use super::exit::{CliError, Exit};
use super::{build, signals};
use crate::detached;
use crate::events::{EventFormat, EventTarget, Events, Overlay, RunTags};
use crate::fs::private_dir::PrivateDir;
use crate::manifest::Manifest;
use crate::mode::Mode;
use crate::plan::Plan;
use crate::plan::repo::shell_directory;
use crate::review::policy::{self, Policy};
use crate::run::cancel::Cancel;
use crate::run::controls::Controls;
use crate::run::scheduler::{RunOutcome, RunSettings};
use crate::run::watchdog;
use crate::run::{event_files, pipeline};
use crate::sandbox::Runtime;
use crate::views::status_line::LiveStatus;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Run only this task (repeatable).
    #[arg(long, value_name = "ID")]
    only: Vec<String>,
    /// `on` runs tasks; `shadow` runs them on throw-away copies of their rw
    /// grants and stores no results; `off` starts nothing.
    #[arg(long, value_enum, env = "CORRAL_MODE", default_value = "on")]
    mode: ModeArg,
    /// Lower the manifest's global concurrency cap for this run.
    #[arg(long, value_name = "N", env = "CORRAL_MAX_CONCURRENCY")]
    max_concurrency: Option<u32>,
    /// Write events to PATH, or to stdout with `-` (default: stderr).
    #[arg(long, value_name = "PATH|-")]
    events: Option<String>,
    /// Event line format.
    #[arg(long, value_enum, default_value = "segment")]
    events_format: FormatArg,
    /// Run the tasks' `build` commands first.
    #[arg(long)]
    build: bool,
    /// Refuse any task whose component has no sha256 pin.
    #[arg(long)]
    locked: bool,
    /// Refuse a manifest that changed since the last `corral ack`.
    #[arg(long)]
    require_ack: bool,
    /// Wait MS milliseconds before starting anything; with --detach the wait
    /// happens in the background. Lets a shell hook that runs before the
    /// prompt is drawn (bash, fish) start corral without racing the prompt.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    defer_ms: u64,
    /// No live status line on a terminal: only the plain event lines.
    #[arg(long, short)]
    quiet: bool,
    /// Return at once and finish the run in the background, detached from
    /// the terminal; events go to the --events file, else to a new
    /// STATE_DIR/runs/*.events that STATE_DIR/last-run.events links to.
    #[arg(long)]
    detach: bool,
}

pub fn run(manifest_path: &Path, args: &RunArgs, process_start: Instant) -> Result<Exit, CliError> {
    let detached_child = detached::leave_session_if_detached();
    let manifest = Manifest::load(manifest_path)?;
    if args.detach {
        return run_detached(&manifest, args);
    }
    let controls = Controls::from_env(|name| std::env::var(name).ok()).map_err(CliError::Usage)?;
    let mut mode = Mode::from(args.mode);
    if mode != Mode::Off
        && let Some(sentinel) = watchdog::tripped(&manifest.runtime.state_path)
    {
        eprintln!(
            "corral: the watchdog stopped an earlier run ({}); running as --mode off until `corral enable`",
            sentinel.trim()
        );
        mode = Mode::Off;
    }
    let runs_tasks = mode != Mode::Off;
    if args.build && runs_tasks {
        build::build(&manifest, &args.only)?;
    }
    let plan = Plan::new(&manifest, &args.only, |name| std::env::var(name).ok())?
        .bind_context(working_directory().as_deref());
    if runs_tasks {
        manifest.check_files(&plan.start)?;
        let policy = Policy {
            locked: args.locked,
            require_ack: args.require_ack,
        };
        policy::enforce(&manifest, &plan.start, policy)?;
    }
    let tags = RunTags {
        phase: manifest.runtime.phase.to_string(),
        mode,
    };
    let target = args
        .events
        .as_deref()
        .map(EventTarget::from_arg)
        .unwrap_or_default();
    let overlay = (runs_tasks && !args.quiet && target == EventTarget::Stderr)
        .then(|| live_status(&plan))
        .flatten();
    if args.defer_ms > 0 && runs_tasks {
        std::thread::sleep(std::time::Duration::from_millis(args.defer_ms));
    }
    let format = EventFormat::from(args.events_format);
    let (events, writer) = Events::open(&target, format, tags, process_start, overlay)
        .map_err(|error| CliError::Usage(error.to_string()))?;

    let outcome = if runs_tasks {
        run_plan(&manifest, plan, args, mode, controls, &events)
    } else {
        events.emit(events.queue_init(0));
        Ok(Exit::Success)
    };
    drop(events);
    let written = writer.finish(EVENTS_FLUSH_TIMEOUT);
    if detached_child {
        // The shell that started this run is not waiting: old event files
        // are pruned here, once the run is over, never where it waits.
        let pruned = open_state_dir(&manifest).and_then(|state| {
            event_files::prune_runs(&state)
                .map_err(|error| CliError::internal("cannot prune old event files", error))
        });
        if let Err(error) = pruned {
            tracing::warn!(%error, "cannot prune old event files");
        }
    }
    match (outcome, written) {
        // The terminal that went away with SIGHUP cannot take the last
        // lines; the exit code still says what happened.
        (Ok(Exit::Hangup), _) => Ok(Exit::Hangup),
        (outcome, Ok(())) => outcome,
        (Err(error), Err(_)) => Err(error),
        (Ok(_), Err(error)) => Err(CliError::internal("writing events failed", error)),
    }
}

/// How long the last events may take to reach a slow reader.
const EVENTS_FLUSH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The live status line, when stderr is a terminal that can redraw it.
fn live_status(plan: &Plan) -> Option<Box<dyn Overlay>> {
    let capable = std::io::stderr().is_terminal()
        && std::env::var("TERM").map_or(true, |term| term != "dumb");
    let timeouts: HashMap<String, u64> = plan
        .start
        .iter()
        .map(|task| (task.label.to_string(), task.timeout_ms))
        .collect();
    capable.then(|| Box::new(LiveStatus::new(timeouts)) as Box<dyn Overlay>)
}

/// Validates what can be validated here, so mistakes still reach the
/// terminal, then hands the run to a detached copy of this process.
fn run_detached(manifest: &Manifest, args: &RunArgs) -> Result<Exit, CliError> {
    Controls::from_env(|name| std::env::var(name).ok()).map_err(CliError::Usage)?;
    Plan::new(manifest, &args.only, |name| std::env::var(name).ok())?;
    // Whatever the detached run writes to is opened here first, so a
    // mistake is reported now, not by a process nobody watches.
    let events_file = match args.events.as_deref().map(EventTarget::from_arg) {
        Some(EventTarget::File(path)) => {
            detach::check_events_file(&path).map_err(|error| {
                CliError::Usage(format!("--events {}: {error}", path.display()))
            })?;
            None
        }
        _ => {
            let state = open_state_dir(manifest)?;
            let file = event_files::new_run_events_file(&state).map_err(|error| {
                CliError::internal("cannot create the detached run's event file", error)
            })?;
            Some(file)
        }
    };
    let mut command_line: Vec<_> = std::env::args_os().collect();
    if events_file.is_some() {
        command_line = detach::without_events_arg(command_line);
    }
    detach::spawn_detached(&command_line, events_file.as_deref())
        .map_err(|error| CliError::internal("cannot start the detached run", error))?;
    Ok(Exit::Success)
}

/// Runs the plan until it ends or a signal cancels it, and turns how it
/// ended into the exit code.
fn run_plan(
    manifest: &Manifest,
    plan: Plan,
    args: &RunArgs,
    mode: Mode,
    controls: Controls,
    events: &Events,
) -> Result<Exit, CliError> {
    let max_concurrency = args
        .max_concurrency
        .map_or(manifest.runtime.max_concurrency, |cap| {
            cap.clamp(1, manifest.runtime.max_concurrency)
        });
    let runtime =
        Runtime::new().map_err(|error| CliError::internal("cannot start wasmtime", error))?;
    let (outcome, signal) = execute_plan(
        manifest,
        plan,
        &runtime,
        max_concurrency,
        mode,
        controls,
        events,
    )?;
    if signal.is_none() {
        start_reruns(manifest, &outcome.reruns, args);
    }
    let summary = &outcome.summary;
    for error in &outcome.state_errors {
        eprintln!(
            "corral: {error}\n  help: corral's state must be its own regular files: remove that path (corral recreates it) or give it back to this user"
        );
    }
    Ok(match signal {
        Some(exit) => exit,
        None if !outcome.state_errors.is_empty() => Exit::Internal,
        None if outcome.integrity_failures > 0 => Exit::Refused,
        None if summary.fail + summary.timeout > 0 => Exit::TaskFailed,
        None => Exit::Success,
    })
}

/// The directory `context = "repo"` tasks are bound by (the shell's);
/// `None` when it cannot be read, as after it was deleted.
pub(super) fn working_directory() -> Option<std::path::PathBuf> {
    shell_directory()
        .inspect_err(|error| tracing::debug!(%error, "cannot read the current directory"))
        .ok()
}

/// Starts, detached, the one more run of each task that other runs asked
/// for while this one held it (see `run::task_lock`); it writes its own
/// events file like any detached run.
/// The rerun keeps this run's policy (`--locked`, `--require-ack`) and
/// concurrency cap.
fn start_reruns(manifest: &Manifest, ids: &[String], args: &RunArgs) {
    if ids.is_empty() {
        return;
    }
    let mut command_line: Vec<OsString> = ["corral", "run", "--quiet", "--manifest"]
        .into_iter()
        .map(OsString::from)
        .collect();
    command_line.push(manifest.path.clone().into_os_string());
    for (flag, on) in [
        ("--locked", args.locked),
        ("--require-ack", args.require_ack),
    ] {
        if on {
            command_line.push(flag.into());
        }
    }
    if let Some(cap) = args.max_concurrency {
        command_line.extend([OsString::from("--max-concurrency"), cap.to_string().into()]);
    }
    for id in ids {
        command_line.extend([OsString::from("--only"), OsString::from(id)]);
    }
    let started = open_state_dir(manifest)
        .and_then(|state| {
            event_files::new_run_events_file(&state)
                .map_err(|error| CliError::internal("cannot create an events file", error))
        })
        .and_then(|events| {
            detach::spawn_detached(&command_line, Some(&events))
                .map_err(|error| CliError::internal("cannot start the detached run", error))
        });
    if let Err(error) = started {
        tracing::warn!(%error, ?ids, "cannot start the requested rerun");
    }
}

/// One run of the plan, shared by `run`, `bench` and `rebaseline`: on
/// its own executor until it ends or a signal cancels it. Returns the
/// signal that cancelled it, if any.
pub(super) fn execute_plan(
    manifest: &Manifest,
    plan: Plan,
    runtime: &Arc<Runtime>,
    max_concurrency: u32,
    mode: Mode,
    controls: Controls,
    events: &Events,
) -> Result<(RunOutcome, Option<Exit>), CliError> {
    let executor = pipeline::executor(max_concurrency, plan.start.len())
        .map_err(|error| CliError::internal("cannot start the executor", error))?;
    let cancel = Cancel::default();
    let settings = RunSettings {
        mode,
        max_concurrency,
        controls,
        cancel: cancel.clone(),
        changes: None,
        on_result: None,
    };
    let (outcome, signal) = executor.block_on(async {
        let signals = signals::Listeners::install()
            .map(|listeners| tokio::spawn(listeners.cancel_on_signal(cancel)));
        let outcome = pipeline::execute(manifest, plan, runtime, settings, events).await;
        let signal = match signals {
            Some(signals) => {
                signals.abort();
                signals.await.ok()
            }
            None => None,
        };
        (outcome, signal)
    });
    // Guests blocked in host calls were abandoned at their timeout; do not
    // wait for their blocking threads.
    executor.shutdown_background();
    let outcome = outcome.map_err(|error| CliError::internal(error.context, error.source))?;
    Ok((outcome, signal))
}

/// The manifest's state directory, open.
fn open_state_dir(manifest: &Manifest) -> Result<PrivateDir, CliError> {
    pipeline::open_state_dir(manifest)
        .map_err(|error| CliError::internal(error.context, error.source))
}
