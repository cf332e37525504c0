//! A bench run against a saved one (`--baseline FILE`). Fuel and time are
//! compared apart: fuel is deterministic, so any increase is a regression
//! whatever the noise; time is compared only beyond the noise both runs
//! measured, and left undecided when either spread too much to tell.

use super::capture::{Capture, FORMAT};
use super::figures::TaskFigures;
use super::stats::{NOISE_FLOOR_MS, Spread};
use super::verdict::{Finding, FindingKind, Outcome};

/// A slowdown smaller than this fraction of the baseline is never a
/// regression, however steady the samples: a gate over such a margin would
/// fail on a machine's mood.
const MIN_REL_CHANGE: f64 = 0.05;

/// Why a file cannot serve as a baseline.
#[derive(Debug, thiserror::Error)]
#[error("{0}\n  help: save a baseline with `corral bench --json > FILE`")]
pub struct BaselineError(String);

impl Capture {
    /// Reads a capture saved by `corral bench --json`.
    pub fn from_json(text: &str) -> Result<Capture, BaselineError> {
        let capture: Capture = serde_json::from_str(text)
            .map_err(|error| BaselineError(format!("not a bench capture: {error}")))?;
        if capture.format != FORMAT {
            return Err(BaselineError(format!(
                "format {:?} is not {FORMAT:?}",
                capture.format
            )));
        }
        Ok(capture)
    }

    /// Adds the regressions against `baseline` to the findings, and what
    /// improved or is new to the notes.
    pub fn compare(&mut self, baseline: &Capture) {
        let max = self.max_rel_stddev;
        let mut findings = Vec::new();
        for task in &self.tasks {
            let Some(old) = baseline.task(&task.id) else {
                self.notes
                    .push(format!("{}: not in the baseline, not compared", task.id));
                continue;
            };
            if let Some(finding) = fuel_regression(task, old) {
                findings.push(finding);
            } else if let (Some(new), Some(old)) = (task.fuel, old.fuel)
                && new < old
            {
                self.notes.push(format!(
                    "{}: fuel {old} -> {new} ({})",
                    task.id,
                    change(old as f64, new as f64)
                ));
            }
            findings.extend(time_regression(&task.id, &task.ms, &old.ms, max));
        }
        let (run, old) = (&self.run, &baseline.run);
        if run.fuel_identical && old.fuel_identical && run.fuel_total > old.fuel_total {
            findings.push(Finding {
                kind: FindingKind::FuelRegression,
                subject: "run".into(),
                message: fuel_message(old.fuel_total, run.fuel_total),
            });
        }
        findings.extend(time_regression("run", &run.wall_ms, &old.wall_ms, max));
        self.findings.extend(findings);
        self.outcome = Outcome::of(&self.findings);
    }
}

/// Any increase when both runs were deterministic; otherwise only above
/// the most fuel the baseline ever took.
fn fuel_regression(task: &TaskFigures, old: &TaskFigures) -> Option<Finding> {
    let (new, old_fuel) = (task.fuel?, old.fuel?);
    let message = if task.fuel_identical && old.fuel_identical {
        (new > old_fuel).then(|| fuel_message(old_fuel, new))?
    } else {
        let old_max = old.fuel_samples.iter().copied().max()?;
        (new > old_max).then(|| {
            format!(
                "{}; fuel varies between samples, compared with the baseline's highest",
                fuel_message(old_max, new)
            )
        })?
    };
    Some(Finding {
        kind: FindingKind::FuelRegression,
        subject: task.id.clone(),
        message,
    })
}

fn fuel_message(old: u64, new: u64) -> String {
    format!("fuel {old} -> {new} ({})", change(old as f64, new as f64))
}

/// A slowdown beyond the noise of both runs (and beyond a small margin)
/// is a regression; while either run spread more than `max_rel_stddev`,
/// no regression is claimed or ruled out unless the noise cannot change
/// the answer.
fn time_regression(
    subject: &str,
    new: &Spread,
    old: &Spread,
    max_rel_stddev: f64,
) -> Option<Finding> {
    let noise = new.noise().max(old.noise());
    let threshold = noise.max(MIN_REL_CHANGE * old.median).max(NOISE_FLOOR_MS);
    let delta = new.median - old.median;
    let (kind, message) = if delta > threshold {
        let message = format!(
            "median {:.2} -> {:.2} ms ({}; noise ±{noise:.2} ms)",
            old.median,
            new.median,
            change(old.median, new.median)
        );
        (FindingKind::TimeRegression, message)
    } else if let Some((which, spread)) = [("this run", new), ("the baseline", old)]
        .into_iter()
        .find(|(_, spread)| spread.too_noisy(max_rel_stddev))
        && delta + noise > threshold
    {
        let message = format!(
            "cannot compare times: {which} has relative stddev {:.2} > max_rel_stddev {max_rel_stddev}, and the change ({:+.2} ms) is within the noise (±{noise:.2} ms)",
            spread.rel_stddev, delta
        );
        (FindingKind::Undecided, message)
    } else {
        return None;
    };
    Some(Finding {
        kind,
        subject: subject.to_string(),
        message,
    })
}

/// `+10.0%`, relative to `old`.
fn change(old: f64, new: f64) -> String {
    if old == 0.0 {
        return "new".into();
    }
    format!("{:+.1}%", (new - old) / old * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::PerfPolicy;
    use crate::perf::capture::tests::{sample, tasks};

    fn capture(a_ms: &[f64], a_fuel: &[u64]) -> Capture {
        let samples: Vec<_> = a_ms
            .iter()
            .zip(a_fuel)
            .map(|(ms, fuel)| sample((*ms, Some(*fuel)), (1.0, Some(5))))
            .collect();
        Capture::new(&PerfPolicy::default(), &tasks(), &samples)
    }

    const STEADY: [f64; 5] = [30.0, 30.5, 31.0, 29.5, 30.2];
    const SLOWER: [f64; 5] = [45.0, 45.5, 46.0, 44.5, 45.2];
    const NOISY: [f64; 5] = [5.0, 80.0, 30.0, 140.0, 60.0];

    fn kinds(capture: &Capture) -> Vec<(FindingKind, String)> {
        capture
            .findings
            .iter()
            .map(|f| (f.kind, f.subject.clone()))
            .collect()
    }

    #[test]
    fn more_fuel_is_a_regression_at_any_noise() {
        let base = capture(&STEADY, &[90; 5]);
        let mut noisy = capture(&NOISY, &[99; 5]);
        noisy.compare(&base);
        let fuel = &noisy.findings[0];
        assert_eq!(
            (fuel.kind, fuel.subject.as_str()),
            (FindingKind::FuelRegression, "a")
        );
        assert_eq!(fuel.message, "fuel 90 -> 99 (+10.0%)");
        assert!(kinds(&noisy).contains(&(FindingKind::Undecided, "a".into())));

        let mut same = capture(&NOISY, &[90; 5]);
        same.compare(&base);
        assert!(
            !kinds(&same)
                .iter()
                .any(|(kind, _)| *kind == FindingKind::FuelRegression)
        );
    }

    #[test]
    fn less_fuel_is_a_note() {
        let mut less = capture(&STEADY, &[80; 5]);
        less.compare(&capture(&STEADY, &[90; 5]));
        assert!(less.findings.is_empty(), "{:?}", less.findings);
        assert_eq!(less.notes, ["a: fuel 90 -> 80 (-11.1%)"]);
        assert_eq!(less.outcome, Outcome::Pass);
    }

    #[test]
    fn time_regresses_only_beyond_the_noise() {
        let base = capture(&STEADY, &[90; 5]);
        let mut slower = capture(&SLOWER, &[90; 5]);
        slower.compare(&base);
        assert!(kinds(&slower).contains(&(FindingKind::TimeRegression, "a".into())));
        assert!(kinds(&slower).contains(&(FindingKind::TimeRegression, "run".into())));
        let mut same = capture(&[30.4, 30.1, 29.9, 30.9, 30.0], &[90; 5]);
        same.compare(&base);
        assert!(same.findings.is_empty(), "{:?}", same.findings);
    }

    #[test]
    fn noisy_times_are_judged_only_where_the_noise_cannot_change_the_answer() {
        let base = capture(&STEADY, &[90; 5]);
        let mut close = capture(&NOISY, &[90; 5]);
        close.compare(&base);
        let undecided = close.findings.iter().find(|f| f.subject == "a").unwrap();
        assert_eq!(undecided.kind, FindingKind::Undecided);
        assert!(
            undecided
                .message
                .contains("this run has relative stddev 0.44 > max_rel_stddev 0.15")
        );

        let much_slower: Vec<f64> = NOISY.iter().map(|ms| ms + 200.0).collect();
        let mut slower = capture(&much_slower, &[90; 5]);
        slower.compare(&base);
        assert!(kinds(&slower).contains(&(FindingKind::TimeRegression, "a".into())));

        let much_faster: Vec<f64> = NOISY.iter().map(|ms| ms / 10.0).collect();
        let mut faster = capture(&much_faster, &[90; 5]);
        faster.compare(&base);
        assert!(faster.findings.is_empty(), "{:?}", faster.findings);
    }

    #[test]
    fn varying_fuel_regresses_only_above_the_baselines_highest() {
        let base = capture(&STEADY, &[90, 95, 90, 92, 90]);
        let mut within = capture(&STEADY, &[94; 5]);
        within.compare(&base);
        assert!(within.findings.is_empty(), "{:?}", within.findings);
        let mut above = capture(&STEADY, &[96; 5]);
        above.compare(&base);
        assert!(
            above.findings[0]
                .message
                .contains("compared with the baseline's highest")
        );
    }

    #[test]
    fn only_bench_captures_are_baselines() {
        assert!(Capture::from_json("{}").is_err());
        let mut other = capture(&STEADY, &[90; 5]);
        other.format = "something-else".into();
        let text = serde_json::to_string(&other).unwrap();
        let error = Capture::from_json(&text).unwrap_err().to_string();
        assert!(error.contains("is not \"corral-bench-1\""), "{error}");
        let text = serde_json::to_string(&capture(&STEADY, &[90; 5])).unwrap();
        assert!(Capture::from_json(&text).is_ok());
    }
}
