//! The run report: a run's event file drawn as an SVG timeline, to see where
//! start-up time goes. One lane per task, in start order, each bar coloured
//! by outcome, so the task that holds the prompt back (the critical path)
//! and the time spent before the queue was ready show at a glance. A done
//! task over its budget (`budget=over` on its `_done`) is outlined in red
//! and says so, since that is what a performance gate will act on.
//!
//! Pure text in, text out: it reads either event format through the one
//! decoder, and a killed run's file as well as a finished one.

mod svg;
#[cfg(test)]
mod tests;

use crate::events::{Decoder, FailReason, Summary};
use crate::views::run_view::{RunView, TaskStatus, TaskView};

/// Why an event file cannot be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(
        "no task events found\n  help: pass the file a run wrote with `--events PATH` (either format)"
    )]
    NoTasks,
    /// An event line that does not parse. Its text is not repeated: it may
    /// hold terminal escapes.
    #[error("line {line}: malformed event: {reason}")]
    Malformed { line: usize, reason: String },
}

/// Renders the events of one run (the whole event file, segment or JSON
/// lines) as a self-contained SVG document.
pub fn render_svg(events: &str) -> Result<String, ReportError> {
    let mut decoder = Decoder::default();
    let mut view = RunView::default();
    for (index, line) in events.lines().enumerate() {
        let event = decoder
            .decode(line)
            .map_err(|error| ReportError::Malformed {
                line: index + 1,
                reason: error.to_string(),
            })?;
        if let Some(event) = event {
            view.apply(&event);
        }
    }
    let timeline = Timeline::from(view);
    if timeline.tasks.is_empty() && timeline.skipped.is_empty() {
        return Err(ReportError::NoTasks);
    }
    Ok(svg::draw(&timeline))
}

/// What the timeline shows: started tasks in start order, skipped ones by
/// name.
struct Timeline {
    tasks: Vec<TaskView>,
    skipped: Vec<String>,
    queue_init_ms: Option<f64>,
    summary: Option<Summary>,
}

impl From<RunView> for Timeline {
    fn from(view: RunView) -> Self {
        let (skipped, mut tasks): (Vec<TaskView>, Vec<TaskView>) = view
            .tasks
            .into_iter()
            .partition(|task| task.status == TaskStatus::Skipped);
        // Concurrent tasks may write their `_start` lines slightly out of order.
        tasks.sort_by(|a, b| start_ms(a).total_cmp(&start_ms(b)));
        Timeline {
            tasks,
            skipped: skipped.into_iter().map(|task| task.label).collect(),
            queue_init_ms: view.queue_init_ms,
            summary: view.summary,
        }
    }
}

impl Timeline {
    /// The timeline's right edge: the last moment the file accounts for.
    fn span_ms(&self) -> f64 {
        self.tasks
            .iter()
            .map(|task| end_ms(task).unwrap_or(start_ms(task)))
            .chain(self.queue_init_ms)
            .chain(self.summary.as_ref().map(|summary| summary.wall_ms))
            .fold(svg::MIN_SPAN_MS, f64::max)
    }
}

fn start_ms(task: &TaskView) -> f64 {
    task.start_ms.unwrap_or(0.0)
}

fn end_ms(task: &TaskView) -> Option<f64> {
    Some((start_ms(task) + task.duration_ms?).min(f64::MAX))
}

/// How a task ended, as `data-outcome` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Done,
    Timeout,
    Fail,
    Cancelled,
    /// Started, but the file has no end event: the run was killed.
    Unfinished,
}

impl Outcome {
    fn of(task: &TaskView) -> Outcome {
        match task.status {
            TaskStatus::Done => Outcome::Done,
            TaskStatus::Failed(FailReason::Timeout) => Outcome::Timeout,
            TaskStatus::Failed(FailReason::Cancelled) => Outcome::Cancelled,
            TaskStatus::Failed(_) => Outcome::Fail,
            TaskStatus::Running | TaskStatus::Skipped => Outcome::Unfinished,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Timeout => "timeout",
            Outcome::Fail => "fail",
            Outcome::Cancelled => "cancelled",
            Outcome::Unfinished => "unfinished",
        }
    }

    fn colour(self) -> &'static str {
        match self {
            Outcome::Done => "#2f9e44",
            Outcome::Timeout => "#f08c00",
            Outcome::Fail => "#e03131",
            Outcome::Cancelled => "#adb5bd",
            Outcome::Unfinished => "#e9ecef",
        }
    }
}
