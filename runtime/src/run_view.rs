//! A run as seen through its event file: each task's state so far. Used by
//! `corral watch`, which follows a live or finished run.

use std::collections::BTreeMap;

use crate::events::parse_fields;

/// One line of an event file, in either format, as far as views need it.
#[derive(Clone, Debug, PartialEq)]
pub enum EventLine {
    /// A `SEGMENT` line (or a JSON `segment` event).
    Segment {
        name: String,
        ms: f64,
        fields: BTreeMap<String, String>,
    },
    Progress {
        task: String,
        done: u64,
        total: u64,
    },
    Skipped {
        task: String,
    },
    /// The closing `PERF_GUARD` counts.
    Summary(BTreeMap<String, String>),
}

impl EventLine {
    /// Parses one line of either format; `None` for lines views ignore
    /// (logs, blank or foreign lines).
    pub fn parse(line: &str) -> Option<EventLine> {
        let line = line.trim();
        if line.starts_with('{') {
            return Self::parse_json(line);
        }
        let (kind, rest) = line.split_once(' ')?;
        let fields: BTreeMap<String, String> = parse_fields(rest).ok()?.into_iter().collect();
        match kind {
            "SEGMENT" => {
                let name = fields.get("name")?.clone();
                let ms = fields.get("ms")?.parse().ok()?;
                if let Some(task) = name
                    .strip_prefix("async_task_")
                    .and_then(|rest| rest.strip_suffix("_skipped"))
                {
                    return Some(EventLine::Skipped { task: task.into() });
                }
                Some(EventLine::Segment { name, ms, fields })
            }
            "PROGRESS" => Some(EventLine::Progress {
                task: fields.get("task")?.clone(),
                done: fields.get("done")?.parse().ok()?,
                total: fields.get("total")?.parse().ok()?,
            }),
            "PERF_GUARD" => Some(EventLine::Summary(fields)),
            _ => None,
        }
    }

    fn parse_json(line: &str) -> Option<EventLine> {
        let value: serde_json::Value = serde_json::from_str(line).ok()?;
        let object = value.as_object()?;
        let text = |key: &str| object.get(key).and_then(|v| v.as_str()).map(str::to_string);
        let fields = || {
            object
                .iter()
                .map(|(key, value)| {
                    let text = value
                        .as_str()
                        .map_or_else(|| value.to_string(), str::to_string);
                    (key.clone(), text)
                })
                .collect()
        };
        match text("event")?.as_str() {
            "segment" => Some(EventLine::Segment {
                name: text("name")?,
                ms: object.get("ms")?.as_f64()?,
                fields: fields(),
            }),
            "progress" => Some(EventLine::Progress {
                task: text("task")?,
                done: object.get("done")?.as_u64()?,
                total: object.get("total")?.as_u64()?,
            }),
            "skipped" => Some(EventLine::Skipped {
                task: text("task")?,
            }),
            "perf_guard" => Some(EventLine::Summary(fields())),
            _ => None,
        }
    }
}

/// Where a task is.
#[derive(Clone, Debug, PartialEq)]
pub enum TaskState {
    Running,
    Done,
    Failed(String),
    Skipped,
}

/// One task as the events describe it.
#[derive(Clone, Debug)]
pub struct TaskView {
    pub label: String,
    pub state: TaskState,
    /// The task's duration, once it ended.
    pub duration_ms: Option<f64>,
    pub attempts: Option<u32>,
    pub fuel: Option<u64>,
    pub progress: Option<(u64, u64)>,
    /// Closed sub-segments: name and ms.
    pub segments: Vec<(String, f64)>,
}

/// Every task of a run, in start order, and the summary once it arrives.
#[derive(Clone, Debug, Default)]
pub struct RunView {
    pub tasks: Vec<TaskView>,
    pub summary: Option<BTreeMap<String, String>>,
}

impl RunView {
    pub fn apply(&mut self, line: EventLine) {
        match line {
            EventLine::Segment { name, ms, fields } => self.apply_segment(&name, ms, &fields),
            EventLine::Progress { task, done, total } => {
                if let Some(task) = self.task_mut(&task) {
                    task.progress = Some((done, total));
                }
            }
            EventLine::Skipped { task } => self.tasks.push(TaskView {
                label: task,
                state: TaskState::Skipped,
                duration_ms: None,
                attempts: None,
                fuel: None,
                progress: None,
                segments: Vec::new(),
            }),
            EventLine::Summary(fields) => self.summary = Some(fields),
        }
    }

    fn task_mut(&mut self, label: &str) -> Option<&mut TaskView> {
        self.tasks.iter_mut().find(|task| task.label == label)
    }

    fn apply_segment(&mut self, name: &str, ms: f64, fields: &BTreeMap<String, String>) {
        let Some(rest) = name.strip_prefix("async_task_") else {
            return;
        };
        if let Some(label) = rest.strip_suffix("_start") {
            // A label can itself end in `_start`; a known label's sub-segment
            // is not a new task.
            if self.task_mut(label).is_none() {
                self.tasks.push(TaskView {
                    label: label.to_string(),
                    state: TaskState::Running,
                    duration_ms: None,
                    attempts: None,
                    fuel: None,
                    progress: None,
                    segments: Vec::new(),
                });
                return;
            }
        }
        // The longest known label that prefixes the rest owns the event.
        let Some(index) = self
            .tasks
            .iter()
            .enumerate()
            .filter(|(_, task)| rest.starts_with(&format!("{}_", task.label)))
            .max_by_key(|(_, task)| task.label.len())
            .map(|(index, _)| index)
        else {
            return;
        };
        let task = &mut self.tasks[index];
        let suffix = &rest[task.label.len() + 1..];
        let attempts = fields.get("attempts").and_then(|a| a.parse().ok());
        match suffix {
            "done" => {
                task.state = TaskState::Done;
                task.duration_ms = Some(ms);
                task.attempts = attempts;
                task.fuel = fields.get("fuel").and_then(|f| f.parse().ok());
            }
            "fail" => {
                let reason = fields.get("reason").cloned().unwrap_or_default();
                task.state = TaskState::Failed(reason);
                task.duration_ms = Some(ms);
                task.attempts = attempts;
            }
            sub => task.segments.push((sub.to_string(), ms)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(text: &str) -> RunView {
        let mut view = RunView::default();
        for line in text.lines().filter_map(EventLine::parse) {
            view.apply(line);
        }
        view
    }

    #[test]
    fn folds_segment_lines_into_tasks() {
        let view = view(
            "SEGMENT name=async_queue_init ms=0.4 phase=p sample=on\n\
             SEGMENT name=async_task_git_init_start ms=0.5 phase=p sample=on\n\
             SEGMENT name=async_task_git_start ms=0.6 phase=p sample=on\n\
             PROGRESS task=git_init done=1 total=4\n\
             SEGMENT name=async_task_git_init_parse ms=1.5 phase=p sample=on\n\
             SEGMENT name=async_task_git_init_done ms=3.1 phase=p sample=on fuel=99 attempts=1\n\
             SEGMENT name=async_task_git_fail ms=9 phase=p sample=on reason=timeout attempts=2 message=\"took \\\"long\\\"\"\n\
             SEGMENT name=async_task_flagged_skipped ms=0.00 phase=p sample=on flag=X\n\
             PERF_GUARD async_tasks_total=2 wall_ms=10.0",
        );
        let labels: Vec<&str> = view.tasks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["git_init", "git", "flagged"]);
        let git_init = &view.tasks[0];
        assert_eq!(git_init.state, TaskState::Done);
        assert_eq!(git_init.fuel, Some(99));
        assert_eq!(git_init.progress, Some((1, 4)));
        assert_eq!(git_init.segments, [("parse".to_string(), 1.5)]);
        assert_eq!(view.tasks[1].state, TaskState::Failed("timeout".into()));
        assert_eq!(view.tasks[1].attempts, Some(2));
        assert_eq!(view.tasks[2].state, TaskState::Skipped);
        assert_eq!(view.summary.unwrap()["wall_ms"], "10.0");
    }

    #[test]
    fn reads_json_lines_and_quoted_values() {
        let view = view(
            "{\"event\":\"segment\",\"name\":\"async_task_a_start\",\"ms\":1.0}\n\
             {\"event\":\"segment\",\"name\":\"async_task_a_fail\",\"ms\":2.0,\"reason\":\"trap\",\"attempts\":1}\n\
             not an event",
        );
        assert_eq!(view.tasks[0].state, TaskState::Failed("trap".into()));
    }
}
