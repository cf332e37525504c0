//! Budget verdicts over samples. Fuel is deterministic, so `budget_fuel`
//! is judged exactly whatever the noise; wall time is not, so `budget_ms`
//! is judged on the trimmed median, and when the samples spread more than
//! `max_rel_stddev` only if the budget lies beyond the noise: a 2 ms task
//! is under a 500 ms budget however noisy, but not provably under 3 ms.

use super::figures::{BudgetVerdict, TaskFigures};
use super::verdict::{Finding, FindingKind};

/// The verdict on a task's budgets (`None` without one), and a finding for
/// each budget it exceeded or could not be judged against.
pub fn judge(task: &TaskFigures, max_rel_stddev: f64) -> (Option<BudgetVerdict>, Vec<Finding>) {
    let mut findings = Vec::new();
    let mut finding = |kind, message: String| {
        findings.push(Finding {
            kind,
            subject: task.id.clone(),
            message,
        });
    };
    if let (Some(budget), Some(fuel)) = (task.budget_fuel, task.fuel)
        && fuel > budget
    {
        finding(
            FindingKind::OverBudget,
            format!("fuel {fuel} > budget_fuel {budget}"),
        );
    }
    if let Some(budget) = task.budget_ms {
        let ms = task.ms;
        let within_noise = (ms.median - budget as f64).abs() <= ms.noise();
        if ms.too_noisy(max_rel_stddev) && within_noise {
            finding(
                FindingKind::Undecided,
                format!(
                    "cannot judge budget_ms {budget}: relative stddev {:.2} > max_rel_stddev {max_rel_stddev}, and the median {:.2} ms is within the noise (±{:.2} ms) of the budget",
                    ms.rel_stddev,
                    ms.median,
                    ms.noise()
                ),
            );
        } else if ms.median > budget as f64 {
            finding(
                FindingKind::OverBudget,
                format!(
                    "median {:.2} ms > budget_ms {budget} (relative stddev {:.2})",
                    ms.median, ms.rel_stddev
                ),
            );
        }
    }
    if task.budget_ms.is_none() && task.budget_fuel.is_none() {
        return (None, findings);
    }
    let verdict = if findings.iter().any(|f| f.kind == FindingKind::OverBudget) {
        BudgetVerdict::Over
    } else if findings.is_empty() {
        BudgetVerdict::Ok
    } else {
        BudgetVerdict::Undecided
    };
    (Some(verdict), findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::perf::stats::Spread;

    fn task(
        ms: &[f64],
        fuel: u64,
        budget_ms: Option<u64>,
        budget_fuel: Option<u64>,
    ) -> TaskFigures {
        TaskFigures {
            id: "t".into(),
            ms: Spread::of(ms, 1),
            ms_samples: ms.to_vec(),
            fuel: Some(fuel),
            fuel_identical: true,
            fuel_samples: vec![fuel; ms.len()],
            failed: 0,
            budget_ms,
            budget_fuel,
            budget: None,
        }
    }

    const STEADY: [f64; 5] = [30.0, 30.5, 31.0, 29.5, 30.2];
    const NOISY: [f64; 5] = [5.0, 80.0, 30.0, 140.0, 60.0];

    #[test]
    fn fuel_is_judged_exactly_at_any_noise() {
        for ms in [&STEADY[..], &NOISY[..]] {
            let (verdict, findings) = judge(&task(ms, 101, None, Some(100)), 0.15);
            assert_eq!(verdict, Some(BudgetVerdict::Over));
            assert_eq!(findings[0].message, "fuel 101 > budget_fuel 100");
            let (verdict, _) = judge(&task(ms, 100, None, Some(100)), 0.15);
            assert_eq!(verdict, Some(BudgetVerdict::Ok));
        }
    }

    #[test]
    fn time_is_judged_only_when_the_spread_allows() {
        assert_eq!(
            judge(&task(&STEADY, 1, Some(20), None), 0.15).0,
            Some(BudgetVerdict::Over)
        );
        assert_eq!(
            judge(&task(&STEADY, 1, Some(40), None), 0.15).0,
            Some(BudgetVerdict::Ok)
        );
        let (verdict, findings) = judge(&task(&NOISY, 1, Some(20), None), 0.15);
        assert_eq!(verdict, Some(BudgetVerdict::Undecided));
        assert_eq!(findings[0].kind, FindingKind::Undecided);
        assert!(
            findings[0].message.contains("> max_rel_stddev 0.15"),
            "{}",
            findings[0].message
        );
        // Noisy, but far from the budget either way.
        assert_eq!(
            judge(&task(&NOISY, 1, Some(500), None), 0.15).0,
            Some(BudgetVerdict::Ok)
        );
        assert_eq!(
            judge(&task(&NOISY, 1, Some(2), None), 0.15).0,
            Some(BudgetVerdict::Over)
        );
        // Over on fuel outweighs a time that cannot be judged.
        let (verdict, findings) = judge(&task(&NOISY, 9, Some(20), Some(1)), 0.15);
        assert_eq!((verdict, findings.len()), (Some(BudgetVerdict::Over), 2));
    }

    #[test]
    fn no_budget_no_verdict() {
        assert_eq!(judge(&task(&NOISY, 1, None, None), 0.15), (None, vec![]));
    }
}
