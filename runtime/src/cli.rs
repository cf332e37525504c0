//! The `corral` command line: argument parsing and one function per command.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};

use crate::ack::{self, AckStatus};
use crate::cancel::Cancel;
use crate::controls::Controls;
use crate::detach;
use crate::durable::create_private_dir;
use crate::engine::Runtime;
use crate::events::{Event, EventFormat, EventTarget, Events, Mode, RunTags};
use crate::manifest::{Manifest, ManifestError, Task};
use crate::outcome::FailReason;
use crate::plan::{Plan, UnknownTask};
use crate::progress::LiveStatus;
use crate::results::ResultStore;
use crate::scheduler::{RunSettings, Scheduler};
use crate::shell_init::Shell;
use crate::watchdog;

/// Run shell start-up work as sandboxed WebAssembly components, within hard
/// budgets, with exactly the files each task was granted.
#[derive(Debug, Parser)]
#[command(name = "corral", version)]
pub struct Cli {
    /// The task manifest.
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        default_value = "manifest.toml"
    )]
    manifest: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the manifest's tasks concurrently and report segment events.
    Run(RunArgs),
    /// Validate the manifest and its components; print the manifest checksum.
    Check,
    /// List the manifest's tasks with their budgets and grants.
    List,
    /// Run each task's `build` command.
    Build {
        /// Build only this task (repeatable).
        #[arg(long, value_name = "ID")]
        only: Vec<String>,
    },
    /// Print the result stored by the last successful run of a task.
    Result {
        /// The task's id.
        id: String,
    },
    /// Re-enable runs after the watchdog turned them off.
    Enable,
    /// Show what every task may do, and flag what a reviewer should look at.
    Audit {
        /// Print the audit as JSON.
        #[arg(long)]
        json: bool,
        /// Instead, list what changed since OLD_MANIFEST (tasks, grants, budgets).
        #[arg(long, value_name = "OLD_MANIFEST")]
        diff: Option<PathBuf>,
    },
    /// Write each component's sha256 pin into the manifest.
    Lock,
    /// Record the manifest as reviewed, for `require_ack`.
    Ack,
    /// Follow a running or finished run in a terminal view (q quits).
    Watch {
        /// The run's event file (default: STATE_DIR/last-run.events, where
        /// `run --detach` writes).
        #[arg(long, value_name = "PATH")]
        events: Option<PathBuf>,
    },
    /// Draw a run's timeline (one lane per task) from its event file.
    Report {
        /// The run's event file (`--events PATH`, either format).
        events: PathBuf,
        /// Where to write the SVG.
        #[arg(long, value_name = "PATH", default_value = "timeline.svg")]
        out: PathBuf,
    },
    /// Print a snippet for a shell's rc file that runs the tasks once per
    /// shell, after the first prompt, and exposes their results.
    ShellInit {
        #[arg(value_enum)]
        shell: Shell,
    },
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Run only this task (repeatable).
    #[arg(long, value_name = "ID")]
    only: Vec<String>,
    /// `on` runs tasks; `shadow` runs them on throw-away copies of their rw
    /// grants and stores no results; `off` starts nothing.
    #[arg(long, value_enum, env = "CORRAL_MODE", default_value = "on")]
    mode: Mode,
    /// Lower the manifest's global concurrency cap for this run.
    #[arg(long, value_name = "N", env = "CORRAL_MAX_CONCURRENCY")]
    max_concurrency: Option<u32>,
    /// Write events to PATH, or to stdout with `-` (default: stderr).
    #[arg(long, value_name = "PATH|-")]
    events: Option<String>,
    /// Event line format.
    #[arg(long, value_enum, default_value = "segment")]
    events_format: EventFormat,
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
    /// the terminal; events go to the --events file (default
    /// STATE_DIR/last-run.events).
    #[arg(long)]
    detach: bool,
}

/// How the process exits; the numbers are part of the command-line contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Every started task finished `_done`.
    Success = 0,
    /// Some task failed or timed out.
    TaskFailed = 1,
    /// Usage or manifest error.
    Usage = 2,
    /// Integrity or policy refusal.
    Refused = 3,
    /// Cancelled by SIGINT.
    Interrupted = 130,
    /// Cancelled by SIGTERM.
    Terminated = 143,
}

/// An error that ends a command, with the exit status it maps to.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    UnknownTask(#[from] UnknownTask),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Failed(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl CliError {
    pub fn exit(&self) -> Exit {
        match self {
            CliError::Manifest(_) | CliError::UnknownTask(_) | CliError::Usage(_) => Exit::Usage,
            CliError::Refused(_) => Exit::Refused,
            CliError::Failed(_) | CliError::Other(_) => Exit::TaskFailed,
        }
    }
}

impl Cli {
    /// Runs the chosen command. `process_start` anchors event times.
    pub fn execute(self, process_start: Instant) -> Result<Exit, CliError> {
        match &self.command {
            Command::Run(args) => run(&self.manifest, args, process_start),
            Command::Check => check(&self.manifest),
            Command::List => list(&self.manifest),
            Command::Build { only } => {
                build(&Manifest::load(&self.manifest)?, only)?;
                Ok(Exit::Success)
            }
            Command::Result { id } => result(&self.manifest, id),
            Command::Enable => enable(&self.manifest),
            Command::Audit { json, diff } => audit(&self.manifest, *json, diff.as_deref()),
            Command::Lock => lock(&self.manifest),
            Command::Ack => ack(&self.manifest),
            Command::ShellInit { shell } => shell_init(&self.manifest, *shell),
            Command::Watch { events } => watch(&self.manifest, events.as_deref()),
            Command::Report { events, out } => report(events, out),
        }
    }
}

fn run(manifest_path: &Path, args: &RunArgs, process_start: Instant) -> Result<Exit, CliError> {
    let manifest = Manifest::load(manifest_path)?;
    if args.detach {
        return run_detached(&manifest, args);
    }
    let controls = Controls::from_env(|name| std::env::var(name).ok()).map_err(CliError::Usage)?;
    let mut mode = args.mode;
    if mode != Mode::Off
        && let Some(sentinel) = watchdog::tripped(&manifest.runtime.state_path)
    {
        eprintln!(
            "corral: the watchdog stopped an earlier run ({}); running as --mode off until `corral enable`",
            sentinel.trim()
        );
        mode = Mode::Off;
    }
    if args.build && mode != Mode::Off {
        build(&manifest, &args.only)?;
    }
    let plan = Plan::new(&manifest, &args.only, |name| std::env::var(name).ok())?;
    if mode != Mode::Off {
        manifest.check_files()?;
        enforce_policy(&manifest, &plan, args)?;
    }
    let tags = RunTags {
        phase: manifest.runtime.phase.clone(),
        mode,
    };
    let target = args
        .events
        .as_deref()
        .map(EventTarget::from_arg)
        .unwrap_or_default();
    let live = (mode != Mode::Off
        && !args.quiet
        && target == EventTarget::Stderr
        && args.events_format == EventFormat::Segment
        && std::io::stderr().is_terminal()
        && std::env::var("TERM").map_or(true, |term| term != "dumb"))
    .then(|| {
        let timeouts = plan
            .start
            .iter()
            .map(|task| (task.label.clone(), task.timeout_ms));
        LiveStatus::new(timeouts.collect())
    });
    if args.defer_ms > 0 && mode != Mode::Off {
        std::thread::sleep(std::time::Duration::from_millis(args.defer_ms));
    }
    let (events, writer) = Events::open(&target, args.events_format, tags, process_start, live)
        .map_err(|error| CliError::Failed(error.to_string()))?;

    let outcome = if mode == Mode::Off {
        events.emit(events.queue_init(0));
        Ok(Exit::Success)
    } else {
        run_plan(&manifest, plan, args, mode, controls, &events)
    };
    drop(events);
    writer
        .finish()
        .map_err(|error| CliError::Failed(format!("writing events failed: {error}")))?;
    outcome
}

/// Validates what can be validated here, so mistakes still reach the
/// terminal, then hands the run to a detached copy of this process.
fn run_detached(manifest: &Manifest, args: &RunArgs) -> Result<Exit, CliError> {
    Controls::from_env(|name| std::env::var(name).ok()).map_err(CliError::Usage)?;
    Plan::new(manifest, &args.only, |name| std::env::var(name).ok())?;
    let events_file = match args.events.as_deref().map(EventTarget::from_arg) {
        Some(EventTarget::File(_)) => None,
        _ => {
            create_private_dir(&manifest.runtime.state_path).map_err(anyhow::Error::from)?;
            Some(
                manifest
                    .runtime
                    .state_path
                    .join(detach::DEFAULT_EVENTS_FILE),
            )
        }
    };
    let mut args: Vec<_> = std::env::args_os().collect();
    if events_file.is_some() {
        args = detach::without_events_arg(args);
    }
    detach::spawn_detached(&args, events_file.as_deref())
        .map_err(|error| CliError::Failed(format!("cannot start the detached run: {error}")))?;
    Ok(Exit::Success)
}

/// Runs the plan on a multi-threaded executor (guests run in parallel, one
/// per worker) until it ends or a signal cancels it, then emits the summary.
fn run_plan(
    manifest: &Manifest,
    plan: Plan,
    args: &RunArgs,
    mode: Mode,
    controls: Controls,
    events: &Events,
) -> Result<Exit, CliError> {
    prepare_state_dirs(manifest)?;
    let max_concurrency = args
        .max_concurrency
        .map_or(manifest.runtime.max_concurrency, |cap| {
            cap.clamp(1, manifest.runtime.max_concurrency)
        });
    let runtime = Runtime::new()?;
    // One worker per guest that can run at once, up to the cores: a guest
    // occupies its worker while it runs, and idle workers only cost start-up.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = cores
        .min(max_concurrency as usize)
        .min(plan.start.len())
        .max(1);
    let executor = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_time()
        .enable_io()
        .build()
        .map_err(anyhow::Error::from)?;
    let cancel = Cancel::default();
    let settings = RunSettings {
        mode,
        max_concurrency,
        controls,
        cancel: cancel.clone(),
    };
    let scheduler = Scheduler::new(runtime, manifest, events.clone(), settings);
    let (outcome, signal) = executor.block_on(async {
        let signals = tokio::spawn(cancel_on_signal(cancel));
        let outcome = scheduler.run(plan).await;
        signals.abort();
        (outcome, signals.await.ok().flatten())
    });
    let mut summary = outcome.summary;
    summary.wall_ms = events.since_start_ms();
    events.emit(Event::Summary(summary.clone()));
    // Guests blocked in host calls were abandoned at their timeout; do not
    // wait for their blocking threads.
    executor.shutdown_background();
    Ok(match signal {
        Some(exit) => exit,
        None if outcome.integrity_failures > 0 => Exit::Refused,
        None if summary.fail + summary.timeout > 0 => Exit::TaskFailed,
        None => Exit::Success,
    })
}

/// The auditor's rules for starting at all: `--locked` wants every task
/// pinned; `require_ack` wants the manifest unchanged since `corral ack`.
fn enforce_policy(manifest: &Manifest, plan: &Plan, args: &RunArgs) -> Result<(), CliError> {
    if args.locked {
        let unpinned: Vec<&str> = plan
            .start
            .iter()
            .filter(|task| task.sha256.is_none())
            .map(|task| task.id.as_str())
            .collect();
        if !unpinned.is_empty() {
            return Err(CliError::Refused(format!(
                "--locked: tasks without a sha256 pin: {}\n  help: review the components, then run `corral lock`",
                unpinned.join(", ")
            )));
        }
    }
    if args.require_ack || manifest.runtime.require_ack {
        let help = "help: review the change (`corral audit`), then run `corral ack`";
        match ack::status(manifest).map_err(anyhow::Error::from)? {
            AckStatus::Current => {}
            AckStatus::Never => {
                return Err(CliError::Refused(format!(
                    "{} has never been acknowledged\n  {help}",
                    manifest.path.display()
                )));
            }
            AckStatus::Changed(changes) => {
                let lines: Vec<String> = changes.iter().map(|c| format!("  {c}")).collect();
                return Err(CliError::Refused(format!(
                    "{} changed since it was acknowledged:\n{}\n  {help}",
                    manifest.path.display(),
                    lines.join("\n")
                )));
            }
        }
    }
    Ok(())
}

fn audit(manifest_path: &Path, json: bool, old: Option<&Path>) -> Result<Exit, CliError> {
    let manifest = Manifest::load(manifest_path)?;
    if let Some(old) = old {
        let old = Manifest::load(old)?;
        let changes = crate::manifest::diff(&old.canonical(), &manifest.canonical());
        if json {
            println!(
                "{}",
                serde_json::to_string_pretty(&changes).map_err(anyhow::Error::from)?
            );
        } else if changes.is_empty() {
            println!("no changes");
        } else {
            for change in &changes {
                println!("{change}");
            }
        }
        return Ok(Exit::Success);
    }
    let runtime = Runtime::new()?;
    let report = crate::audit::audit(&manifest, &runtime);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(anyhow::Error::from)?
        );
    } else {
        print!("{}", report.render());
    }
    Ok(Exit::Success)
}

fn lock(manifest_path: &Path) -> Result<Exit, CliError> {
    let manifest = Manifest::load(manifest_path)?;
    for pin in crate::lock::lock(&manifest)? {
        let state = if pin.changed { "pinned" } else { "unchanged" };
        println!("{state} {} sha256={}", pin.id, pin.sha256);
    }
    Ok(Exit::Success)
}

fn ack(manifest_path: &Path) -> Result<Exit, CliError> {
    let manifest = Manifest::load(manifest_path)?;
    let path = ack::acknowledge(&manifest).map_err(anyhow::Error::from)?;
    println!(
        "acknowledged checksum {} in {}",
        manifest.checksum(),
        path.display()
    );
    Ok(Exit::Success)
}

fn watch(manifest_path: &Path, events: Option<&Path>) -> Result<Exit, CliError> {
    // The manifest supplies the timeouts for the bars; a given event file
    // can still be watched without one.
    let (manifest, events) = match (Manifest::load(manifest_path), events) {
        (Ok(manifest), events) => {
            let events = events.map_or_else(
                || {
                    manifest
                        .runtime
                        .state_path
                        .join(detach::DEFAULT_EVENTS_FILE)
                },
                Path::to_path_buf,
            );
            (Some(manifest), events)
        }
        (Err(_), Some(events)) => (None, events.to_path_buf()),
        (Err(error), None) => return Err(error.into()),
    };
    let timeouts = manifest
        .iter()
        .flat_map(|manifest| &manifest.tasks)
        .map(|task| (task.label.clone(), task.timeout_ms))
        .collect();
    crate::watch::watch(&events, timeouts).map_err(anyhow::Error::from)?;
    Ok(Exit::Success)
}

fn report(events: &Path, out: &Path) -> Result<Exit, CliError> {
    let text = std::fs::read_to_string(events).map_err(|error| {
        CliError::Usage(format!(
            "cannot read event file {}: {error}",
            events.display()
        ))
    })?;
    let svg = crate::report::render_svg(&text)
        .map_err(|error| CliError::Usage(format!("{}: {error}", events.display())))?;
    crate::durable::write_atomically(out, svg.as_bytes())
        .map_err(|error| CliError::Failed(format!("cannot write {}: {error}", out.display())))?;
    eprintln!("corral: wrote {}", out.display());
    Ok(Exit::Success)
}

fn shell_init(manifest_path: &Path, shell: Shell) -> Result<Exit, CliError> {
    let manifest = Manifest::load(manifest_path)?;
    let absolute = std::path::absolute(manifest_path).map_err(anyhow::Error::from)?;
    let corral = std::env::current_exe().map_err(anyhow::Error::from)?;
    let results = manifest.runtime.state_path.join("results");
    print!(
        "{}",
        crate::shell_init::snippet(shell, &corral, &absolute, &results)
    );
    Ok(Exit::Success)
}

/// Cancels the run on SIGINT or SIGTERM and says which arrived.
async fn cancel_on_signal(cancel: Cancel) -> Option<Exit> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).ok()?;
    let mut terminate = signal(SignalKind::terminate()).ok()?;
    let (exit, name) = tokio::select! {
        _ = interrupt.recv() => (Exit::Interrupted, "SIGINT"),
        _ = terminate.recv() => (Exit::Terminated, "SIGTERM"),
    };
    cancel.cancel(format!("run cancelled by {name}"));
    Some(exit)
}

fn enable(manifest_path: &Path) -> Result<Exit, CliError> {
    let manifest = Manifest::load(manifest_path)?;
    let state = &manifest.runtime.state_path;
    if watchdog::enable(state).map_err(anyhow::Error::from)? {
        eprintln!(
            "corral: runs enabled again (removed {})",
            watchdog::sentinel_path(state).display()
        );
    } else {
        eprintln!("corral: runs were not disabled");
    }
    Ok(Exit::Success)
}

/// Creates the `rw` grants that live inside `state_dir`: corral's own state,
/// made on first use and readable only by the user.
fn prepare_state_dirs(manifest: &Manifest) -> Result<(), CliError> {
    for task in &manifest.tasks {
        for dir in task.dirs.iter().filter(|dir| manifest.is_state_grant(dir)) {
            create_private_dir(&dir.host_path).map_err(|error| {
                CliError::Failed(format!(
                    "cannot create state directory {} for task {}: {error}",
                    dir.host_path.display(),
                    task.id
                ))
            })?;
        }
    }
    Ok(())
}

fn check(manifest_path: &Path) -> Result<Exit, CliError> {
    let manifest = Manifest::load(manifest_path)?;
    manifest.check_files()?;
    load_components(&manifest.tasks)?;
    println!(
        "{}: ok, {} tasks\nchecksum: {}",
        manifest_path.display(),
        manifest.tasks.len(),
        manifest.checksum()
    );
    Ok(Exit::Success)
}

/// Loads every task's component, which verifies pins, proves each is a
/// task component and leaves its compilation in the cache. Reports every
/// problem; a pin mismatch makes it a refusal.
fn load_components(tasks: &[Task]) -> Result<(), CliError> {
    let runtime = Runtime::new()?;
    let mut problems = Vec::new();
    let mut refused = false;
    for task in tasks {
        if let Err(failure) = runtime.load(&task.component_path, task.sha256.as_deref()) {
            refused |= failure.reason == FailReason::Integrity;
            problems.push(format!("task {}: {failure}", task.id));
        }
    }
    match (problems.is_empty(), refused) {
        (true, _) => Ok(()),
        (false, true) => Err(CliError::Refused(problems.join("\n"))),
        (false, false) => Err(CliError::Failed(problems.join("\n"))),
    }
}

fn list(manifest_path: &Path) -> Result<Exit, CliError> {
    let manifest = Manifest::load(manifest_path)?;
    println!(
        "{:<24} {:<9} {:<6} {:>8} {:>14} {:>7} {:>7}  grants",
        "id", "priority", "class", "timeout", "fuel", "memory", "retries"
    );
    for task in &manifest.tasks {
        let grants: Vec<String> = task
            .dirs
            .iter()
            .map(|dir| format!("{}={}:{}", dir.guest, dir.host, dir.mode.as_str()))
            .collect();
        let flag = task
            .feature_flag
            .as_ref()
            .map(|flag| format!("  (if {flag})"))
            .unwrap_or_default();
        println!(
            "{:<24} {:<9} {:<6} {:>6}ms {:>14} {:>5}MB {:>7}  {}{flag}",
            task.id,
            task.priority.as_str(),
            task.class.as_deref().unwrap_or("-"),
            task.timeout_ms,
            task.fuel,
            task.memory_mb,
            task.retries,
            if grants.is_empty() {
                "-".to_string()
            } else {
                grants.join(" ")
            },
        );
    }
    Ok(Exit::Success)
}

/// Runs each selected task's `build` command once, in the manifest's
/// directory, stopping at the first failure; then loads every selected
/// component, which proves it is a task and warms the compiled cache.
fn build(manifest: &Manifest, only: &[String]) -> Result<(), CliError> {
    // Validates `only` the same way `run` does.
    let plan = Plan::new(manifest, only, |_| Some("1".into()))?;
    let mut done = BTreeSet::new();
    for task in &plan.start {
        let Some(command) = &task.build else { continue };
        if !done.insert(command.clone()) {
            continue;
        }
        eprintln!("corral: building {}: {command}", task.id);
        let status = Process::new("sh")
            .arg("-c")
            .arg(command)
            .current_dir(&manifest.dir)
            .status()
            .map_err(|error| CliError::Failed(format!("cannot run `sh -c {command}`: {error}")))?;
        if !status.success() {
            return Err(CliError::Failed(format!(
                "build of task {} failed ({status}): {command}",
                task.id
            )));
        }
    }
    load_components(&plan.start)
}

fn result(manifest_path: &Path, id: &str) -> Result<Exit, CliError> {
    let manifest = Manifest::load(manifest_path)?;
    if manifest.task(id).is_none() {
        return Err(UnknownTask(id.to_string()).into());
    }
    let store = ResultStore::new(&manifest.runtime.state_path);
    match store.read(id).map_err(anyhow::Error::from)? {
        Some(text) => {
            print!("{text}");
            if !text.ends_with('\n') {
                println!();
            }
            Ok(Exit::Success)
        }
        None => Err(CliError::Failed(format!(
            "no result stored for {id} yet\n  help: run `corral run` (results of failed runs are not stored)"
        ))),
    }
}
