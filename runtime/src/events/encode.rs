//! Events as text: `SEGMENT`/`PERF_GUARD`/`LOG`/`PROGRESS` lines, or JSON
//! lines. [`super::decode`] reads both back.

use serde_json::{Map, Value, json};

use super::fields::quote;
use super::model::{BudgetCheck, Event, RunTags, SkipCause, Summary};

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
                budget,
            } => format!(
                "SEGMENT name=async_task_{label}_done ms={ms:.2} {tail} task={label} fuel={fuel} attempts={attempts}{}",
                budget.as_ref().map(budget_fields).unwrap_or_default()
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
                    SkipCause::NoRepo => "reason=no_repo".to_string(),
                    SkipCause::Unchanged => "reason=unchanged".to_string(),
                    SkipCause::Refused(why) => format!("reason=refused message={}", quote(why)),
                    SkipCause::State(why) => format!("reason=state message={}", quote(why)),
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
            Event::Summary(s) if s.reused > 0 => format!(
                "{} async_tasks_reused={}",
                Event::Summary(Summary {
                    reused: 0,
                    ..s.clone()
                })
                .to_segment_line(tags),
                s.reused
            ),
            Event::Summary(s) => format!(
                "PERF_GUARD async_tasks_total={} async_tasks_done={} async_tasks_fail={} async_tasks_timeout={} async_tasks_skipped={} async_total_accumulated_ms={:.1} wall_ms={:.1} async_tasks_unterminated={} async_fuel_total={} async_budget_ok={} async_budget_over={}",
                s.total,
                s.done,
                s.fail,
                s.timeout,
                s.skipped,
                s.accumulated_ms,
                s.wall_ms,
                s.unterminated,
                s.fuel_total,
                s.budget_ok,
                s.budget_over
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
                budget,
            } => {
                let mut extra = json!({ "task": label, "fuel": fuel, "attempts": attempts });
                if let Some(budget) = budget {
                    extra["budget"] = verdict(budget).into();
                    if let Some(ms) = budget.budget_ms {
                        extra["budget_ms"] = ms.into();
                    }
                    if let Some(fuel) = budget.budget_fuel {
                        extra["budget_fuel"] = fuel.into();
                    }
                }
                segment(format!("async_task_{label}_done"), *ms, extra)
            }
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
                    SkipCause::NoRepo => object["reason"] = "no_repo".into(),
                    SkipCause::Unchanged => object["reason"] = "unchanged".into(),
                    SkipCause::Refused(why) => {
                        object["reason"] = "refused".into();
                        object["message"] = why.as_str().into();
                    }
                    SkipCause::State(why) => {
                        object["reason"] = "state".into();
                        object["message"] = why.as_str().into();
                    }
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
            Event::Summary(s) if s.reused > 0 => {
                let mut object = Event::Summary(Summary {
                    reused: 0,
                    ..s.clone()
                })
                .to_json(tags);
                object["async_tasks_reused"] = s.reused.into();
                object
            }
            Event::Summary(s) => json!({
                "event": "perf_guard",
                "async_tasks_total": s.total,
                "async_tasks_done": s.done,
                "async_tasks_fail": s.fail,
                "async_tasks_timeout": s.timeout,
                "async_tasks_skipped": s.skipped,
                "async_total_accumulated_ms": round2(s.accumulated_ms),
                "wall_ms": round2(s.wall_ms),
                "async_tasks_unterminated": s.unterminated,
                "async_fuel_total": s.fuel_total,
                "async_budget_ok": s.budget_ok,
                "async_budget_over": s.budget_over,
            }),
        }
    }
}

/// ` budget=ok|over` and the budgets the task has, for a `_done` line.
fn budget_fields(budget: &BudgetCheck) -> String {
    let mut fields = format!(" budget={}", verdict(budget));
    if let Some(ms) = budget.budget_ms {
        fields.push_str(&format!(" budget_ms={ms}"));
    }
    if let Some(fuel) = budget.budget_fuel {
        fields.push_str(&format!(" budget_fuel={fuel}"));
    }
    fields
}

fn verdict(budget: &BudgetCheck) -> &'static str {
    if budget.over { "over" } else { "ok" }
}

fn round2(ms: f64) -> f64 {
    (ms * 100.0).round() / 100.0
}
