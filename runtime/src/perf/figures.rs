//! A task's figures over every sample of a bench run, and its standing
//! against its budgets: what the capture holds and the budget, baseline
//! and table code read.

use serde::{Deserialize, Serialize};

use super::stats::Spread;

/// One task over every sample.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TaskFigures {
    pub id: String,
    /// Wall time of the task, all attempts, trimmed.
    pub ms: Spread,
    pub ms_samples: Vec<f64>,
    /// The median fuel of the samples it was done in.
    pub fuel: Option<u64>,
    /// Whether every done sample consumed exactly the same fuel.
    pub fuel_identical: bool,
    pub fuel_samples: Vec<u64>,
    /// Samples in which it failed.
    pub failed: u32,
    pub budget_ms: Option<u64>,
    pub budget_fuel: Option<u64>,
    /// `None` when the task has no budget.
    pub budget: Option<BudgetVerdict>,
}

/// A task's standing against its budgets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BudgetVerdict {
    Ok,
    Over,
    /// Its time was too noisy to judge, and nothing else was over.
    Undecided,
}

impl BudgetVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetVerdict::Ok => "ok",
            BudgetVerdict::Over => "over",
            BudgetVerdict::Undecided => "undecided",
        }
    }
}
