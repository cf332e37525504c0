//! The live status line of `corral run` on a terminal: which tasks are
//! running, how much of their timeout they have used, and their progress.
//! It sits below the event lines, is redrawn in place and erased at the
//! end, so what remains on screen is exactly the plain event lines.

use std::collections::HashMap;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use crate::events::{Decoder, Event, Overlay};
use crate::views::run_view::{RunView, TaskStatus};

/// How often the line is redrawn while nothing else happens.
const REDRAW: Duration = Duration::from_millis(100);
const CLEAR: &str = "\r\x1b[2K";

pub struct LiveStatus {
    view: RunView,
    first_seen: HashMap<String, Instant>,
    /// Task label to `timeout_ms`.
    timeouts: HashMap<String, u64>,
    shown: bool,
}

impl LiveStatus {
    pub fn new(timeouts: HashMap<String, u64>) -> Self {
        LiveStatus {
            view: RunView::default(),
            first_seen: HashMap::new(),
            timeouts,
            shown: false,
        }
    }

    fn text(&self) -> String {
        line(&self.view, &self.timeouts, |label| {
            self.first_seen
                .get(label)
                .map_or(0, |seen| seen.elapsed().as_millis())
        })
    }
}

/// The status line of `view`; `elapsed` gives how long a running task has
/// run, in ms. Empty when no task is running.
fn line(view: &RunView, timeouts: &HashMap<String, u64>, elapsed: impl Fn(&str) -> u128) -> String {
    let running: Vec<String> = view
        .tasks
        .iter()
        .filter(|task| task.status == TaskStatus::Running)
        .map(|task| {
            let elapsed = elapsed(&task.label);
            let mut text = match timeouts.get(&task.label) {
                Some(timeout) => format!("{} {elapsed}/{timeout}ms", task.label),
                None => format!("{} {elapsed}ms", task.label),
            };
            if let Some((done, total)) = task.progress {
                text.push_str(&format!(" [{done}/{total}]"));
            }
            text
        })
        .collect();
    if running.is_empty() {
        return String::new();
    }
    format!(
        "corral: running {} | done {} failed {}",
        running.join(", "),
        view.count(|status| *status == TaskStatus::Done),
        view.count(|status| matches!(status, TaskStatus::Failed(_))),
    )
}

/// The status line after the event lines `events`, every running task
/// shown as having run `elapsed_ms`: the line without the clock, for
/// snapshot tests. A line the decoder rejects is skipped, as `watch` does.
pub fn status_line_of(events: &str, timeouts: &HashMap<String, u64>, elapsed_ms: u128) -> String {
    let mut view = RunView::default();
    let mut decoder = Decoder::default();
    for event in events
        .lines()
        .filter_map(|line| decoder.decode(line).ok().flatten())
    {
        view.apply(&event);
    }
    line(&view, timeouts, |_| elapsed_ms)
}

impl Overlay for LiveStatus {
    fn redraw_every(&self) -> Duration {
        REDRAW
    }

    fn observe(&mut self, event: &Event) {
        self.view.apply(event);
        if let Event::TaskStart { label, .. } = event {
            self.first_seen
                .entry(label.clone())
                .or_insert_with(Instant::now);
        }
    }

    /// Erases the status line, if shown, so event lines can be written.
    fn erase(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if std::mem::take(&mut self.shown) {
            out.write_all(CLEAR.as_bytes())?;
        }
        Ok(())
    }

    /// Draws the status line (without a newline) while tasks are running.
    fn draw(&mut self, out: &mut dyn Write) -> io::Result<()> {
        self.erase(out)?;
        let text = self.text();
        if text.is_empty() {
            return Ok(());
        }
        let width =
            ratatui::crossterm::terminal::size().map_or(80, |(columns, _)| columns as usize);
        let text: String = text.chars().take(width.saturating_sub(1)).collect();
        out.write_all(text.as_bytes())?;
        self.shown = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_running_tasks_and_erases_itself() {
        let mut status = LiveStatus::new(HashMap::from([("a".to_string(), 1500)]));
        let start = |label: &str| Event::TaskStart {
            label: label.into(),
            ms: 1.0,
        };
        let done = |label: &str| Event::TaskDone {
            label: label.into(),
            ms: 2.0,
            attempts: 1,
            fuel: 1,
            budget: None,
        };
        status.observe(&start("a"));
        status.observe(&Event::Progress {
            label: "a".into(),
            done: 2,
            total: 5,
        });
        status.observe(&start("b"));
        status.observe(&done("b"));
        let mut out = Vec::new();
        status.draw(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("corral: running a "), "{text}");
        assert!(text.contains("/1500ms [2/5] | done 1 failed 0"), "{text}");
        let mut out = Vec::new();
        status.erase(&mut out).unwrap();
        assert_eq!(out, CLEAR.as_bytes());
        status.observe(&done("a"));
        let mut out = Vec::new();
        status.draw(&mut out).unwrap();
        assert!(out.is_empty(), "nothing is drawn once no task runs");
    }
}
