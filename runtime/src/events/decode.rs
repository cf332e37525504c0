//! Event lines back into typed [`Event`]s. One decoder for both formats,
//! used by every reader of an event file (`watch`, `report`) and by the
//! tests; the live status line is fed typed events and decodes nothing.

use std::collections::BTreeMap;

use serde_json::Value;

use super::fields::parse_fields;
use super::model::{BudgetCheck, Event, SkipCause, Summary};

/// A line that claims to be an event but does not parse. It never repeats
/// the line: the text may hold terminal escapes.
#[derive(Debug, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(String);

/// One event line split up, before its fields are typed.
#[derive(Clone, Debug, PartialEq)]
pub struct RawEvent {
    /// `SEGMENT`, `PERF_GUARD`, `LOG`, `PROGRESS`, or a JSON line's `event`
    /// in upper case.
    pub kind: String,
    /// Every field, its value as text (quoted values unescaped).
    pub fields: BTreeMap<String, String>,
}

/// Splits one event line of either format; `Ok(None)` for lines that are
/// not events.
pub fn parse_line(line: &str) -> Result<Option<RawEvent>, DecodeError> {
    let line = line.trim();
    if line.starts_with('{') {
        return parse_json(line).map(Some);
    }
    let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
    if !matches!(kind, "SEGMENT" | "PERF_GUARD" | "LOG" | "PROGRESS") {
        return Ok(None);
    }
    let fields = parse_fields(rest).map_err(DecodeError)?;
    Ok(Some(RawEvent {
        kind: kind.to_string(),
        fields: fields.into_iter().collect(),
    }))
}

fn parse_json(line: &str) -> Result<RawEvent, DecodeError> {
    let value: Value = serde_json::from_str(line)
        .map_err(|error| DecodeError(format!("invalid JSON: {error}")))?;
    let Value::Object(object) = value else {
        return Err(DecodeError("a JSON event is not an object".into()));
    };
    let mut fields: BTreeMap<String, String> = object
        .into_iter()
        .map(|(key, value)| (key, json_text(value)))
        .collect();
    let kind = fields
        .remove("event")
        .ok_or_else(|| DecodeError("a JSON event has no \"event\" key".into()))?;
    Ok(RawEvent {
        kind: kind.to_ascii_uppercase(),
        fields,
    })
}

/// A JSON value as the segment format would write it; lists (the watchdog's
/// tasks) are comma-separated.
fn json_text(value: Value) -> String {
    match value {
        Value::String(text) => text,
        Value::Array(items) => items
            .into_iter()
            .map(json_text)
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    }
}

/// Reads a run's event lines, in either format, into events. It remembers
/// the labels of started tasks, so segment lines written before they named
/// their task (`task=`) are still attributed, by the longest known label.
#[derive(Debug, Default)]
pub struct Decoder {
    labels: Vec<String>,
}

impl Decoder {
    /// Decodes one line; `Ok(None)` for lines that are not events (logs of
    /// other programs, blank lines, events of kinds added later).
    pub fn decode(&mut self, line: &str) -> Result<Option<Event>, DecodeError> {
        let Some(RawEvent { kind, fields }) = parse_line(line)? else {
            return Ok(None);
        };
        let fields = Fields(fields);
        let event = match kind.as_str() {
            "SEGMENT" => self.segment(&fields)?,
            "SKIPPED" => Some(Event::TaskSkipped {
                label: fields.text("task")?,
                cause: fields.skip_cause()?,
            }),
            "LOG" => Some(Event::Log {
                label: fields.text("task")?,
                level: fields.parsed("level")?,
                message: fields.optional_text("message"),
            }),
            "PROGRESS" => Some(Event::Progress {
                label: fields.text("task")?,
                done: fields.parsed("done")?,
                total: fields.parsed("total")?,
            }),
            "PERF_GUARD" => Some(Event::Summary(Summary {
                total: fields.count("async_tasks_total")?,
                done: fields.count("async_tasks_done")?,
                fail: fields.count("async_tasks_fail")?,
                timeout: fields.count("async_tasks_timeout")?,
                skipped: fields.count("async_tasks_skipped")?,
                accumulated_ms: fields.ms("async_total_accumulated_ms")?,
                wall_ms: fields.ms("wall_ms")?,
                unterminated: fields.count_or_zero("async_tasks_unterminated")?,
                fuel_total: fields.count_or_zero("async_fuel_total")?,
                budget_ok: fields.count_or_zero("async_budget_ok")?,
                budget_over: fields.count_or_zero("async_budget_over")?,
                reused: fields.count_or_zero("async_tasks_reused")?,
            })),
            _ => None,
        };
        if let Some(Event::TaskStart { label, .. }) = &event {
            self.labels.push(label.clone());
        }
        Ok(event)
    }

    fn segment(&self, fields: &Fields) -> Result<Option<Event>, DecodeError> {
        let name = fields.text("name")?;
        let ms = fields.ms("ms")?;
        match name.as_str() {
            "async_queue_init" => {
                return Ok(Some(Event::QueueInit {
                    ms,
                    tasks: fields.count_or_zero("tasks")?,
                    unix_us: fields.count_or_zero("unix_us")?,
                }));
            }
            "async_watchdog" => {
                let tasks = fields.optional_text("tasks");
                return Ok(Some(Event::Watchdog {
                    stalled_ms: ms,
                    tasks: tasks
                        .split(',')
                        .filter(|t| !t.is_empty())
                        .map(String::from)
                        .collect(),
                }));
            }
            _ => {}
        }
        let Some(rest) = name.strip_prefix("async_task_") else {
            return Ok(None);
        };
        let Some((label, suffix)) = self.attribute(rest, fields) else {
            return Ok(None);
        };
        if let Some(segment) = fields.0.get("segment") {
            return Ok(Some(Event::SubSegment {
                label,
                name: segment.clone(),
                ms,
            }));
        }
        Ok(Some(match suffix.as_str() {
            "start" => Event::TaskStart { label, ms },
            "done" => Event::TaskDone {
                label,
                ms,
                attempts: fields.count_or_zero("attempts")?,
                fuel: fields.count_or_zero("fuel")?,
                budget: fields.budget()?,
            },
            "fail" => Event::TaskFail {
                label,
                ms,
                attempts: fields.count_or_zero("attempts")?,
                reason: fields.parsed("reason")?,
                message: fields.optional_text("message"),
            },
            "skipped" => Event::TaskSkipped {
                label,
                cause: fields.skip_cause()?,
            },
            _ => Event::SubSegment {
                label,
                name: suffix,
                ms,
            },
        }))
    }

    /// Splits `<label>_<suffix>`: by `task=` when the line has it, else by
    /// the longest label already started, else as a task's own event.
    fn attribute(&self, rest: &str, fields: &Fields) -> Option<(String, String)> {
        let split = |label: &str| {
            let suffix = rest.strip_prefix(label)?.strip_prefix('_')?;
            Some((label.to_string(), suffix.to_string()))
        };
        if let Some(label) = fields.0.get("task") {
            return split(label);
        }
        let fresh_start = rest
            .strip_suffix("_start")
            .filter(|label| !self.labels.iter().any(|known| known == label));
        if let Some(label) = fresh_start {
            return split(label);
        }
        let known = self
            .labels
            .iter()
            .filter(|label| rest.starts_with(&format!("{label}_")))
            .max_by_key(|label| label.len());
        if let Some(label) = known {
            return split(label);
        }
        ["_done", "_fail", "_skipped"]
            .iter()
            .find_map(|suffix| rest.strip_suffix(suffix))
            .and_then(split)
    }
}

/// An event's fields, with typed access that names the bad key.
struct Fields(BTreeMap<String, String>);

impl Fields {
    fn text(&self, key: &str) -> Result<String, DecodeError> {
        self.0
            .get(key)
            .cloned()
            .ok_or_else(|| DecodeError(format!("no {key}=")))
    }

    fn optional_text(&self, key: &str) -> String {
        self.0.get(key).cloned().unwrap_or_default()
    }

    fn parsed<T: std::str::FromStr>(&self, key: &str) -> Result<T, DecodeError> {
        self.text(key)?
            .parse()
            .map_err(|_| DecodeError(format!("{key}= is not valid")))
    }

    fn count<T: std::str::FromStr>(&self, key: &str) -> Result<T, DecodeError> {
        self.parsed(key)
    }

    fn count_or_zero<T: std::str::FromStr + Default>(&self, key: &str) -> Result<T, DecodeError> {
        match self.0.contains_key(key) {
            true => self.parsed(key),
            false => Ok(T::default()),
        }
    }

    /// Why a task was skipped; files written before `reason=` existed only
    /// skipped tasks for their flag.
    fn skip_cause(&self) -> Result<SkipCause, DecodeError> {
        match self.0.get("reason").map(String::as_str) {
            Some("running") => Ok(SkipCause::Running),
            Some("no_repo") => Ok(SkipCause::NoRepo),
            Some("unchanged") => Ok(SkipCause::Unchanged),
            Some("refused") => Ok(SkipCause::Refused(self.optional_text("message"))),
            Some("state") => Ok(SkipCause::State(self.optional_text("message"))),
            Some("flag") | None => Ok(SkipCause::Flag(self.optional_text("flag"))),
            Some(_) => Err(DecodeError("reason= is not valid".into())),
        }
    }

    /// A `_done` line's budget verdict; lines written before budgets
    /// existed, and tasks without one, have none.
    fn budget(&self) -> Result<Option<BudgetCheck>, DecodeError> {
        let over = match self.0.get("budget").map(String::as_str) {
            None => return Ok(None),
            Some("ok") => false,
            Some("over") => true,
            Some(_) => return Err(DecodeError("budget= is not valid".into())),
        };
        Ok(Some(BudgetCheck {
            budget_ms: self.optional_count("budget_ms")?,
            budget_fuel: self.optional_count("budget_fuel")?,
            over,
        }))
    }

    fn optional_count(&self, key: &str) -> Result<Option<u64>, DecodeError> {
        self.0
            .contains_key(key)
            .then(|| self.parsed(key))
            .transpose()
    }

    /// A duration: a finite, non-negative number of milliseconds.
    fn ms(&self, key: &str) -> Result<f64, DecodeError> {
        self.parsed::<f64>(key)
            .ok()
            .filter(|ms| ms.is_finite() && *ms >= 0.0)
            .ok_or_else(|| DecodeError(format!("{key}= is not a number of milliseconds")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{FailReason, LogLevel, RunTags};
    use crate::mode::Mode;

    fn every_event() -> Vec<Event> {
        vec![
            Event::QueueInit {
                ms: 0.42,
                tasks: 3,
                unix_us: 1_763_712_000_123_456,
            },
            Event::TaskStart {
                label: "git_start".into(),
                ms: 0.5,
            },
            Event::SubSegment {
                label: "git_start".into(),
                name: "done".into(),
                ms: 1.25,
            },
            Event::Progress {
                label: "git_start".into(),
                done: 2,
                total: 5,
            },
            Event::Log {
                label: "git_start".into(),
                level: LogLevel::Warn,
                message: "a \"quoted\"\n\u{1b}[31mline".into(),
            },
            Event::TaskDone {
                label: "git_start".into(),
                ms: 3.1,
                attempts: 1,
                fuel: 81_234,
                budget: None,
            },
            Event::TaskDone {
                label: "budgeted".into(),
                ms: 3.1,
                attempts: 1,
                fuel: 81_234,
                budget: Some(BudgetCheck {
                    budget_ms: None,
                    budget_fuel: Some(80_000),
                    over: true,
                }),
            },
            Event::TaskFail {
                label: "slow".into(),
                ms: 1500.2,
                attempts: 2,
                reason: FailReason::InvalidInput,
                message: "took long".into(),
            },
            Event::TaskSkipped {
                label: "flagged".into(),
                cause: SkipCause::Flag("CORRAL_X".into()),
            },
            Event::TaskSkipped {
                label: "busy".into(),
                cause: SkipCause::Running,
            },
            Event::TaskSkipped {
                label: "c".into(),
                cause: SkipCause::NoRepo,
            },
            Event::TaskSkipped {
                label: "kept".into(),
                cause: SkipCause::Unchanged,
            },
            Event::Watchdog {
                stalled_ms: 4500.0,
                tasks: vec!["a".into(), "b".into()],
            },
            Event::Summary(Summary {
                total: 3,
                done: 1,
                fail: 1,
                timeout: 0,
                skipped: 1,
                accumulated_ms: 1503.3,
                wall_ms: 1510.5,
                unterminated: 0,
                fuel_total: 162_468,
                budget_ok: 0,
                budget_over: 1,
                reused: 0,
            }),
            Event::Summary(Summary {
                skipped: 4,
                reused: 4,
                ..Summary::default()
            }),
        ]
    }

    #[test]
    fn both_formats_decode_to_the_events_encoded() {
        let tags = RunTags {
            phase: "post_plugin".into(),
            mode: Mode::On,
        };
        for json in [false, true] {
            let mut decoder = Decoder::default();
            for event in every_event() {
                let line = match json {
                    false => event.to_segment_line(&tags),
                    true => event.to_json(&tags).to_string(),
                };
                let decoded = decoder.decode(&line).unwrap();
                assert_eq!(decoded.as_ref(), Some(&event), "{line}");
            }
        }
    }

    #[test]
    fn lines_without_task_fields_are_attributed_by_known_labels() {
        let mut decoder = Decoder::default();
        let mut decode = |line: &str| decoder.decode(line).unwrap().unwrap();
        decode("SEGMENT name=async_task_git_start ms=1 phase=p sample=on");
        decode("SEGMENT name=async_task_git_init_start ms=1 phase=p sample=on");
        assert_eq!(
            decode("SEGMENT name=async_task_git_init_parse ms=2 phase=p sample=on"),
            Event::SubSegment {
                label: "git_init".into(),
                name: "parse".into(),
                ms: 2.0
            }
        );
        assert!(matches!(
            decode("SEGMENT name=async_task_git_fail ms=3 phase=p sample=on reason=trap"),
            Event::TaskFail { label, reason: FailReason::Trap, .. } if label == "git"
        ));
    }

    #[test]
    fn lines_written_before_the_perf_guard_fields_still_decode() {
        let mut decoder = Decoder::default();
        let summary = decoder
            .decode("PERF_GUARD async_tasks_total=1 async_tasks_done=1 async_tasks_fail=0 async_tasks_timeout=0 async_tasks_skipped=0 async_total_accumulated_ms=2.0 wall_ms=3.0")
            .unwrap();
        assert!(
            matches!(summary, Some(Event::Summary(s)) if s.unterminated == 0 && s.fuel_total == 0 && s.budget_over == 0)
        );
        let done = decoder
            .decode(
                "SEGMENT name=async_task_a_done ms=1 phase=p sample=on task=a fuel=9 attempts=1",
            )
            .unwrap();
        assert!(matches!(done, Some(Event::TaskDone { budget: None, .. })));
        let bad = "SEGMENT name=async_task_a_done ms=1 task=a budget=maybe";
        assert!(decoder.decode(bad).is_err());
    }

    #[test]
    fn malformed_event_lines_are_errors_and_foreign_lines_are_not_events() {
        let mut decoder = Decoder::default();
        assert_eq!(decoder.decode("warning: something else").unwrap(), None);
        assert_eq!(decoder.decode("").unwrap(), None);
        for bad in [
            "SEGMENT name=async_task_a_start ms=soon",
            "SEGMENT ms=1.0",
            "SEGMENT name=async_task_a_fail ms=1 task=a reason=exploded",
            "PERF_GUARD async_tasks_total=x",
            "{\"event\":",
        ] {
            assert!(decoder.decode(bad).is_err(), "{bad}");
        }
    }
}
