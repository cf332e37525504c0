//! `corral watch`: a terminal view of a running or finished run, following
//! its event file. The file is read on its own thread and handed over line
//! by line, so the UI loop never waits on I/O and keys are handled within
//! one frame.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use ratatui::Frame;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

use crate::events::{Decoder, FailReason};
use crate::views::run_view::{RunView, TaskStatus, TaskView};

/// How often the screen is redrawn and keys are checked.
const FRAME: Duration = Duration::from_millis(100);
const BAR_WIDTH: usize = 12;

/// What the follower thread reports.
enum Followed {
    Line(String),
    /// The file was replaced by a new run: start over.
    Restarted,
}

/// Shows the run recorded in `events` until the user presses `q`.
/// `timeouts` maps task labels to their timeout, for the elapsed bars.
pub fn watch(events: &Path, timeouts: HashMap<String, u64>) -> io::Result<()> {
    let followed = follow(events.to_path_buf());
    let mut view = RunView::default();
    let mut decoder = Decoder::default();
    let mut first_seen: HashMap<String, Instant> = HashMap::new();
    let mut terminal = ratatui::init();
    let title = format!("corral watch {}  (q quits)", events.display());
    let outcome = loop {
        for message in followed.try_iter() {
            match message {
                Followed::Line(line) => {
                    // A malformed line (a run killed mid-write) is skipped;
                    // the view shows what the rest of the file says.
                    if let Ok(Some(event)) = decoder.decode(&line) {
                        view.apply(&event);
                    }
                }
                Followed::Restarted => {
                    view = RunView::default();
                    decoder = Decoder::default();
                    first_seen.clear();
                }
            }
        }
        for task in &view.tasks {
            first_seen
                .entry(task.label.clone())
                .or_insert_with(Instant::now);
        }
        if let Err(error) =
            terminal.draw(|frame| render(frame, &title, &view, &timeouts, &first_seen))
        {
            break Err(error);
        }
        match event::poll(FRAME).and_then(|ready| {
            if ready {
                event::read().map(Some)
            } else {
                Ok(None)
            }
        }) {
            Ok(Some(Event::Key(key))) if key.kind == KeyEventKind::Press => {
                let ctrl_c =
                    key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
                if matches!(key.code, KeyCode::Char('q') | KeyCode::Esc) || ctrl_c {
                    break Ok(());
                }
            }
            Ok(_) => {}
            Err(error) => break Err(error),
        }
    };
    ratatui::restore();
    outcome
}

fn render(
    frame: &mut Frame,
    title: &str,
    view: &RunView,
    timeouts: &HashMap<String, u64>,
    first_seen: &HashMap<String, Instant>,
) {
    let [header, body] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(frame.area());
    let summary = match &view.summary {
        Some(summary) => format!(
            "finished: {} done, {} failed, {} timed out, {} skipped in {:.1} ms",
            summary.done, summary.fail, summary.timeout, summary.skipped, summary.wall_ms,
        ),
        None if view.tasks.is_empty() => "waiting for events...".to_string(),
        None => "running".to_string(),
    };
    frame.render_widget(
        Paragraph::new(Line::from(format!("{summary}   {title}"))),
        header,
    );

    let rows = view.tasks.iter().map(|task| {
        let timeout = timeouts.get(&task.label).copied();
        let elapsed = task.duration_ms.unwrap_or_else(|| {
            first_seen
                .get(&task.label)
                .map_or(0.0, |seen| seen.elapsed().as_secs_f64() * 1000.0)
        });
        let (state, color) = state_text(task);
        Row::new(vec![
            Cell::from(task.label.clone()),
            Cell::from(state).style(Style::default().fg(color)),
            Cell::from(task.attempts.map_or("-".into(), |a| a.to_string())),
            Cell::from(elapsed_bar(elapsed, timeout, &task.status)),
            Cell::from(task.fuel.map_or("-".into(), |fuel| fuel.to_string())),
            Cell::from(
                task.progress
                    .map_or("-".into(), |(done, total)| format!("{done}/{total}")),
            ),
            Cell::from(
                task.segments
                    .iter()
                    .map(|(name, ms)| format!("{name} {ms:.1}ms"))
                    .collect::<Vec<_>>()
                    .join("  "),
            ),
        ])
    });
    let widths = [
        Constraint::Length(24),
        Constraint::Length(16),
        Constraint::Length(7),
        Constraint::Length(BAR_WIDTH as u16 + 22),
        Constraint::Length(12),
        Constraint::Length(10),
        Constraint::Min(10),
    ];
    let header_row = Row::new([
        "task",
        "state",
        "attempt",
        "elapsed / timeout",
        "fuel",
        "progress",
        "sub-segments",
    ])
    .style(Style::default().add_modifier(Modifier::BOLD));
    let table = Table::new(rows, widths)
        .header(header_row)
        .block(Block::bordered().title("tasks"));
    frame.render_widget(table, body);
}

fn state_text(task: &TaskView) -> (String, Color) {
    match &task.status {
        TaskStatus::Running => ("running".into(), Color::Yellow),
        TaskStatus::Done => ("done".into(), Color::Green),
        TaskStatus::Failed(FailReason::Timeout) => ("fail timeout".into(), Color::LightRed),
        TaskStatus::Failed(reason) => (format!("fail {reason}"), Color::Red),
        TaskStatus::Skipped => ("skipped".into(), Color::DarkGray),
    }
}

/// `[#####-------] 120/1500 ms`: how much of its timeout a task has used.
fn elapsed_bar(elapsed_ms: f64, timeout_ms: Option<u64>, status: &TaskStatus) -> String {
    if *status == TaskStatus::Skipped {
        return String::new();
    }
    match timeout_ms {
        Some(timeout) if timeout > 0 => {
            let filled =
                ((elapsed_ms / timeout as f64).clamp(0.0, 1.0) * BAR_WIDTH as f64).round() as usize;
            format!(
                "[{}{}] {:.0}/{timeout} ms",
                "#".repeat(filled),
                "-".repeat(BAR_WIDTH - filled),
                elapsed_ms
            )
        }
        _ => format!("{elapsed_ms:.0} ms"),
    }
}

/// Follows `path` like `tail -f` from its beginning: waits for it to
/// appear, sends each complete line, and starts over when the file is
/// replaced or truncated by a new run.
fn follow(path: PathBuf) -> Receiver<Followed> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut current: Option<(BufReader<File>, u64)> = None;
        let mut partial = String::new();
        loop {
            let identity = std::fs::metadata(&path).ok().map(|m| (m.ino(), m.len()));
            let replaced = match (&current, identity) {
                (Some((reader, inode)), Some((now_inode, len))) => {
                    *inode != now_inode
                        || reader
                            .get_ref()
                            .stream_position()
                            .is_ok_and(|pos| len < pos)
                }
                (None, Some(_)) => true,
                _ => false,
            };
            if replaced {
                let had_file = current.is_some();
                current = File::open(&path).ok().map(|file| {
                    let inode = file.metadata().map(|m| m.ino()).unwrap_or(0);
                    (BufReader::new(file), inode)
                });
                partial.clear();
                if had_file && sender.send(Followed::Restarted).is_err() {
                    return;
                }
            }
            let mut progressed = false;
            if let Some((reader, _)) = &mut current {
                while let Ok(read) = reader.read_line(&mut partial) {
                    if read == 0 {
                        break;
                    }
                    progressed = true;
                    if partial.ends_with('\n') {
                        let line = std::mem::take(&mut partial);
                        if sender.send(Followed::Line(line)).is_err() {
                            return;
                        }
                    }
                }
            }
            if !progressed {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    });
    receiver
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_show_the_share_of_the_timeout_used() {
        assert_eq!(
            elapsed_bar(750.0, Some(1500), &TaskStatus::Running),
            "[######------] 750/1500 ms"
        );
        assert_eq!(
            elapsed_bar(9000.0, Some(1500), &TaskStatus::Done),
            "[############] 9000/1500 ms"
        );
        assert_eq!(elapsed_bar(12.4, None, &TaskStatus::Done), "12 ms");
    }
}
