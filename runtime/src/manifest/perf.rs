//! The perf guard's keys: the `[perf]` table and each task's budgets.
//! Kept apart from the other rules because they only serve `corral bench`
//! and the budget verdicts of a run.

use toml::Spanned;

use super::model::PerfPolicy;
use super::resolve::Resolver;
use super::schema::{self, PerfMode};

/// Fewer samples leave no spread to measure once outliers are trimmed.
const MIN_SAMPLES: u32 = 5;
/// A bound on how long a mistaken `samples` can keep a CI job busy.
const MAX_SAMPLES: u32 = 1_000;
/// A spread needs at least this many samples left after trimming.
const MIN_KEPT: u32 = 3;

impl Default for PerfPolicy {
    fn default() -> Self {
        PerfPolicy {
            samples: 5,
            trim: 1,
            max_rel_stddev: 0.15,
            mode: PerfMode::Observe,
        }
    }
}

impl Resolver<'_> {
    pub(super) fn perf(&mut self, table: schema::PerfTable) -> PerfPolicy {
        let defaults = PerfPolicy::default();
        let samples = match table.samples {
            Some(value) if !(MIN_SAMPLES..=MAX_SAMPLES).contains(value.get_ref()) => {
                self.error(
                    value.span(),
                    "perf.samples",
                    format!(
                        "{} is out of range ({MIN_SAMPLES}..={MAX_SAMPLES})",
                        value.get_ref()
                    ),
                    "timings are noisy: take at least 5 samples",
                );
                defaults.samples
            }
            Some(value) => *value.get_ref(),
            None => defaults.samples,
        };
        let trim = match table.trim {
            Some(value) if samples.saturating_sub(value.get_ref().saturating_mul(2)) < MIN_KEPT => {
                self.error(
                    value.span(),
                    "perf.trim",
                    format!(
                        "trimming {} samples at each end of {samples} leaves fewer than {MIN_KEPT}",
                        value.get_ref()
                    ),
                    "keep samples >= 2 * trim + 3: lower trim or raise samples",
                );
                defaults.trim
            }
            Some(value) => *value.get_ref(),
            None => defaults.trim,
        };
        let max_rel_stddev = match table.max_rel_stddev {
            Some(value) if !(*value.get_ref() > 0.0 && *value.get_ref() <= 1.0) => {
                self.error(
                    value.span(),
                    "perf.max_rel_stddev",
                    format!("{} is out of range (above 0, at most 1)", value.get_ref()),
                    "use a fraction such as 0.15: the spread allowed, relative to the mean",
                );
                defaults.max_rel_stddev
            }
            Some(value) => *value.get_ref(),
            None => defaults.max_rel_stddev,
        };
        PerfPolicy {
            samples,
            trim,
            max_rel_stddev,
            mode: table.mode.unwrap_or(defaults.mode),
        }
    }

    /// A task's optional budget: at least 1 and at most its hard `limit`,
    /// past which the task fails before it could be over budget.
    pub(super) fn optional_budget(
        &mut self,
        value: Option<Spanned<u64>>,
        limit: u64,
        key: &str,
        help: &str,
    ) -> Option<u64> {
        let value = value?;
        if !(1..=limit).contains(value.get_ref()) {
            self.error(
                value.span(),
                key,
                format!("{} is out of range (1..={limit})", value.get_ref()),
                help,
            );
        }
        Some(value.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::manifest::{Manifest, ManifestError};

    use super::*;

    fn parse(body: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse(Path::new("m.toml"), &format!("version = 1\n{body}"))
    }

    const TASK: &str = "[[task]]\nid = \"a\"\nrationale = \"r\"\ncomponent = \"a.wasm\"\n";

    #[test]
    fn perf_keys_default_and_resolve() {
        let manifest = parse(TASK).unwrap();
        assert_eq!(manifest.perf, PerfPolicy::default());
        assert_eq!(
            (manifest.tasks[0].budget_ms, manifest.tasks[0].budget_fuel),
            (None, None)
        );

        let manifest = parse(&format!(
            "[perf]\nsamples = 9\ntrim = 2\nmax_rel_stddev = 0.2\nmode = \"gate\"\n\
             {TASK}budget_ms = 40\nbudget_fuel = 1000\n"
        ))
        .unwrap();
        let expected = PerfPolicy {
            samples: 9,
            trim: 2,
            max_rel_stddev: 0.2,
            mode: PerfMode::Gate,
        };
        assert_eq!(manifest.perf, expected);
        assert_eq!(manifest.tasks[0].budget_ms, Some(40));
        assert_eq!(manifest.tasks[0].budget_fuel, Some(1000));
    }

    #[test]
    fn bad_perf_values_are_located() {
        let error = parse(&format!(
            "[perf]\nsamples = 4\nmax_rel_stddev = 0\nmode = \"observe\"\n\
             {TASK}timeout_ms = 100\nbudget_ms = 101\nbudget_fuel = 0\n"
        ))
        .unwrap_err()
        .to_string();
        for expected in [
            "m.toml:3: `perf.samples`",
            "m.toml:4: `perf.max_rel_stddev`",
            "m.toml:11: `task.budget_ms`: 101 is out of range (1..=100)",
            "m.toml:12: `task.budget_fuel`",
        ] {
            assert!(error.contains(expected), "{expected} in:\n{error}");
        }
        let error = parse("[perf]\nsamples = 6\ntrim = 2\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("m.toml:4: `perf.trim`"), "{error}");
    }
}
