//! A run as its events describe it: each task's status so far. The one fold
//! behind the live status line, `corral watch` and `corral report`.

use crate::events::{BudgetCheck, Event, FailReason, Summary};

/// Where a task is.
#[derive(Clone, Debug, PartialEq)]
pub enum TaskStatus {
    Running,
    Done,
    Failed(FailReason),
    Skipped,
}

/// One task as the events describe it.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskView {
    pub label: String,
    pub status: TaskStatus,
    /// Ms since process start when it began; `None` for skipped tasks.
    pub start_ms: Option<f64>,
    /// The task's duration, once it ended.
    pub duration_ms: Option<f64>,
    pub attempts: Option<u32>,
    pub fuel: Option<u64>,
    /// A done task's budgets and verdict, when it has a budget.
    pub budget: Option<BudgetCheck>,
    /// A failed task's message.
    pub message: Option<String>,
    pub progress: Option<(u64, u64)>,
    /// Closed sub-segments: name and ms, in end order.
    pub segments: Vec<(String, f64)>,
}

impl TaskView {
    fn new(label: String, status: TaskStatus, start_ms: Option<f64>) -> Self {
        TaskView {
            label,
            status,
            start_ms,
            duration_ms: None,
            attempts: None,
            fuel: None,
            budget: None,
            message: None,
            progress: None,
            segments: Vec::new(),
        }
    }
}

/// Every task of a run, in the order the events name them, and the summary
/// once it arrives.
#[derive(Clone, Debug, Default)]
pub struct RunView {
    pub tasks: Vec<TaskView>,
    pub queue_init_ms: Option<f64>,
    pub summary: Option<Summary>,
}

impl RunView {
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::QueueInit { ms, .. } => self.queue_init_ms = Some(*ms),
            Event::TaskStart { label, ms } => {
                if self.running(label).is_none() {
                    let task = TaskView::new(label.clone(), TaskStatus::Running, Some(*ms));
                    self.tasks.push(task);
                }
            }
            Event::TaskDone {
                label,
                ms,
                attempts,
                fuel,
                budget,
            } => {
                if let Some(task) = self.running(label) {
                    task.status = TaskStatus::Done;
                    task.duration_ms = Some(*ms);
                    task.attempts = Some(*attempts);
                    task.fuel = Some(*fuel);
                    task.budget = budget.clone();
                }
            }
            Event::TaskFail {
                label,
                ms,
                attempts,
                reason,
                message,
            } => {
                if let Some(task) = self.running(label) {
                    task.status = TaskStatus::Failed(*reason);
                    task.duration_ms = Some(*ms);
                    task.attempts = Some(*attempts);
                    task.message = Some(message.clone());
                }
            }
            Event::TaskSkipped { label, .. } => {
                if !self.tasks.iter().any(|task| task.label == *label) {
                    let task = TaskView::new(label.clone(), TaskStatus::Skipped, None);
                    self.tasks.push(task);
                }
            }
            Event::SubSegment { label, name, ms } => {
                if let Some(task) = self.running(label) {
                    task.segments.push((name.clone(), *ms));
                }
            }
            Event::Progress { label, done, total } => {
                if let Some(task) = self.running(label) {
                    task.progress = Some((*done, *total));
                }
            }
            Event::Summary(summary) => self.summary = Some(summary.clone()),
            Event::Log { .. } | Event::Watchdog { .. } => {}
        }
    }

    fn running(&mut self, label: &str) -> Option<&mut TaskView> {
        self.tasks
            .iter_mut()
            .find(|task| task.label == label && task.status == TaskStatus::Running)
    }

    /// How many tasks are in a status the predicate accepts.
    pub fn count(&self, wanted: impl Fn(&TaskStatus) -> bool) -> usize {
        self.tasks
            .iter()
            .filter(|task| wanted(&task.status))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Decoder;

    fn view(text: &str) -> RunView {
        let mut decoder = Decoder::default();
        let mut view = RunView::default();
        for line in text.lines() {
            if let Some(event) = decoder.decode(line).unwrap() {
                view.apply(&event);
            }
        }
        view
    }

    #[test]
    fn folds_segment_lines_into_tasks() {
        let view = view(
            "SEGMENT name=async_queue_init ms=0.4 phase=p sample=on\n\
             SEGMENT name=async_task_git_init_start ms=0.5 phase=p sample=on task=git_init\n\
             SEGMENT name=async_task_git_start ms=0.6 phase=p sample=on task=git\n\
             PROGRESS task=git_init done=1 total=4\n\
             SEGMENT name=async_task_git_init_parse ms=1.5 phase=p sample=on task=git_init segment=parse\n\
             SEGMENT name=async_task_git_init_done ms=3.1 phase=p sample=on task=git_init fuel=99 attempts=1\n\
             SEGMENT name=async_task_git_fail ms=9 phase=p sample=on task=git reason=timeout attempts=2 message=\"took \\\"long\\\"\"\n\
             SEGMENT name=async_task_flagged_skipped ms=0.00 phase=p sample=on task=flagged flag=X\n\
             PERF_GUARD async_tasks_total=2 async_tasks_done=1 async_tasks_fail=0 async_tasks_timeout=1 async_tasks_skipped=1 async_total_accumulated_ms=12.1 wall_ms=10.0",
        );
        let labels: Vec<&str> = view.tasks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["git_init", "git", "flagged"]);
        let git_init = &view.tasks[0];
        assert_eq!(git_init.status, TaskStatus::Done);
        assert_eq!(git_init.start_ms, Some(0.5));
        assert_eq!(git_init.fuel, Some(99));
        assert_eq!(git_init.progress, Some((1, 4)));
        assert_eq!(git_init.segments, [("parse".to_string(), 1.5)]);
        let git = &view.tasks[1];
        assert_eq!(git.status, TaskStatus::Failed(FailReason::Timeout));
        assert_eq!(git.attempts, Some(2));
        assert_eq!(git.message.as_deref(), Some("took \"long\""));
        assert_eq!(view.tasks[2].status, TaskStatus::Skipped);
        assert_eq!(view.queue_init_ms, Some(0.4));
        assert_eq!(view.summary.unwrap().wall_ms, 10.0);
    }

    #[test]
    fn json_lines_fold_the_same_way() {
        let view = view(
            "{\"event\":\"segment\",\"name\":\"async_task_a_start\",\"ms\":1.0,\"task\":\"a\"}\n\
             {\"event\":\"segment\",\"name\":\"async_task_a_fail\",\"ms\":2.0,\"task\":\"a\",\"reason\":\"trap\",\"attempts\":1,\"message\":\"m\"}\n\
             not an event",
        );
        assert_eq!(view.tasks[0].status, TaskStatus::Failed(FailReason::Trap));
        assert_eq!(view.count(|s| matches!(s, TaskStatus::Failed(_))), 1);
    }
}
