//! Drawing a [`Timeline`] as SVG: axis, lanes, bars and annotations.

use super::{Outcome, Timeline, end_ms, start_ms};
use crate::events::{BudgetCheck, Summary};
use crate::views::run_view::{TaskStatus, TaskView};

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
pub(super) const MIN_SPAN_MS: f64 = 1.0;
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

pub(super) fn draw(run: &Timeline) -> String {
    let scale = Scale {
        span_ms: run.span_ms(),
    };
    let mut lanes = Vec::new();
    let mut top = LANES_TOP;
    for (index, task) in run.tasks.iter().enumerate() {
        let height = LANE_HEIGHT + SUB_STEP * task.segments.len() as f64;
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
            r#"<text class="skipped" x="10" y="{:.1}">skipped (feature flag off, or running in another corral): {}</text>"#,
            bottom + 34.0,
            escape(&run.skipped.join(", "))
        ));
    }
    svg.push("</svg>\n".to_owned());
    svg.join("\n")
}

fn header(summary: Option<&Summary>) -> String {
    match summary {
        Some(s) => {
            let mut header = format!(
                "corral run: total={} done={} fail={} timeout={} skipped={} wall_ms={:.1}",
                s.total, s.done, s.fail, s.timeout, s.skipped, s.wall_ms
            );
            if s.budget_over > 0 {
                header.push_str(&format!(" over_budget={}", s.budget_over));
            }
            header
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
fn lane(task: &TaskView, index: usize, top: f64, height: f64, scale: &Scale) -> String {
    let outcome = Outcome::of(task);
    let start = scale.x(start_ms(task));
    let end = scale.x(end_ms(task).unwrap_or(scale.span_ms));
    let bar_top = top + 4.0;
    let over_budget = task.budget.as_ref().is_some_and(|budget| budget.over);
    let mut parts = vec![format!(
        r#"<g class="lane" data-task="{}" data-outcome="{}"{}>"#,
        escape(&task.label),
        outcome.as_str(),
        if over_budget {
            r#" data-budget="over""#
        } else {
            ""
        }
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
    } else if over_budget {
        r##" stroke="#c92a2a" stroke-width="2""##
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
    for (row, (name, ms)) in task.segments.iter().enumerate() {
        let sub_end = scale.x((start_ms(task) + ms).min(f64::MAX));
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
fn bar_text(task: &TaskView) -> String {
    let Some(duration_ms) = task.duration_ms else {
        return "no end event".to_owned();
    };
    let duration = format!("{duration_ms:.2} ms");
    match (Outcome::of(task), &task.status) {
        (Outcome::Fail, TaskStatus::Failed(reason)) => format!("{reason} {duration}"),
        (Outcome::Done, _) => match &task.budget {
            Some(budget) if budget.over => format!("{duration} over budget ({})", budgets(budget)),
            _ => duration,
        },
        (outcome, _) => format!("{} {duration}", outcome.as_str()),
    }
}

/// `budget_ms 20, budget_fuel 1000`: the budgets a task has.
fn budgets(budget: &BudgetCheck) -> String {
    let parts: Vec<String> = [
        budget.budget_ms.map(|ms| format!("budget_ms {ms}")),
        budget.budget_fuel.map(|fuel| format!("budget_fuel {fuel}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    parts.join(", ")
}

fn tooltip(task: &TaskView) -> String {
    let mut lines = vec![
        task.label.clone(),
        format!("start {:.2} ms", start_ms(task)),
    ];
    match task.duration_ms {
        Some(duration_ms) => {
            lines.push(format!("duration {duration_ms:.2} ms"));
            lines.push(format!("outcome {}", Outcome::of(task).as_str()));
            lines.extend(task.attempts.map(|n| format!("attempts {n}")));
            lines.extend(task.fuel.map(|fuel| format!("fuel {fuel}")));
            if let Some(budget) = &task.budget {
                let verdict = if budget.over { "over" } else { "ok" };
                lines.push(format!("budget {verdict}: {}", budgets(budget)));
            }
            if let TaskStatus::Failed(reason) = task.status {
                lines.push(format!("reason {reason}"));
            }
            lines.extend(task.message.as_ref().map(|m| format!("message {m}")));
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
