//! The live status line of `corral run` on a terminal: which tasks are
//! running, how much of their timeout they have used, and their progress.
//! It sits below the event lines, is redrawn in place and erased at the
//! end, so what remains on screen is exactly the plain event lines.

use std::collections::HashMap;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use crate::run_view::{EventLine, RunView, TaskState};

/// How often the line is redrawn while nothing else happens.
pub const REDRAW: Duration = Duration::from_millis(100);
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

    /// Takes note of an event line about to be written.
    pub fn observe(&mut self, line: &str) {
        if let Some(event) = EventLine::parse(line) {
            self.view.apply(event);
        }
        for task in &self.view.tasks {
            self.first_seen
                .entry(task.label.clone())
                .or_insert_with(Instant::now);
        }
    }

    /// Erases the status line, if shown, so event lines can be written.
    pub fn erase(&mut self, out: &mut impl Write) -> io::Result<()> {
        if std::mem::take(&mut self.shown) {
            out.write_all(CLEAR.as_bytes())?;
        }
        Ok(())
    }

    /// Draws the status line (without a newline) while tasks are running.
    pub fn draw(&mut self, out: &mut impl Write) -> io::Result<()> {
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

    fn text(&self) -> String {
        let running: Vec<String> = self
            .view
            .tasks
            .iter()
            .filter(|task| task.state == TaskState::Running)
            .map(|task| {
                let elapsed = self
                    .first_seen
                    .get(&task.label)
                    .map_or(0, |seen| seen.elapsed().as_millis());
                let mut text = match self.timeouts.get(&task.label) {
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
        let finished = |wanted: fn(&TaskState) -> bool| {
            self.view
                .tasks
                .iter()
                .filter(|task| wanted(&task.state))
                .count()
        };
        format!(
            "corral: running {} | done {} failed {}",
            running.join(", "),
            finished(|state| *state == TaskState::Done),
            finished(|state| matches!(state, TaskState::Failed(_))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_running_tasks_and_erases_itself() {
        let mut status = LiveStatus::new(HashMap::from([("a".to_string(), 1500)]));
        status.observe("SEGMENT name=async_task_a_start ms=1.0 phase=p sample=on");
        status.observe("PROGRESS task=a done=2 total=5");
        status.observe("SEGMENT name=async_task_b_start ms=1.0 phase=p sample=on");
        status.observe("SEGMENT name=async_task_b_done ms=2.0 phase=p sample=on fuel=1 attempts=1");
        let mut out = Vec::new();
        status.draw(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("corral: running a "), "{text}");
        assert!(text.contains("/1500ms [2/5] | done 1 failed 0"), "{text}");
        let mut out = Vec::new();
        status.erase(&mut out).unwrap();
        assert_eq!(out, CLEAR.as_bytes());
        status.observe("SEGMENT name=async_task_a_done ms=5.0 phase=p sample=on fuel=1 attempts=1");
        let mut out = Vec::new();
        status.draw(&mut out).unwrap();
        assert!(out.is_empty(), "nothing is drawn once no task runs");
    }
}
