//! The `corral` command line: arguments, one file per command, and the one
//! mapping from errors to exit codes (`exit`). It is the only stage that
//! knows about clap, the process's signals and exit codes.

mod ack;
mod args;
mod audit;
mod bench;
mod build;
mod check;
mod completions;
mod detach;
mod enable;
mod exit;
mod init;
mod list;
mod lock;
mod man;
mod new;
mod output;
mod rebaseline;
mod report;
mod result;
mod run;
mod serve;
mod shell_init;
mod shell_wiring;
mod signals;
mod templates;
mod watch;

use std::path::PathBuf;
use std::time::Instant;

use clap::{Parser, Subcommand};

pub use exit::{CliError, Exit};

/// Run shell start-up work as sandboxed WebAssembly components, within hard
/// budgets, with exactly the files each task was granted.
#[derive(Debug, Parser)]
#[command(name = "corral", version)]
pub struct Cli {
    /// The task manifest [default: $CORRAL_MANIFEST, else ./manifest.toml
    /// if it exists, else $XDG_CONFIG_HOME/corral/manifest.toml].
    #[arg(long, global = true, value_name = "PATH")]
    manifest: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the manifest's tasks concurrently and report segment events.
    Run(run::RunArgs),
    /// Run the tasks several times in shadow mode; report times, spread,
    /// fuel and budgets; compare with a baseline; gate as [perf] says.
    Bench(bench::BenchArgs),
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
    /// Print a task's result: the one stored by its last successful run,
    /// or with --fresh one that reflects the files as they are now.
    Result(result::ResultArgs),
    /// Run the per-user server in the foreground: it keeps components and
    /// watches warm and answers `corral result --fresh` and prompts.
    Serve(serve::ServeArgs),
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
        /// The run's event file (default: STATE_DIR/last-run.events, the
        /// link to the newest detached run's events).
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
    /// Create a task from a template beside the manifest and add it to the
    /// manifest.
    New {
        /// The task's id ([a-z0-9_], at most 64 characters); also its
        /// directory's name.
        name: String,
        /// The language of the template.
        #[arg(long, value_enum)]
        lang: templates::Lang,
    },
    /// Install the shipped components and write a manifest for this
    /// machine: $XDG_CONFIG_HOME/corral/manifest.toml (refuses to replace
    /// one without --force).
    Init {
        /// Replace an existing manifest.
        #[arg(long)]
        force: bool,
    },
    /// Run one task once with `--rebaseline`, so that a tamper check
    /// (integrity_scan) accepts the current state of what it watches.
    Rebaseline {
        /// The task's id.
        id: String,
    },
    /// Print a snippet for a shell's rc file that runs the tasks once per
    /// shell, after the first prompt, and exposes their results. Without
    /// --manifest (or $CORRAL_MANIFEST), for the user manifest `corral
    /// init` wrote, never ./manifest.toml.
    ShellInit {
        #[arg(value_enum)]
        shell: shell_init::Shell,
    },
    /// Print the completion script for corral's own command line, for a
    /// shell's completion directory.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print corral's man page (roff): `corral man | man -l -`.
    Man,
}

/// The manifest a command reads when `--manifest` is not given: the
/// command line's contract (docs/commands.md).
fn manifest_path(given: Option<PathBuf>) -> PathBuf {
    if let Some(path) = given.or_else(manifest_from_env) {
        return path;
    }
    let local = PathBuf::from("manifest.toml");
    if local.exists() {
        return local;
    }
    user_manifest().unwrap_or(local)
}

/// The manifest `shell-init` bakes into a snippet: the user's (`corral
/// init`'s) unless one is named. A snippet outlives the directory it was
/// generated in, so `./manifest.toml` is never taken by default.
fn shell_manifest_path(given: Option<PathBuf>) -> Result<PathBuf, CliError> {
    given
        .or_else(manifest_from_env)
        .or_else(user_manifest)
        .ok_or_else(|| {
            CliError::Usage(
                "no manifest for the snippet: neither --manifest, $CORRAL_MANIFEST, $XDG_CONFIG_HOME nor $HOME is set\n  help: run `corral init`, or pass --manifest PATH".into(),
            )
        })
}

fn set_var(name: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(name).filter(|value| !value.is_empty())
}

fn manifest_from_env() -> Option<PathBuf> {
    set_var("CORRAL_MANIFEST").map(PathBuf::from)
}

/// `$XDG_CONFIG_HOME/corral/manifest.toml`, where `corral init` writes.
fn user_manifest() -> Option<PathBuf> {
    let config = set_var("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| set_var("HOME").map(|home| PathBuf::from(home).join(".config")))?;
    Some(config.join("corral/manifest.toml"))
}

impl Cli {
    /// Runs the chosen command. `process_start` anchors event times.
    pub fn execute(self, process_start: Instant) -> Result<Exit, CliError> {
        let given = self.manifest;
        let manifest = || manifest_path(given.clone());
        match &self.command {
            Command::Run(args) => run::run(&manifest(), args, process_start),
            Command::Bench(args) => bench::bench(&manifest(), args),
            Command::Check => check::check(&manifest()),
            Command::List => list::list(&manifest()),
            Command::Build { only } => build::build_command(&manifest(), only),
            Command::Result(args) => result::result(&manifest(), args),
            Command::Serve(args) => serve::serve(args),
            Command::Enable => enable::enable(&manifest()),
            Command::Audit { json, diff } => audit::audit(&manifest(), *json, diff.as_deref()),
            Command::Lock => lock::lock(&manifest()),
            Command::Ack => ack::ack(&manifest()),
            Command::New { name, lang } => new::new(&manifest(), name, *lang),
            Command::Init { force } => init::init(*force),
            Command::Rebaseline { id } => rebaseline::rebaseline(&manifest(), id),
            Command::ShellInit { shell } => {
                shell_init::shell_init(&shell_manifest_path(given.clone())?, *shell)
            }
            Command::Watch { events } => watch::watch(&manifest(), events.as_deref()),
            Command::Report { events, out } => report::report(events, out),
            Command::Completions { shell } => completions::completions(*shell),
            Command::Man => man::man(),
        }
    }
}
