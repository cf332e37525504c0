//! What a run reports: one [`Event`] per thing that happened.

use super::reason::FailReason;
use crate::mode::Mode;

/// A guest log level, mirrored from the WIT `level` enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

impl std::str::FromStr for LogLevel {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        [
            LogLevel::Trace,
            LogLevel::Debug,
            LogLevel::Info,
            LogLevel::Warn,
            LogLevel::Error,
        ]
        .into_iter()
        .find(|level| level.as_str() == text)
        .ok_or_else(|| format!("unknown log level {text:?}"))
    }
}

/// Why a task was not started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipCause {
    /// Its feature flag (this environment variable) is off.
    Flag(String),
    /// Another corral process is running it now, on the same state
    /// directory; that run stores the result.
    Running,
    /// It runs for the shell's repository, and the run was started outside
    /// any repository.
    NoRepo,
    /// The server answered with the task's last result: nothing the task
    /// can see changed since it was computed (`reuse = true`).
    Unchanged,
    /// It runs for the shell's repository, whose git directory lies outside
    /// the work tree where git's layout puts none: not granted (why).
    Refused(String),
    /// corral's own state for it (its lock) cannot be used: the path and
    /// the error. The run exits 4.
    State(String),
}

/// A done task's budgets and whether it kept them, for performance gates
/// and the report, which read events only.
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetCheck {
    pub budget_ms: Option<u64>,
    pub budget_fuel: Option<u64>,
    pub over: bool,
}

impl BudgetCheck {
    /// The verdict on a task that took `ms` and `fuel`; `None` when it has
    /// no budget.
    pub fn of(
        budget_ms: Option<u64>,
        budget_fuel: Option<u64>,
        ms: f64,
        fuel: u64,
    ) -> Option<Self> {
        if budget_ms.is_none() && budget_fuel.is_none() {
            return None;
        }
        let over = budget_ms.is_some_and(|budget| ms > budget as f64)
            || budget_fuel.is_some_and(|budget| fuel > budget);
        Some(BudgetCheck {
            budget_ms,
            budget_fuel,
            over,
        })
    }
}

/// Counts for the closing `PERF_GUARD` line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    pub total: u32,
    pub done: u32,
    pub fail: u32,
    pub timeout: u32,
    pub skipped: u32,
    pub accumulated_ms: f64,
    pub wall_ms: f64,
    /// Started tasks without a terminal event; a promotion guard wants 0.
    pub unterminated: u32,
    /// Fuel of the done tasks: deterministic, unlike any time.
    pub fuel_total: u64,
    /// Done tasks with a budget, by verdict.
    pub budget_ok: u32,
    pub budget_over: u32,
    /// Answers the server gave from an unchanged last result, apart from
    /// the tasks run (written only when not 0).
    pub reused: u32,
}

/// One thing that happened in a run.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    QueueInit {
        ms: f64,
        tasks: usize,
        /// Wall-clock time of the event, in microseconds since the Unix
        /// epoch, so runs can be lined up with other processes (a shell's
        /// prompt, say).
        unix_us: u64,
    },
    TaskStart {
        label: String,
        ms: f64,
    },
    TaskDone {
        label: String,
        ms: f64,
        attempts: u32,
        fuel: u64,
        /// Present when the task has a budget.
        budget: Option<BudgetCheck>,
    },
    TaskFail {
        label: String,
        ms: f64,
        attempts: u32,
        reason: FailReason,
        message: String,
    },
    /// A task that was never started, and why.
    TaskSkipped {
        label: String,
        cause: SkipCause,
    },
    /// A guest's own `segment-start`/`segment-end` pair.
    SubSegment {
        label: String,
        name: String,
        ms: f64,
    },
    Log {
        label: String,
        level: LogLevel,
        message: String,
    },
    Progress {
        label: String,
        done: u64,
        total: u64,
    },
    /// The run stalled in the host; the listed tasks are being cancelled.
    Watchdog {
        stalled_ms: f64,
        tasks: Vec<String>,
    },
    Summary(Summary),
}

/// Fields every segment line carries.
#[derive(Clone, Debug)]
pub struct RunTags {
    pub phase: String,
    pub mode: Mode,
}
