//! A bench run's figures: what `corral bench --json` writes and what
//! `--baseline FILE` reads back. Every raw sample is kept beside the
//! figures, so a later tool can judge them its own way.

use serde::{Deserialize, Serialize};

use super::budget;
use super::figures::TaskFigures;
use super::stats::Spread;
use super::verdict::{Finding, FindingKind, Outcome};
use crate::manifest::{PerfPolicy, Task};

/// Names the JSON schema, so a file of something else is refused plainly.
pub const FORMAT: &str = "corral-bench-1";

/// One sample: one shadow run of the plan.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    pub wall_ms: f64,
    /// Started tasks that never ended (see `PERF_GUARD`).
    pub unterminated: u32,
    pub tasks: Vec<SampleTask>,
}

/// How one task ended in one sample.
#[derive(Clone, Debug)]
pub struct SampleTask {
    pub id: String,
    pub ms: f64,
    /// `None` when the task failed.
    pub fuel: Option<u64>,
}

/// A whole bench run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Capture {
    pub format: String,
    pub samples: u32,
    pub trim: u32,
    pub max_rel_stddev: f64,
    pub mode: String,
    pub tasks: Vec<TaskFigures>,
    pub run: RunFigures,
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// What is worth knowing but fails nothing: improvements, new tasks.
    #[serde(default)]
    pub notes: Vec<String>,
    #[serde(default)]
    pub outcome: Outcome,
}

/// The run as a whole over every sample.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunFigures {
    pub wall_ms: Spread,
    pub wall_samples: Vec<f64>,
    /// The median of each sample's total fuel of done tasks.
    pub fuel_total: u64,
    pub fuel_identical: bool,
    /// Started tasks without a terminal event, over all samples: must be 0.
    pub unterminated: u32,
}

impl Capture {
    /// The figures of `samples` of `tasks`, budgets judged under `policy`.
    pub fn new(policy: &PerfPolicy, tasks: &[Task], samples: &[Sample]) -> Capture {
        let trim = policy.trim as usize;
        let tasks: Vec<TaskFigures> = tasks
            .iter()
            .map(|task| task_figures(task, samples, trim))
            .collect();
        let wall_samples: Vec<f64> = samples.iter().map(|sample| sample.wall_ms).collect();
        let totals: Vec<u64> = samples
            .iter()
            .map(|sample| sample.tasks.iter().filter_map(|task| task.fuel).sum())
            .collect();
        let run = RunFigures {
            wall_ms: Spread::of(&wall_samples, trim),
            wall_samples,
            fuel_total: median_fuel(&totals).unwrap_or(0),
            fuel_identical: identical(&totals),
            unterminated: samples.iter().map(|sample| sample.unterminated).sum(),
        };
        let mut capture = Capture {
            format: FORMAT.to_string(),
            samples: samples.len() as u32,
            trim: policy.trim,
            max_rel_stddev: policy.max_rel_stddev,
            mode: policy.mode.as_str().to_string(),
            tasks,
            run,
            findings: Vec::new(),
            notes: Vec::new(),
            outcome: Outcome::Pass,
        };
        capture.check_completeness();
        for task in &mut capture.tasks {
            let (verdict, findings) = budget::judge(task, policy.max_rel_stddev);
            task.budget = verdict;
            capture.findings.extend(findings);
        }
        capture.outcome = Outcome::of(&capture.findings);
        capture
    }

    /// Findings for tasks that failed and tasks that never ended: figures
    /// of work that did not finish are not worth comparing.
    fn check_completeness(&mut self) {
        for task in self.tasks.iter().filter(|task| task.failed > 0) {
            self.findings.push(Finding {
                kind: FindingKind::Failed,
                subject: task.id.clone(),
                message: format!("failed in {} of {} samples", task.failed, self.samples),
            });
        }
        if self.run.unterminated > 0 {
            self.findings.push(Finding {
                kind: FindingKind::Unterminated,
                subject: "run".into(),
                message: format!(
                    "{} started tasks had no terminal event",
                    self.run.unterminated
                ),
            });
        }
    }

    pub fn task(&self, id: &str) -> Option<&TaskFigures> {
        self.tasks.iter().find(|task| task.id == id)
    }
}

fn task_figures(task: &Task, samples: &[Sample], trim: usize) -> TaskFigures {
    let ended: Vec<&SampleTask> = samples
        .iter()
        .flat_map(|sample| sample.tasks.iter().filter(|end| *end.id == *task.id))
        .collect();
    let ms_samples: Vec<f64> = ended.iter().map(|end| end.ms).collect();
    let fuel_samples: Vec<u64> = ended.iter().filter_map(|end| end.fuel).collect();
    TaskFigures {
        id: task.id.to_string(),
        ms: Spread::of(&ms_samples, trim),
        ms_samples,
        fuel: median_fuel(&fuel_samples),
        fuel_identical: identical(&fuel_samples),
        failed: ended.iter().filter(|end| end.fuel.is_none()).count() as u32,
        fuel_samples,
        budget_ms: task.budget_ms,
        budget_fuel: task.budget_fuel,
        budget: None,
    }
}

/// The lower median: fuel is a whole number, and usually all the same.
fn median_fuel(values: &[u64]) -> Option<u64> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len().saturating_sub(1) / 2).copied()
}

fn identical(values: &[u64]) -> bool {
    values.windows(2).all(|pair| pair[0] == pair[1])
}

#[cfg(test)]
pub(super) mod tests {
    use std::path::Path;

    use super::*;
    use crate::manifest::Manifest;
    use crate::perf::figures::BudgetVerdict;

    /// Tasks `a` (budget_fuel 100) and `b` (no budget).
    pub fn tasks() -> Vec<Task> {
        let text = "version = 1\n\
            [[task]]\nid = \"a\"\nrationale = \"r\"\ncomponent = \"a.wasm\"\nbudget_fuel = 100\n\
            [[task]]\nid = \"b\"\nrationale = \"r\"\ncomponent = \"b.wasm\"\n";
        Manifest::parse(Path::new("m.toml"), text).unwrap().tasks
    }

    pub fn sample(a: (f64, Option<u64>), b: (f64, Option<u64>)) -> Sample {
        let end = |id: &str, (ms, fuel): (f64, Option<u64>)| SampleTask {
            id: id.into(),
            ms,
            fuel,
        };
        Sample {
            wall_ms: a.0.max(b.0) + 1.0,
            unterminated: 0,
            tasks: vec![end("a", a), end("b", b)],
        }
    }

    #[test]
    fn figures_per_task_and_for_the_run() {
        let samples: Vec<Sample> = [10.0, 11.0, 12.0, 50.0, 9.0]
            .into_iter()
            .map(|ms| sample((ms, Some(90)), (1.0, Some(7))))
            .collect();
        let capture = Capture::new(&PerfPolicy::default(), &tasks(), &samples);
        let a = capture.task("a").unwrap();
        assert_eq!(a.ms.median, 11.0);
        assert_eq!((a.fuel, a.fuel_identical, a.failed), (Some(90), true, 0));
        assert_eq!(a.budget, Some(BudgetVerdict::Ok));
        assert_eq!(capture.task("b").unwrap().budget, None);
        assert_eq!(capture.run.fuel_total, 97);
        assert!(capture.run.fuel_identical);
        assert_eq!(capture.run.wall_ms.median, 12.0);
        assert_eq!(capture.outcome, Outcome::Pass);
    }

    #[test]
    fn failures_and_unterminated_tasks_are_findings() {
        let mut samples = vec![sample((1.0, Some(90)), (1.0, None)); 5];
        samples[2].unterminated = 1;
        let capture = Capture::new(&PerfPolicy::default(), &tasks(), &samples);
        let kinds: Vec<_> = capture.findings.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, [FindingKind::Failed, FindingKind::Unterminated]);
        assert_eq!(capture.findings[0].message, "failed in 5 of 5 samples");
        assert_eq!(capture.outcome, Outcome::Fail);
    }

    #[test]
    fn varying_fuel_is_not_identical() {
        let samples: Vec<Sample> = [90, 91, 90, 92, 90]
            .into_iter()
            .map(|fuel| sample((1.0, Some(fuel)), (1.0, Some(1))))
            .collect();
        let capture = Capture::new(&PerfPolicy::default(), &tasks(), &samples);
        let a = capture.task("a").unwrap();
        assert_eq!((a.fuel, a.fuel_identical), (Some(90), false));
        assert!(!capture.run.fuel_identical);
    }

    #[test]
    fn a_capture_reads_back_from_its_json() {
        let samples = vec![sample((1.0, Some(90)), (2.0, Some(1))); 5];
        let capture = Capture::new(&PerfPolicy::default(), &tasks(), &samples);
        let json = serde_json::to_string(&capture).unwrap();
        let back: Capture = serde_json::from_str(&json).unwrap();
        assert_eq!(back.task("a").unwrap().fuel_samples, [90; 5]);
        assert_eq!(back.format, FORMAT);
    }
}
