//! Events as text: `SEGMENT`/`PERF_GUARD`/`LOG`/`PROGRESS` lines, or JSON
//! lines. [`super::decode`] reads both back.

use serde_json::{Map, Value, json};

use super::fields::quote;
use super::model::{Event, RunTags, SkipCause};

impl Event {
    /// Formats the event as one `SEGMENT`/`PERF_GUARD`/`LOG`/`PROGRESS` line.
    pub fn to_segment_line(&self, tags: &RunTags) -> String {
        let tail = format!("phase={} sample={}", tags.phase, tags.mode.as_str());
        match self {
            Event::QueueInit { ms, tasks, unix_us } => format!(
                "SEGMENT name=async_queue_init ms={ms:.2} {tail} tasks={tasks} unix_us={unix_us}"
            ),
            Event::TaskStart { label, ms } => {
                format!("SEGMENT name=async_task_{label}_start ms={ms:.2} {tail} task={label}")
            }
            Event::TaskDone {
                label,
                ms,
                attempts,
                fuel,
            } => format!(
                "SEGMENT name=async_task_{label}_done ms={ms:.2} {tail} task={label} fuel={fuel} attempts={attempts}"
            ),
            Event::TaskFail {
                label,
                ms,
                attempts,
                reason,
                message,
            } => format!(
                "SEGMENT name=async_task_{label}_fail ms={ms:.2} {tail} task={label} reason={} attempts={attempts} message={}",
                reason.as_str(),
                quote(message)
            ),
            Event::TaskSkipped { label, cause } => {
                let cause = match cause {
                    SkipCause::Flag(flag) => format!("reason=flag flag={flag}"),
                    SkipCause::Running => "reason=running".to_string(),
                };
                format!(
                    "SEGMENT name=async_task_{label}_skipped ms=0.00 {tail} task={label} {cause}"
                )
            }
            Event::SubSegment { label, name, ms } => {
                format!(
                    "SEGMENT name=async_task_{label}_{name} ms={ms:.2} {tail} task={label} segment={name}"
                )
            }
            Event::Log {
                label,
                level,
                message,
            } => format!(
                "LOG task={label} level={} message={}",
                level.as_str(),
                quote(message)
            ),
            Event::Progress { label, done, total } => {
                format!("PROGRESS task={label} done={done} total={total}")
            }
            Event::Watchdog { stalled_ms, tasks } => format!(
                "SEGMENT name=async_watchdog ms={stalled_ms:.2} {tail} tasks={}",
                tasks.join(",")
            ),
            Event::Summary(s) => format!(
                "PERF_GUARD async_tasks_total={} async_tasks_done={} async_tasks_fail={} async_tasks_timeout={} async_tasks_skipped={} async_total_accumulated_ms={:.1} wall_ms={:.1}",
                s.total, s.done, s.fail, s.timeout, s.skipped, s.accumulated_ms, s.wall_ms
            ),
        }
    }

    /// Formats the event as one JSON object.
    pub fn to_json(&self, tags: &RunTags) -> Value {
        let segment = |name: String, ms: f64, extra: Value| {
            let mut object = Map::new();
            object.insert("event".into(), "segment".into());
            object.insert("name".into(), name.into());
            object.insert("ms".into(), json!(round2(ms)));
            object.insert("phase".into(), tags.phase.clone().into());
            object.insert("sample".into(), tags.mode.as_str().into());
            if let Value::Object(extra) = extra {
                object.extend(extra);
            }
            Value::Object(object)
        };
        match self {
            Event::QueueInit { ms, tasks, unix_us } => segment(
                "async_queue_init".into(),
                *ms,
                json!({ "tasks": tasks, "unix_us": unix_us }),
            ),
            Event::TaskStart { label, ms } => segment(
                format!("async_task_{label}_start"),
                *ms,
                json!({ "task": label }),
            ),
            Event::TaskDone {
                label,
                ms,
                attempts,
                fuel,
            } => segment(
                format!("async_task_{label}_done"),
                *ms,
                json!({ "task": label, "fuel": fuel, "attempts": attempts }),
            ),
            Event::TaskFail {
                label,
                ms,
                attempts,
                reason,
                message,
            } => segment(
                format!("async_task_{label}_fail"),
                *ms,
                json!({ "task": label, "reason": reason.as_str(), "attempts": attempts, "message": message }),
            ),
            Event::TaskSkipped { label, cause } => {
                let mut object = json!({
                    "event": "skipped", "task": label,
                    "phase": tags.phase, "sample": tags.mode.as_str(),
                });
                match cause {
                    SkipCause::Flag(flag) => {
                        object["reason"] = "flag".into();
                        object["flag"] = flag.as_str().into();
                    }
                    SkipCause::Running => object["reason"] = "running".into(),
                }
                object
            }
            Event::SubSegment { label, name, ms } => segment(
                format!("async_task_{label}_{name}"),
                *ms,
                json!({ "task": label, "segment": name }),
            ),
            Event::Log {
                label,
                level,
                message,
            } => {
                json!({ "event": "log", "task": label, "level": level.as_str(), "message": message })
            }
            Event::Progress { label, done, total } => {
                json!({ "event": "progress", "task": label, "done": done, "total": total })
            }
            Event::Watchdog { stalled_ms, tasks } => segment(
                "async_watchdog".into(),
                *stalled_ms,
                json!({ "tasks": tasks }),
            ),
            Event::Summary(s) => json!({
                "event": "perf_guard",
                "async_tasks_total": s.total,
                "async_tasks_done": s.done,
                "async_tasks_fail": s.fail,
                "async_tasks_timeout": s.timeout,
                "async_tasks_skipped": s.skipped,
                "async_total_accumulated_ms": round2(s.accumulated_ms),
                "wall_ms": round2(s.wall_ms),
            }),
        }
    }
}

fn round2(ms: f64) -> f64 {
    (ms * 100.0).round() / 100.0
}
