//! Findings, and what the `[perf]` mode does with them: `observe` only
//! reports, `warn` also warns on stderr, `gate` fails the command. So a CI
//! job can watch its numbers before it lets them fail a build.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::manifest::PerfMode;

/// What a gate acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// More fuel than the baseline: exact, never noise.
    FuelRegression,
    /// Slower than the baseline by more than the measured noise.
    TimeRegression,
    OverBudget,
    /// Too noisy to judge a time that had to be judged.
    Undecided,
    /// A task failed in some sample.
    Failed,
    /// A started task had no terminal event.
    Unterminated,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::FuelRegression => "fuel regression",
            FindingKind::TimeRegression => "time regression",
            FindingKind::OverBudget => "over budget",
            FindingKind::Undecided => "undecided",
            FindingKind::Failed => "failed",
            FindingKind::Unterminated => "unterminated",
        }
    }
}

/// One thing a gate acts on, about a task (its id) or the `run`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub subject: String,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.kind.as_str(),
            self.subject,
            self.message
        )
    }
}

/// The bench run in one word.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// No findings.
    #[default]
    Pass,
    /// Nothing failed, but some time was too noisy to judge.
    Undecided,
    Fail,
}

impl Outcome {
    pub fn of(findings: &[Finding]) -> Outcome {
        if findings.iter().any(|f| f.kind != FindingKind::Undecided) {
            Outcome::Fail
        } else if findings.is_empty() {
            Outcome::Pass
        } else {
            Outcome::Undecided
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Undecided => "undecided",
            Outcome::Fail => "fail",
        }
    }
}

/// What the command does about its findings under a mode.
#[derive(Debug, PartialEq, Eq)]
pub struct Decision {
    /// Lines for stderr.
    pub messages: Vec<String>,
    /// Whether the command fails (exit 1).
    pub fails: bool,
}

pub fn decide(mode: PerfMode, findings: &[Finding]) -> Decision {
    let prefix = match mode {
        PerfMode::Observe => {
            return Decision {
                messages: Vec::new(),
                fails: false,
            };
        }
        PerfMode::Warn => "warning",
        PerfMode::Gate => "gate",
    };
    let mut messages: Vec<String> = findings
        .iter()
        .map(|finding| format!("corral: {prefix}: {finding}"))
        .collect();
    let fails = mode == PerfMode::Gate && !findings.is_empty();
    if fails {
        let why = match Outcome::of(findings) {
            Outcome::Undecided => {
                "the samples are too noisy to decide; take more samples (--samples), quiet the machine, or raise [perf] max_rel_stddev"
            }
            _ => "a regression, an over-budget task or a failure",
        };
        messages.push(format!("corral: gate: failing: {why}"));
    }
    Decision { messages, fails }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(kind: FindingKind) -> Finding {
        Finding {
            kind,
            subject: "a".into(),
            message: "m".into(),
        }
    }

    #[test]
    fn observe_and_warn_never_fail() {
        let findings = [finding(FindingKind::FuelRegression)];
        let observe = decide(PerfMode::Observe, &findings);
        assert_eq!((observe.fails, observe.messages.len()), (false, 0));
        let warn = decide(PerfMode::Warn, &findings);
        assert!(!warn.fails);
        assert_eq!(warn.messages, ["corral: warning: fuel regression: a: m"]);
    }

    #[test]
    fn the_gate_fails_on_any_finding_and_says_why() {
        assert!(!decide(PerfMode::Gate, &[]).fails);
        let undecided = decide(PerfMode::Gate, &[finding(FindingKind::Undecided)]);
        assert!(undecided.fails);
        assert!(undecided.messages[1].contains("too noisy to decide"));
        let over = decide(
            PerfMode::Gate,
            &[
                finding(FindingKind::Undecided),
                finding(FindingKind::OverBudget),
            ],
        );
        assert!(over.messages[2].contains("over-budget"));
    }

    #[test]
    fn outcome_in_one_word() {
        assert_eq!(Outcome::of(&[]), Outcome::Pass);
        assert_eq!(
            Outcome::of(&[finding(FindingKind::Undecided)]),
            Outcome::Undecided
        );
        assert_eq!(
            Outcome::of(&[
                finding(FindingKind::Undecided),
                finding(FindingKind::Failed)
            ]),
            Outcome::Fail
        );
    }
}
