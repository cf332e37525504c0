//! The run report: a run's event file drawn as an SVG timeline, to see where
//! start-up time goes. One lane per task, in start order, each bar coloured
//! by outcome, so the task that holds the prompt back (the critical path)
//! and the time spent before the queue was ready show at a glance.
//!
//! Pure text in, text out: it reads either event format, and a killed run's
//! file as well as a finished one.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::events::parse_fields;

/// Why an event file cannot be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(
        "no task events found\n  help: pass the file a run wrote with `--events PATH` (either format)"
    )]
    NoTasks,
    /// A `SEGMENT`, `PERF_GUARD` or JSON line that does not parse. Its text
    /// is not repeated: it may hold terminal escapes.
    #[error("line {line}: malformed event: {reason}")]
    Malformed { line: usize, reason: String },
}

/// Renders the events of one run (the whole event file, segment or JSON
/// lines) as a self-contained SVG document.
pub fn render_svg(events: &str) -> Result<String, ReportError> {
    let run = Run::from_records(parse(events)?);
    if run.tasks.is_empty() && run.skipped.is_empty() {
        return Err(ReportError::NoTasks);
    }
    Ok(draw(&run))
}

/// One event line the report uses, from either format.
enum Record {
    Segment(Segment),
    Skipped(String),
    Summary(Summary),
}

struct Segment {
    name: String,
    ms: f64,
    /// The label, when the line names it (JSON); segment lines leave it to
    /// be worked out from `name`.
    task: Option<String>,
    detail: Detail,
}

/// End-event fields shown in a bar's tooltip.
struct Detail {
    reason: Option<String>,
    message: Option<String>,
    attempts: Option<String>,
}

/// The closing `PERF_GUARD` counts that make the header, in header order.
struct Summary {
    fields: Vec<(&'static str, String)>,
    wall_ms: Option<f64>,
}

const SUMMARY_KEYS: [(&str, &str); 6] = [
    ("async_tasks_total", "total"),
    ("async_tasks_done", "done"),
    ("async_tasks_fail", "fail"),
    ("async_tasks_timeout", "timeout"),
    ("async_tasks_skipped", "skipped"),
    ("wall_ms", "wall_ms"),
];

impl Summary {
    fn new(get: impl Fn(&str) -> Option<String>) -> Summary {
        Summary {
            fields: SUMMARY_KEYS
                .iter()
                .filter_map(|(key, short)| Some((*short, get(key)?)))
                .collect(),
            wall_ms: get("wall_ms")
                .and_then(|ms| ms.parse().ok())
                .and_then(milliseconds),
        }
    }
}

fn parse(events: &str) -> Result<Vec<Record>, ReportError> {
    let mut records = Vec::new();
    for (index, line) in events.lines().enumerate() {
        let line = line.trim();
        let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
        let record = match kind {
            "SEGMENT" => parse_fields(rest).and_then(segment_record),
            "PERF_GUARD" => parse_fields(rest).map(|fields| {
                Some(Record::Summary(Summary::new(|key| {
                    fields.get(key).cloned()
                })))
            }),
            _ if line.starts_with('{') => json_record(line),
            // LOG, PROGRESS and anything that is not an event line.
            _ => Ok(None),
        };
        records.extend(record.map_err(|reason| ReportError::Malformed {
            line: index + 1,
            reason,
        })?);
    }
    Ok(records)
}

fn segment_record(mut fields: HashMap<String, String>) -> Result<Option<Record>, String> {
    let name = fields.remove("name").ok_or("no name=")?;
    let ms = fields
        .get("ms")
        .and_then(|ms| milliseconds(ms.parse().ok()?))
        .ok_or("ms= is not a number of milliseconds")?;
    Ok(Some(Record::Segment(Segment {
        name,
        ms,
        task: None,
        detail: Detail {
            reason: fields.remove("reason"),
            message: fields.remove("message"),
            attempts: fields.remove("attempts"),
        },
    })))
}

fn json_record(line: &str) -> Result<Option<Record>, String> {
    let value: Value =
        serde_json::from_str(line).map_err(|error| format!("invalid JSON: {error}"))?;
    let string = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
    let text = |key: &str| {
        value.get(key).map(|field| match field {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        })
    };
    match value.get("event").and_then(Value::as_str) {
        Some("segment") => Ok(Some(Record::Segment(Segment {
            name: string("name").ok_or("a segment has no \"name\"")?,
            ms: value
                .get("ms")
                .and_then(Value::as_f64)
                .and_then(milliseconds)
                .ok_or("a segment's \"ms\" is not a number of milliseconds")?,
            task: string("task"),
            detail: Detail {
                reason: text("reason"),
                message: text("message"),
                attempts: text("attempts"),
            },
        }))),
        Some("skipped") => Ok(Some(Record::Skipped(
            string("task").ok_or("a skipped event has no \"task\"")?,
        ))),
        Some("perf_guard") => Ok(Some(Record::Summary(Summary::new(text)))),
        // log, progress, and events added after this report was written.
        Some(_) => Ok(None),
        None => Err("no \"event\" key".into()),
    }
}

/// Only finite, non-negative times can be drawn.
fn milliseconds(ms: f64) -> Option<f64> {
    (ms.is_finite() && ms >= 0.0).then_some(ms)
}

/// What the timeline shows.
#[derive(Default)]
struct Run {
    /// In start order once built.
    tasks: Vec<Task>,
    skipped: Vec<String>,
    queue_init_ms: Option<f64>,
    summary: Option<Summary>,
}

struct Task {
    label: String,
    start_ms: f64,
    end: Option<End>,
    /// The guest's own sub-segments: name and duration, in end order.
    subs: Vec<(String, f64)>,
}

struct End {
    duration_ms: f64,
    outcome: Outcome,
    detail: Detail,
}

impl Task {
    fn end_ms(&self) -> Option<f64> {
        let end = self.end.as_ref()?;
        Some((self.start_ms + end.duration_ms).min(f64::MAX))
    }

    fn outcome(&self) -> Outcome {
        self.end
            .as_ref()
            .map_or(Outcome::Unfinished, |end| end.outcome)
    }
}

/// What a `async_task_...` segment name says, once its label is known.
enum TaskSegment<'a> {
    Start(&'a str),
    Done(&'a str),
    Fail(&'a str),
    Skipped(&'a str),
    /// Label and sub-segment name.
    Sub(&'a str, &'a str),
}

impl<'a> TaskSegment<'a> {
    fn new(label: &'a str, suffix: &'a str) -> Self {
        match suffix {
            "start" => TaskSegment::Start(label),
            "done" => TaskSegment::Done(label),
            "fail" => TaskSegment::Fail(label),
            "skipped" => TaskSegment::Skipped(label),
            sub => TaskSegment::Sub(label, sub),
        }
    }
}

impl Run {
    fn from_records(records: Vec<Record>) -> Run {
        let names: HashSet<String> = records
            .iter()
            .filter_map(|record| match record {
                Record::Segment(segment) => Some(segment.name.clone()),
                _ => None,
            })
            .collect();
        let mut run = Run::default();
        for record in records {
            match record {
                Record::Segment(segment) => run.add_segment(segment, &names),
                Record::Skipped(label) => run.skip(label),
                Record::Summary(summary) => run.summary = Some(summary),
            }
        }
        // Concurrent tasks may write their `_start` lines slightly out of order.
        run.tasks.sort_by(|a, b| a.start_ms.total_cmp(&b.start_ms));
        run
    }

    fn add_segment(&mut self, segment: Segment, names: &HashSet<String>) {
        let Segment {
            name,
            ms,
            task,
            detail,
        } = segment;
        if name == "async_queue_init" {
            self.queue_init_ms = Some(ms);
            return;
        }
        // Not a task: `async_watchdog`, whose ms is a stall length, not a
        // moment, or a segment added after this report was written.
        let Some(rest) = name.strip_prefix("async_task_") else {
            return;
        };
        match self.classify(rest, task.as_deref(), names) {
            Some(TaskSegment::Start(label))
                if !self.tasks.iter().any(|task| task.label == label) =>
            {
                self.tasks.push(Task {
                    label: label.to_owned(),
                    start_ms: ms,
                    end: None,
                    subs: Vec::new(),
                });
            }
            Some(TaskSegment::Done(label)) => self.finish(label, Outcome::Done, ms, detail),
            Some(TaskSegment::Fail(label)) => {
                let outcome = Outcome::of_failure(detail.reason.as_deref());
                self.finish(label, outcome, ms, detail);
            }
            Some(TaskSegment::Skipped(label)) => self.skip(label.to_owned()),
            Some(TaskSegment::Sub(label, sub)) => {
                if let Some(task) = self.open_task(label) {
                    task.subs.push((sub.to_owned(), ms));
                }
            }
            // A second start of a label, or not a task's segment after all.
            Some(TaskSegment::Start(_)) | None => {}
        }
    }

    /// Works out the label in `rest` (a segment name after `async_task_`).
    /// JSON lines name it; on segment lines a label may contain `_`, so a
    /// name is read against the tasks still open, longest label first. A
    /// sub-segment called `x_start` of an open task `<label>` looks like the
    /// start of a task `<label>_x`: it counts as one only if that task ends
    /// somewhere in the file (`names`, every segment name in it).
    fn classify<'a>(
        &self,
        rest: &'a str,
        task: Option<&'a str>,
        names: &HashSet<String>,
    ) -> Option<TaskSegment<'a>> {
        if let Some(task) = task {
            let suffix = rest.strip_prefix(task)?.strip_prefix('_')?;
            return Some(TaskSegment::new(task, suffix));
        }
        let open = self
            .tasks
            .iter()
            .filter(|task| task.end.is_none())
            .filter_map(|task| {
                let suffix = rest.strip_prefix(task.label.as_str())?.strip_prefix('_')?;
                Some((&rest[..task.label.len()], suffix))
            })
            .max_by_key(|(label, _)| label.len());
        if let Some((label, suffix @ ("done" | "fail"))) = open {
            return Some(TaskSegment::new(label, suffix));
        }
        if let Some(label) = rest.strip_suffix("_start") {
            let ends = |end: &str| names.contains(&format!("async_task_{label}_{end}"));
            if open.is_none() || ends("done") || ends("fail") {
                return Some(TaskSegment::Start(label));
            }
        }
        if let Some(label) = rest.strip_suffix("_skipped")
            && open.is_none()
        {
            return Some(TaskSegment::Skipped(label));
        }
        open.map(|(label, sub)| TaskSegment::Sub(label, sub))
    }

    fn open_task(&mut self, label: &str) -> Option<&mut Task> {
        self.tasks
            .iter_mut()
            .find(|task| task.label == label && task.end.is_none())
    }

    fn finish(&mut self, label: &str, outcome: Outcome, duration_ms: f64, detail: Detail) {
        if let Some(task) = self.open_task(label) {
            task.end = Some(End {
                duration_ms,
                outcome,
                detail,
            });
        }
    }

    fn skip(&mut self, label: String) {
        if !self.skipped.contains(&label) {
            self.skipped.push(label);
        }
    }

    /// The timeline's right edge: the last moment the file accounts for.
    fn span_ms(&self) -> f64 {
        self.tasks
            .iter()
            .map(|task| task.end_ms().unwrap_or(task.start_ms))
            .chain(self.queue_init_ms)
            .chain(self.summary.as_ref().and_then(|summary| summary.wall_ms))
            .fold(MIN_SPAN_MS, f64::max)
    }
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
    fn of_failure(reason: Option<&str>) -> Outcome {
        match reason {
            Some("timeout") => Outcome::Timeout,
            Some("cancelled") => Outcome::Cancelled,
            _ => Outcome::Fail,
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

const WIDTH: f64 = 1000.0;
/// Lane labels sit left of the plot, right-aligned.
const PLOT_LEFT: f64 = 190.0;
const PLOT_RIGHT: f64 = 980.0;
const LANES_TOP: f64 = 60.0;
const LANE_HEIGHT: f64 = 26.0;
const BAR_HEIGHT: f64 = 16.0;
/// Each sub-segment adds a 3px bar and a 1px gap under its task's bar.
const SUB_STEP: f64 = 4.0;
/// What fits left of the plot at 12px.
const LABEL_CHARS: usize = 24;
/// A run that took no time still gets a readable axis.
const MIN_SPAN_MS: f64 = 1.0;
/// A rough width of one character of 11px annotation text.
const CHAR_WIDTH: f64 = 6.5;
/// A white outline that keeps dark text readable over any bar.
const HALO: &str = r##"stroke="#fff" stroke-width="3" paint-order="stroke""##;

/// Maps ms since process start to x; times past the edge are clamped.
struct Scale {
    span_ms: f64,
}

impl Scale {
    fn x(&self, ms: f64) -> f64 {
        PLOT_LEFT + (ms / self.span_ms).clamp(0.0, 1.0) * (PLOT_RIGHT - PLOT_LEFT)
    }
}

fn draw(run: &Run) -> String {
    let scale = Scale {
        span_ms: run.span_ms(),
    };
    let mut lanes = Vec::new();
    let mut top = LANES_TOP;
    for (index, task) in run.tasks.iter().enumerate() {
        let height = LANE_HEIGHT + SUB_STEP * task.subs.len() as f64;
        lanes.push(lane(task, index, top, height, &scale));
        top += height;
    }
    let bottom = top;
    let height = bottom + 46.0;

    let mut svg = vec![
        format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">"#
        ),
        "<title>corral run timeline</title>".to_owned(),
        r##"<rect width="100%" height="100%" fill="#fff"/>"##.to_owned(),
        format!(
            r#"<text x="10" y="20" font-weight="bold">{}</text>"#,
            escape(&header(run.summary.as_ref()))
        ),
    ];
    svg.extend(axis(&scale, bottom));
    svg.extend(lanes);
    if let Some(ms) = run.queue_init_ms {
        let x = scale.x(ms);
        svg.push(format!(
            r##"<line class="queue-init" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{bottom:.1}" stroke="#1c7ed6" stroke-dasharray="4 3"/>"##,
            LANES_TOP - 6.0
        ));
        svg.push(annotation(
            x,
            bottom + 14.0,
            &format!("queue ready {ms:.2} ms"),
        ));
    }
    if !run.skipped.is_empty() {
        svg.push(format!(
            r#"<text class="skipped" x="10" y="{:.1}">skipped (feature flag off): {}</text>"#,
            bottom + 34.0,
            escape(&run.skipped.join(", "))
        ));
    }
    svg.push("</svg>\n".to_owned());
    svg.join("\n")
}

fn header(summary: Option<&Summary>) -> String {
    match summary {
        Some(summary) => {
            let fields: Vec<String> = summary
                .fields
                .iter()
                .map(|(key, value)| format!("{key}={value}"))
                .collect();
            format!("corral run: {}", fields.join(" "))
        }
        None => "corral run: no PERF_GUARD line, the run did not finish".to_owned(),
    }
}

/// Gridlines with ms labels, every 1, 2 or 5 times a power of ten.
fn axis(scale: &Scale, bottom: f64) -> Vec<String> {
    let rough = scale.span_ms / 8.0;
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0]
        .into_iter()
        .map(|factor| factor * power)
        .find(|step| *step >= rough)
        .unwrap_or(10.0 * power);
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    let ticks = (scale.span_ms / step).floor() as usize;
    let line_top = LANES_TOP - 6.0;
    let mut axis = vec![format!(
        r##"<line x1="{PLOT_LEFT}" y1="{line_top}" x2="{PLOT_RIGHT}" y2="{line_top}" stroke="#868e96"/>"##
    )];
    for tick in 0..=ticks {
        let ms = tick as f64 * step;
        let x = scale.x(ms);
        axis.push(format!(
            r##"<line x1="{x:.1}" y1="{line_top}" x2="{x:.1}" y2="{bottom:.1}" stroke="#e9ecef"/>"##
        ));
        axis.push(format!(
            r##"<text x="{x:.1}" y="{:.1}" text-anchor="middle" font-size="11" fill="#495057">{ms:.decimals$} ms</text>"##,
            line_top - 4.0
        ));
    }
    axis
}

/// One task's lane: its label, its bar, and its sub-segment bars.
fn lane(task: &Task, index: usize, top: f64, height: f64, scale: &Scale) -> String {
    let outcome = task.outcome();
    let start = scale.x(task.start_ms);
    let end = scale.x(task.end_ms().unwrap_or(scale.span_ms));
    let bar_top = top + 4.0;
    let mut parts = vec![format!(
        r#"<g class="lane" data-task="{}" data-outcome="{}">"#,
        escape(&task.label),
        outcome.as_str()
    )];
    if index % 2 == 1 {
        parts.push(format!(
            r##"<rect x="0" y="{top:.1}" width="{WIDTH}" height="{height:.1}" fill="#f8f9fa"/>"##
        ));
    }
    parts.push(format!(
        r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
        PLOT_LEFT - 8.0,
        bar_top + 12.0,
        escape(&shorten(&task.label))
    ));
    let outline = if outcome == Outcome::Unfinished {
        r##" stroke="#495057" stroke-dasharray="3 2""##
    } else {
        ""
    };
    parts.push(format!(
        r#"<rect class="bar" x="{start:.1}" y="{bar_top:.1}" width="{:.1}" height="{BAR_HEIGHT}" fill="{}"{outline}><title>{}</title></rect>"#,
        (end - start).max(1.0),
        outcome.colour(),
        escape(&tooltip(task))
    ));
    parts.push(annotation(end, bar_top + 12.0, &bar_text(task)));
    // Sub-segments carry a duration but no start, so each is a thin bar
    // from the task's start: how long it took, not when it ran.
    for (row, (name, ms)) in task.subs.iter().enumerate() {
        let sub_end = scale.x((task.start_ms + ms).min(f64::MAX));
        parts.push(format!(
            r##"<rect class="sub" x="{start:.1}" y="{:.1}" width="{:.1}" height="3" fill="#495057" fill-opacity="0.6"><title>{}</title></rect>"##,
            bar_top + BAR_HEIGHT + 2.0 + SUB_STEP * row as f64,
            (sub_end - start).max(1.0),
            escape(&format!(
                "{}: sub-segment {name}, {ms:.2} ms (a duration: drawn from the task's start)",
                task.label
            ))
        ));
    }
    parts.push("</g>".to_owned());
    parts.join("\n")
}

/// The text beside a bar: its duration, and why it failed.
fn bar_text(task: &Task) -> String {
    let Some(end) = &task.end else {
        return "no end event".to_owned();
    };
    let duration = format!("{:.2} ms", end.duration_ms);
    match end.outcome {
        Outcome::Done => duration,
        Outcome::Fail => {
            let reason = end.detail.reason.as_deref().unwrap_or("fail");
            format!("{reason} {duration}")
        }
        outcome => format!("{} {duration}", outcome.as_str()),
    }
}

fn tooltip(task: &Task) -> String {
    let mut lines = vec![task.label.clone(), format!("start {:.2} ms", task.start_ms)];
    match &task.end {
        Some(end) => {
            lines.push(format!("duration {:.2} ms", end.duration_ms));
            lines.push(format!("outcome {}", end.outcome.as_str()));
            let detail = &end.detail;
            lines.extend(detail.attempts.as_ref().map(|n| format!("attempts {n}")));
            lines.extend(detail.reason.as_ref().map(|r| format!("reason {r}")));
            lines.extend(detail.message.as_ref().map(|m| format!("message {m}")));
        }
        None => lines
            .push("outcome unfinished: no end event, drawn to the end of the timeline".to_owned()),
    }
    lines.join("\n")
}

/// Dark text right of `x`, or left of it where it would run off the edge.
fn annotation(x: f64, y: f64, text: &str) -> String {
    let width = text.chars().count() as f64 * CHAR_WIDTH;
    let (x, anchor) = if x + 4.0 + width <= WIDTH - 4.0 {
        (x + 4.0, "start")
    } else {
        (x - 4.0, "end")
    };
    format!(
        r##"<text x="{x:.1}" y="{y:.1}" text-anchor="{anchor}" font-size="11" fill="#212529" {HALO}>{}</text>"##,
        escape(text)
    )
}

/// A label cut to fit the label column; the tooltip has it whole.
fn shorten(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARS {
        return label.to_owned();
    }
    let mut short: String = label.chars().take(LABEL_CHARS - 1).collect();
    short.push('…');
    short
}

/// Escapes text for XML content and attribute values. Control characters,
/// which XML 1.0 cannot carry even as references, are shown as `\u{..}`,
/// the way `events::quote` writes them.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() || c == '\u{fffe}' || c == '\u{ffff}' => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Event, Mode, RunTags, Summary as PerfGuard};
    use crate::outcome::FailReason;

    /// The same run in both formats, written by the real emitter.
    fn segment_lines(events: &[Event]) -> String {
        let tags = tags();
        events
            .iter()
            .map(|event| event.to_segment_line(&tags) + "\n")
            .collect()
    }

    fn json_lines(events: &[Event]) -> String {
        let tags = tags();
        events
            .iter()
            .map(|event| event.to_json(&tags).to_string() + "\n")
            .collect()
    }

    fn tags() -> RunTags {
        RunTags {
            phase: "post_plugin".into(),
            mode: Mode::On,
        }
    }

    fn start(label: &str, ms: f64) -> Event {
        Event::TaskStart {
            label: label.into(),
            ms,
        }
    }

    fn done(label: &str, ms: f64) -> Event {
        Event::TaskDone {
            label: label.into(),
            ms,
            attempts: 1,
            fuel: 81234,
        }
    }

    fn fail(label: &str, ms: f64, reason: FailReason, message: &str) -> Event {
        Event::TaskFail {
            label: label.into(),
            ms,
            attempts: 1,
            reason,
            message: message.into(),
        }
    }

    /// Three tasks (done, timeout, trap), written in end order with the
    /// `_start` of the earliest task last.
    fn three_tasks() -> Vec<Event> {
        vec![
            Event::TaskSkipped {
                label: "motd".into(),
                flag: "CORRAL_TASK_MOTD".into(),
            },
            Event::QueueInit {
                ms: 0.42,
                tasks: 3,
                unix_us: 1_700_000_000_000_000,
            },
            start("prompt", 0.61),
            start("history", 0.70),
            Event::Log {
                label: "prompt".into(),
                level: crate::events::LogLevel::Info,
                message: "hello".into(),
            },
            Event::Progress {
                label: "prompt".into(),
                done: 1,
                total: 2,
            },
            Event::SubSegment {
                label: "prompt".into(),
                name: "render".into(),
                ms: 1.2,
            },
            done("prompt", 3.1),
            fail("history", 1.5, FailReason::Trap, "guest panicked"),
            start("completions", 0.51),
            fail(
                "completions",
                1500.2,
                FailReason::Timeout,
                "exceeded timeout_ms=1500",
            ),
            Event::Summary(PerfGuard {
                total: 4,
                done: 1,
                fail: 1,
                timeout: 1,
                skipped: 1,
                accumulated_ms: 1504.8,
                wall_ms: 1503.9,
            }),
        ]
    }

    /// `(data-task, data-outcome)` of every lane, top to bottom.
    fn lanes(svg: &str) -> Vec<(String, String)> {
        let attribute = |text: &str, name: &str| {
            let value = text.split_once(&format!("{name}=\""))?.1;
            Some(value[..value.find('"')?].to_owned())
        };
        svg.split(r#"<g class="lane" "#)
            .skip(1)
            .map(|lane| {
                let tag = &lane[..lane.find('>').unwrap()];
                (
                    attribute(tag, "data-task").unwrap(),
                    attribute(tag, "data-outcome").unwrap(),
                )
            })
            .collect()
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(task, outcome)| (task.to_string(), outcome.to_string()))
            .collect()
    }

    #[test]
    fn segment_lines_give_one_lane_per_task_in_start_order() {
        let svg = render_svg(&segment_lines(&three_tasks())).unwrap();
        assert_eq!(
            lanes(&svg),
            pairs(&[
                ("completions", "timeout"),
                ("prompt", "done"),
                ("history", "fail"),
            ])
        );
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>\n"));
        assert!(
            svg.contains("corral run: total=4 done=1 fail=1 timeout=1 skipped=1 wall_ms=1503.9")
        );
        assert!(svg.contains("skipped (feature flag off): motd"));
        assert!(svg.contains(r#"class="queue-init""#));
        assert!(svg.contains("trap 1.50 ms"), "the reason is shown");
        assert!(svg.contains("sub-segment render, 1.20 ms"));
    }

    #[test]
    fn json_lines_give_the_same_lanes() {
        let events = three_tasks();
        let from_json = render_svg(&json_lines(&events)).unwrap();
        assert_eq!(
            lanes(&from_json),
            lanes(&render_svg(&segment_lines(&events)).unwrap())
        );
        assert!(from_json.contains("wall_ms=1503.9"));
        assert!(from_json.contains("skipped (feature flag off): motd"));
        assert!(from_json.contains("sub-segment render, 1.20 ms"));
    }

    #[test]
    fn a_bar_spans_start_to_start_plus_duration() {
        let svg = render_svg(&segment_lines(&[
            start("a", 250.0),
            done("a", 500.0),
            start("b", 0.0),
            done("b", 1000.0),
        ]))
        .unwrap();
        // 1000 ms over 790px from x=190: `a`, the second lane, runs from
        // 387.5 to 782.5.
        assert!(
            svg.contains(r#"class="bar" x="387.5" y="90.0" width="395.0""#),
            "{svg}"
        );
    }

    #[test]
    fn labels_with_underscores_are_told_apart() {
        let events = [
            start("gitstatus", 0.5),
            start("gitstatus_init", 0.6),
            Event::SubSegment {
                label: "gitstatus_init".into(),
                name: "load_start".into(),
                ms: 0.3,
            },
            fail("gitstatus_init", 2.0, FailReason::Fuel, "out of fuel"),
            done("gitstatus", 4.0),
        ];
        for text in [segment_lines(&events), json_lines(&events)] {
            let svg = render_svg(&text).unwrap();
            assert_eq!(
                lanes(&svg),
                pairs(&[("gitstatus", "done"), ("gitstatus_init", "fail")]),
                "{text}"
            );
            assert!(
                svg.contains("gitstatus_init: sub-segment load_start"),
                "{text}"
            );
        }
    }

    #[test]
    fn json_lines_name_the_task_so_no_name_is_ambiguous() {
        // As a segment line this sub-segment reads as `gitstatus_init`'s end.
        let svg = render_svg(&json_lines(&[
            start("gitstatus", 0.5),
            start("gitstatus_init", 0.6),
            Event::SubSegment {
                label: "gitstatus".into(),
                name: "init_fail".into(),
                ms: 0.2,
            },
            done("gitstatus_init", 2.0),
        ]))
        .unwrap();
        assert_eq!(
            lanes(&svg),
            pairs(&[("gitstatus", "unfinished"), ("gitstatus_init", "done")])
        );
        assert!(svg.contains("gitstatus: sub-segment init_fail"));
    }

    #[test]
    fn text_is_escaped_for_xml() {
        let events = [
            start("x", 0.5),
            fail("x", 1.0, FailReason::Error, "a <b> & \"c\" 'd' \u{1b}[31m"),
        ];
        for text in [segment_lines(&events), json_lines(&events)] {
            let svg = render_svg(&text).unwrap();
            assert!(
                svg.contains("message a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; \\u{1b}[31m"),
                "{svg}"
            );
            assert!(!svg.contains("<b>") && !svg.contains('\u{1b}'));
        }
    }

    #[test]
    fn a_task_without_an_end_event_is_unfinished() {
        let svg = render_svg(&segment_lines(&[
            start("slow", 0.5),
            start("quick", 0.6),
            done("quick", 2.0),
        ]))
        .unwrap();
        assert_eq!(
            lanes(&svg),
            pairs(&[("slow", "unfinished"), ("quick", "done")])
        );
        assert!(svg.contains("no end event"));
        assert!(svg.contains("no PERF_GUARD line"));
    }

    #[test]
    fn cancelled_tasks_have_their_own_outcome() {
        let svg = render_svg(&json_lines(&[
            start("x", 0.5),
            fail("x", 9.0, FailReason::Cancelled, "interrupted"),
        ]))
        .unwrap();
        assert_eq!(lanes(&svg), pairs(&[("x", "cancelled")]));
    }

    #[test]
    fn input_without_task_events_is_an_error() {
        for text in [
            "",
            "\n\n",
            "LOG task=x level=info message=\"hi\"\nnot an event\n",
        ] {
            assert!(
                matches!(render_svg(text), Err(ReportError::NoTasks)),
                "{text:?}"
            );
        }
    }

    #[test]
    fn malformed_event_lines_name_their_line() {
        for bad in [
            "SEGMENT name=async_task_x_done ms=soon",
            "SEGMENT name=async_task_x_done ms=inf",
            "SEGMENT ms=1.0",
            "SEGMENT name=async_task_x_fail ms=1.0 message=\"no end",
            "PERF_GUARD wall_ms 12",
            "{\"event\":\"segment\",",
            "{\"name\":\"async_task_x_start\",\"ms\":1.0}",
            "{\"event\":\"segment\",\"name\":\"async_task_x_start\",\"ms\":-1}",
        ] {
            let text = format!("SEGMENT name=async_task_x_start ms=0.5\n{bad}\n");
            assert!(
                matches!(
                    render_svg(&text),
                    Err(ReportError::Malformed { line: 2, .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn lines_that_are_not_events_are_skipped() {
        let text = "   Compiling corral\nSEGMENT name=async_task_x_start ms=0.5\nSEGMENTS are fun\n\
                    {\"event\":\"progress\",\"task\":\"x\",\"done\":1,\"total\":2}\n\
                    SEGMENT name=async_watchdog ms=900.00 tasks=x\n";
        assert_eq!(
            lanes(&render_svg(text).unwrap()),
            pairs(&[("x", "unfinished")])
        );
    }

    #[test]
    fn no_prefix_of_an_event_file_panics() {
        let events = three_tasks();
        for text in [segment_lines(&events), json_lines(&events)] {
            for (end, _) in text.char_indices() {
                let _ = render_svg(&text[..end]);
            }
        }
    }
}
