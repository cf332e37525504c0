//! Events: what a run reports, and the sinks that write them.
//!
//! Every event is formatted on the caller's thread and handed to one writer
//! thread, so a slow terminal or pipe never stalls the async executor and
//! lines from concurrent tasks never interleave.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Instant;

use serde_json::{Map, Value, json};

use crate::outcome::FailReason;
use crate::progress::{self, LiveStatus};

/// How events are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum EventFormat {
    /// `SEGMENT name=... ms=...` lines, for people and performance tooling.
    #[default]
    Segment,
    /// One JSON object per line, for tools.
    Json,
}

/// Where events are written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum EventTarget {
    #[default]
    Stderr,
    Stdout,
    File(PathBuf),
}

impl EventTarget {
    /// Parses the `--events` argument: `-` is stdout, anything else a file.
    pub fn from_arg(arg: &str) -> Self {
        if arg == "-" {
            Self::Stdout
        } else {
            Self::File(PathBuf::from(arg))
        }
    }
}

/// The run's mode, reported as `sample=` on every segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    On,
    Shadow,
    Off,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::On => "on",
            Mode::Shadow => "shadow",
            Mode::Off => "off",
        }
    }
}

/// A guest log level, mirrored from the WIT `level` enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

/// Counts for the closing `PERF_GUARD` line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    pub total: u32,
    pub done: u32,
    pub fail: u32,
    pub timeout: u32,
    pub skipped: u32,
    pub accumulated_ms: f64,
    pub wall_ms: f64,
}

/// One thing that happened in a run.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    QueueInit {
        ms: f64,
        tasks: usize,
        /// Wall-clock time of the event, in microseconds since the Unix
        /// epoch, so runs can be lined up with other processes (a shell's
        /// prompt, say).
        unix_us: u64,
    },
    TaskStart {
        label: String,
        ms: f64,
    },
    TaskDone {
        label: String,
        ms: f64,
        attempts: u32,
        fuel: u64,
    },
    TaskFail {
        label: String,
        ms: f64,
        attempts: u32,
        reason: FailReason,
        message: String,
    },
    /// A task whose feature flag is off: never started.
    TaskSkipped {
        label: String,
        flag: String,
    },
    /// A guest's own `segment-start`/`segment-end` pair.
    SubSegment {
        label: String,
        name: String,
        ms: f64,
    },
    Log {
        label: String,
        level: LogLevel,
        message: String,
    },
    Progress {
        label: String,
        done: u64,
        total: u64,
    },
    /// The run stalled in the host; the listed tasks are being cancelled.
    Watchdog {
        stalled_ms: f64,
        tasks: Vec<String>,
    },
    Summary(Summary),
}

/// Fields every segment line carries.
#[derive(Clone, Debug)]
pub struct RunTags {
    pub phase: String,
    pub mode: Mode,
}

impl Event {
    /// Formats the event as one `SEGMENT`/`PERF_GUARD`/`LOG`/`PROGRESS` line.
    pub fn to_segment_line(&self, tags: &RunTags) -> String {
        let tail = format!("phase={} sample={}", tags.phase, tags.mode.as_str());
        match self {
            Event::QueueInit { ms, tasks, unix_us } => format!(
                "SEGMENT name=async_queue_init ms={ms:.2} {tail} tasks={tasks} unix_us={unix_us}"
            ),
            Event::TaskStart { label, ms } => {
                format!("SEGMENT name=async_task_{label}_start ms={ms:.2} {tail}")
            }
            Event::TaskDone {
                label,
                ms,
                attempts,
                fuel,
            } => format!(
                "SEGMENT name=async_task_{label}_done ms={ms:.2} {tail} fuel={fuel} attempts={attempts}"
            ),
            Event::TaskFail {
                label,
                ms,
                attempts,
                reason,
                message,
            } => format!(
                "SEGMENT name=async_task_{label}_fail ms={ms:.2} {tail} reason={} attempts={attempts} message={}",
                reason.as_str(),
                quote(message)
            ),
            Event::TaskSkipped { label, flag } => {
                format!("SEGMENT name=async_task_{label}_skipped ms=0.00 {tail} flag={flag}")
            }
            Event::SubSegment { label, name, ms } => {
                format!("SEGMENT name=async_task_{label}_{name} ms={ms:.2} {tail}")
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
            Event::TaskSkipped { label, flag } => json!({
                "event": "skipped", "task": label, "flag": flag,
                "phase": tags.phase, "sample": tags.mode.as_str(),
            }),
            Event::SubSegment { label, name, ms } => segment(
                format!("async_task_{label}_{name}"),
                *ms,
                json!({ "task": label }),
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

/// Quotes a free-text value so a line stays one line of `key=value` pairs
/// and no control character (an ANSI escape, a bell) reaches a terminal raw.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Splits `key=value key="quoted value"` pairs, undoing `events::quote`.
pub fn parse_fields(mut rest: &str) -> Result<HashMap<String, String>, String> {
    let mut fields = HashMap::new();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return Ok(fields);
        }
        let (key, after) = rest
            .split_once('=')
            .filter(|(key, _)| !key.is_empty() && !key.contains(char::is_whitespace))
            .ok_or("a field is not key=value")?;
        let (value, next) = match after.strip_prefix('"') {
            Some(quoted) => unquote(quoted).ok_or("a quoted value does not end")?,
            None => {
                let (value, next) = after.split_once(char::is_whitespace).unwrap_or((after, ""));
                (value.to_owned(), next)
            }
        };
        fields.insert(key.to_owned(), value);
        rest = next;
    }
}

/// Reads a quoted value up to its closing quote (`quoted` starts after the
/// opening one); returns the value and the text after it.
fn unquote(quoted: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = quoted.char_indices();
    while let Some((index, c)) = chars.next() {
        match c {
            '"' => return Some((value, &quoted[index + 1..])),
            '\\' => match chars.next()?.1 {
                'n' => value.push('\n'),
                't' => value.push('\t'),
                'u' => {
                    if chars.next()?.1 != '{' {
                        return None;
                    }
                    let hex: String = chars
                        .by_ref()
                        .map(|(_, c)| c)
                        .take_while(|c| *c != '}')
                        .collect();
                    let code = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                    value.push(code.unwrap_or(char::REPLACEMENT_CHARACTER));
                }
                other => value.push(other),
            },
            c => value.push(c),
        }
    }
    None
}

/// The sending half of a run's event stream; cheap to clone.
#[derive(Clone)]
pub struct Events {
    start: Instant,
    tags: std::sync::Arc<RunTags>,
    format: EventFormat,
    lines: mpsc::Sender<String>,
}

/// Owns the writer thread; `finish` flushes and reports write errors.
pub struct EventWriter {
    thread: JoinHandle<io::Result<()>>,
}

impl Events {
    /// Opens the target and starts the writer thread. `start` is the
    /// process start, against which `_start` and queue times are measured.
    /// With `live`, a status line is kept below the event lines (for a
    /// terminal).
    pub fn open(
        target: &EventTarget,
        format: EventFormat,
        tags: RunTags,
        start: Instant,
        live: Option<LiveStatus>,
    ) -> io::Result<(Events, EventWriter)> {
        let out: Box<dyn Write + Send> = match target {
            EventTarget::Stderr => Box::new(io::stderr()),
            EventTarget::Stdout => Box::new(io::stdout()),
            EventTarget::File(path) => Box::new(open_event_file(path)?),
        };
        let (lines, receiver) = mpsc::channel::<String>();
        let thread = std::thread::Builder::new()
            .name("corral-events".into())
            .spawn(move || write_lines(out, receiver, live))?;
        Ok((
            Events {
                start,
                tags: std::sync::Arc::new(tags),
                format,
                lines,
            },
            EventWriter { thread },
        ))
    }

    /// The `async_queue_init` event, now.
    pub fn queue_init(&self, tasks: usize) -> Event {
        let unix_us = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_micros() as u64);
        Event::QueueInit {
            ms: self.since_start_ms(),
            tasks,
            unix_us,
        }
    }

    /// Milliseconds since process start.
    pub fn since_start_ms(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * 1000.0
    }

    pub fn emit(&self, event: Event) {
        tracing::debug!(?event, "event");
        let line = match self.format {
            EventFormat::Segment => event.to_segment_line(&self.tags),
            EventFormat::Json => event.to_json(&self.tags).to_string(),
        };
        // The writer only goes away after every sender is dropped.
        let _ = self.lines.send(line);
    }
}

impl EventWriter {
    /// Waits until every event sent so far is written and flushed. Every
    /// `Events` clone must have been dropped first.
    pub fn finish(self) -> io::Result<()> {
        self.thread
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("event writer panicked")))
    }
}

fn open_event_file(path: &Path) -> io::Result<File> {
    File::create(path).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot open event file {}: {e}", path.display()),
        )
    })
}

fn write_lines(
    out: Box<dyn Write + Send>,
    receiver: mpsc::Receiver<String>,
    mut live: Option<LiveStatus>,
) -> io::Result<()> {
    let mut out = BufWriter::new(out);
    loop {
        let first = match &live {
            None => receiver.recv().ok(),
            Some(_) => match receiver.recv_timeout(progress::REDRAW) {
                Ok(line) => Some(line),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            },
        };
        if first.is_none() && live.is_none() {
            break;
        }
        if let Some(status) = &mut live {
            status.erase(&mut out)?;
        }
        // Drain whatever is queued, then flush: lines appear live, and a
        // killed process leaves only complete lines behind.
        for line in first.into_iter().chain(receiver.try_iter()) {
            if let Some(status) = &mut live {
                status.observe(&line);
            }
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
        }
        if let Some(status) = &mut live {
            status.draw(&mut out)?;
        }
        out.flush()?;
    }
    if let Some(status) = &mut live {
        status.erase(&mut out)?;
    }
    out.flush()
}
