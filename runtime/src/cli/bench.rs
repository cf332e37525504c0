//! `corral bench`: run the plan several times in shadow mode (no results
//! stored, `rw` grants on scratch copies), then report each task's
//! trimmed median time, its spread and its fuel, judge budgets, compare
//! with a baseline, and exit as the `[perf]` mode says.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;

use super::check::load_components;
use super::exit::{CliError, Exit};
use super::output::print_raw;
use super::run::execute_plan;
use crate::escape::escape;
use crate::events::{EventFormat, EventTarget, Events, RunTags};
use crate::fs::named::read_regular_file;
use crate::manifest::{Manifest, PerfPolicy};
use crate::mode::Mode;
use crate::perf::{self, Capture, Sample, SampleTask};
use crate::plan::Plan;
use crate::review::policy::{self, Policy};
use crate::run::controls::Controls;
use crate::run::scheduler::RunOutcome;
use crate::sandbox::Runtime;

/// A baseline is a few kilobytes; this only bounds a wrong path.
const MAX_BASELINE_BYTES: u64 = 16 << 20;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Bench only this task (repeatable).
    #[arg(long, value_name = "ID")]
    only: Vec<String>,
    /// How many runs to sample (default: [perf] samples); at least 5.
    #[arg(long, value_name = "N")]
    samples: Option<u32>,
    /// Print the figures as JSON, the format --baseline reads.
    #[arg(long)]
    json: bool,
    /// Compare with a run saved with `corral bench --json > FILE`.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Write each sample's events to DIR/sample-N.events (default: nowhere).
    #[arg(long, value_name = "DIR")]
    events_dir: Option<PathBuf>,
}

pub fn bench(manifest_path: &Path, args: &BenchArgs) -> Result<Exit, CliError> {
    let manifest = Manifest::load(manifest_path)?;
    let controls = Controls::from_env(|name| std::env::var(name).ok()).map_err(CliError::Usage)?;
    let policy = policy_with(&manifest.perf, args.samples)?;
    let baseline = args.baseline.as_deref().map(read_baseline).transpose()?;
    let here = super::run::working_directory();
    let plan = || {
        Plan::new(&manifest, &args.only, |name| std::env::var(name).ok())
            .map(|plan| plan.bind_context(here.as_deref()))
    };
    let tasks = plan()?.start;
    manifest.check_files(&tasks)?;
    let no_flags = Policy {
        locked: false,
        require_ack: false,
    };
    policy::enforce(&manifest, &plan()?.start, no_flags)?;
    // Compile now, so that no sample pays for a first compilation.
    load_components(&tasks)?;
    if let Some(dir) = &args.events_dir {
        std::fs::create_dir_all(dir).map_err(|error| {
            CliError::Usage(format!(
                "--events-dir {}: {error}",
                escape(&dir.display().to_string())
            ))
        })?;
    }
    let runtime =
        Runtime::new().map_err(|error| CliError::internal("cannot start wasmtime", error))?;
    let mut samples = Vec::new();
    for number in 1..=policy.samples {
        let target = match &args.events_dir {
            Some(dir) => EventTarget::File(dir.join(format!("sample-{number}.events"))),
            None => EventTarget::Discard,
        };
        let tags = RunTags {
            phase: manifest.runtime.phase.to_string(),
            mode: Mode::Shadow,
        };
        let (events, writer) =
            Events::open(&target, EventFormat::Segment, tags, Instant::now(), None)
                .map_err(|error| CliError::Usage(error.to_string()))?;
        let max_concurrency = manifest.runtime.max_concurrency;
        let ran = execute_plan(
            &manifest,
            plan()?,
            &runtime,
            max_concurrency,
            Mode::Shadow,
            controls.clone(),
            &events,
        );
        drop(events);
        let written = writer.finish(std::time::Duration::from_secs(5));
        let (outcome, signal) = ran?;
        if let Some(exit) = signal {
            eprintln!("corral: bench cancelled during sample {number}");
            return Ok(exit);
        }
        written.map_err(|error| CliError::internal("writing events failed", error))?;
        samples.push(sample(outcome));
    }
    let mut capture = Capture::new(&policy, &tasks, &samples);
    if let Some(baseline) = &baseline {
        capture.compare(baseline);
    }
    if args.json {
        let json = serde_json::to_string_pretty(&capture)
            .map_err(|error| CliError::internal("cannot encode the capture", error))?;
        print_raw(&format!("{json}\n"))?;
    } else {
        print_raw(&perf::render(&capture))?;
    }
    let decision = perf::decide(policy.mode, &capture.findings);
    for message in &decision.messages {
        eprintln!("{message}");
    }
    Ok(if decision.fails {
        Exit::TaskFailed
    } else {
        Exit::Success
    })
}

/// The manifest's policy, with `--samples` if given: at least 5, and
/// enough to keep 3 after trimming.
fn policy_with(policy: &PerfPolicy, samples: Option<u32>) -> Result<PerfPolicy, CliError> {
    let Some(samples) = samples else {
        return Ok(policy.clone());
    };
    let least = (2 * policy.trim + 3).max(5);
    if samples < least {
        return Err(CliError::Usage(format!(
            "--samples {samples}: take at least {least} (5, and 3 more than the {} trimmed at each end)",
            policy.trim
        )));
    }
    Ok(PerfPolicy {
        samples,
        ..policy.clone()
    })
}

fn read_baseline(path: &Path) -> Result<Capture, CliError> {
    let shown = escape(&path.display().to_string()).into_owned();
    let text = read_regular_file(path, MAX_BASELINE_BYTES)
        .map_err(|error| CliError::Usage(format!("--baseline {shown}: {error}")))?;
    Capture::from_json(&text)
        .map_err(|error| CliError::Usage(format!("--baseline {shown}: {error}")))
}

fn sample(outcome: RunOutcome) -> Sample {
    Sample {
        wall_ms: outcome.summary.wall_ms,
        unterminated: outcome.summary.unterminated,
        tasks: outcome
            .tasks
            .into_iter()
            .map(|task| SampleTask {
                id: task.id,
                ms: task.ms,
                fuel: task.fuel,
            })
            .collect(),
    }
}
