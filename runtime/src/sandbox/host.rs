//! The store data of one attempt and the `corral:task/host` interface.
//!
//! Guest calls into the host are cheap and bounded: log lines and segment
//! names are truncated, the number of log events per attempt is capped and
//! progress is rate-limited, so a hostile guest cannot flood the event log.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime::{CallHook, StoreContextMut};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::events::{Event, Events, LogLevel, quote};
use crate::sandbox::bindings::{Level, corral::task::host};
use crate::sandbox::capture::Capture;
use crate::sandbox::incremental::Incremental;
use crate::sandbox::limits::Limits;

/// Longest log message kept, in bytes; the rest is cut and counted.
const MAX_LOG_BYTES: usize = 4 * 1024;
/// Log events (guest logs and captured output lines) per attempt.
const MAX_LOG_EVENTS: u32 = 256;
/// Sub-segments open at once per attempt.
const MAX_OPEN_SEGMENTS: usize = 64;
const MAX_SEGMENT_NAME: usize = 64;
/// At most one progress event per interval, plus the final one.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(50);

/// Everything one attempt's `Store` owns.
pub struct StoreData {
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    pub limits: Limits,
    /// Instant at which the attempt's wall-clock budget runs out.
    pub deadline: Instant,
    pub stdout: Capture,
    pub stderr: Capture,
    label: String,
    events: Events,
    open_segments: HashMap<String, Instant>,
    log_events: u32,
    last_progress: Option<Instant>,
    /// Fuel left when the guest last called into the host.
    fuel_at_call: u64,
    /// Fuel spent by host functions on the guest's behalf.
    host_fuel: u64,
    /// The cursor and change feed of a task that imports
    /// `corral:task/incremental`.
    pub incremental: Option<Incremental>,
    /// `corral:task/files` work runs on the executor's thread, as the
    /// task's WASI file calls do (see `policy::runs_inline`).
    pub inline_files: bool,
}

impl StoreData {
    pub fn new(
        wasi: WasiCtx,
        table: ResourceTable,
        limits: Limits,
        deadline: Instant,
        (stdout, stderr): (Capture, Capture),
        label: &str,
        events: &Events,
    ) -> Self {
        StoreData {
            wasi,
            table,
            limits,
            deadline,
            stdout,
            stderr,
            label: label.to_string(),
            events: events.clone(),
            open_segments: HashMap::new(),
            log_events: 0,
            last_progress: None,
            fuel_at_call: 0,
            host_fuel: 0,
            incremental: None,
            inline_files: false,
        }
    }

    /// Counts host work done for the guest against its fuel budget, as a
    /// call hook: at each call into the host, fuel left is the store's fuel
    /// less the host work so far, and a guest with nothing left stops with
    /// the usual out-of-fuel trap. The host work is kept beside the store's
    /// fuel rather than subtracted from it (fuel set from a host call was
    /// seen to be lost when an asynchronous call suspended); the attempt
    /// adds it to what it reports (see [`StoreData::host_fuel`]).
    pub fn check_host_fuel(
        mut store: StoreContextMut<'_, Self>,
        hook: CallHook,
    ) -> wasmtime::Result<()> {
        if matches!(hook, CallHook::CallingHost) {
            let fuel = store.get_fuel()?;
            let data = store.data_mut();
            if data.host_fuel >= fuel && data.host_fuel > 0 {
                return Err(wasmtime::Trap::OutOfFuel.into());
            }
            data.fuel_at_call = fuel - data.host_fuel;
        }
        Ok(())
    }

    /// Fuel spent by the host on the guest's behalf in this attempt.
    pub fn host_fuel(&self) -> u64 {
        self.host_fuel
    }

    /// Records host work done for the guest.
    pub fn charge(&mut self, fuel: u64) {
        self.host_fuel = self.host_fuel.saturating_add(fuel);
    }

    /// Fuel the guest had when it made the current host call.
    pub fn fuel_at_call(&self) -> u64 {
        self.fuel_at_call
    }

    /// Emits a log event for this task, within the per-attempt cap.
    pub fn emit_log(&mut self, level: LogLevel, message: &str) {
        self.log_events += 1;
        if self.log_events > MAX_LOG_EVENTS {
            return;
        }
        let message = if self.log_events == MAX_LOG_EVENTS {
            format!("log limit of {MAX_LOG_EVENTS} events reached; further output dropped")
        } else {
            truncate(message, MAX_LOG_BYTES)
        };
        // Guest logs are events first; `tracing` gets them at debug level
        // (escaped), so corral's own warnings are not drowned by a guest's.
        tracing::debug!(
            target: "corral::guest",
            task = %self.label,
            level = level.as_str(),
            message = %quote(&message),
        );
        self.events.emit(Event::Log {
            label: self.label.clone(),
            level,
            message,
        });
    }

    /// Reports what the guest wrote to stdout and stderr, one log event per
    /// line, and says how much was dropped past the capture cap.
    pub fn flush_captured_output(&mut self) {
        for (stream, capture, level) in [
            ("stdout", self.stdout.clone(), LogLevel::Info),
            ("stderr", self.stderr.clone(), LogLevel::Warn),
        ] {
            let (text, dropped) = capture.contents();
            for line in text.lines() {
                self.emit_log(level, &format!("{stream}: {line}"));
            }
            if dropped > 0 {
                self.emit_log(
                    LogLevel::Warn,
                    &format!("{stream} truncated: {dropped} bytes dropped past the capture cap"),
                );
            }
        }
    }
}

impl WasiView for StoreData {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl host::Host for StoreData {
    fn log(&mut self, level: Level, message: String) {
        let level = match level {
            Level::Trace => LogLevel::Trace,
            Level::Debug => LogLevel::Debug,
            Level::Info => LogLevel::Info,
            Level::Warn => LogLevel::Warn,
            Level::Error => LogLevel::Error,
        };
        self.emit_log(level, &message);
    }

    fn segment_start(&mut self, name: String) {
        if self.open_segments.len() >= MAX_OPEN_SEGMENTS {
            self.emit_log(
                LogLevel::Warn,
                &format!("segment-start ignored: {MAX_OPEN_SEGMENTS} segments already open"),
            );
            return;
        }
        self.open_segments
            .insert(segment_name(&name), Instant::now());
    }

    fn segment_end(&mut self, name: String) {
        let name = segment_name(&name);
        match self.open_segments.remove(&name) {
            Some(started) => self.events.emit(Event::SubSegment {
                label: self.label.clone(),
                name,
                ms: started.elapsed().as_secs_f64() * 1000.0,
            }),
            None => self.emit_log(
                LogLevel::Warn,
                &format!("segment-end for {name:?} without a matching segment-start"),
            ),
        }
    }

    fn progress(&mut self, done: u64, total: u64) {
        let now = Instant::now();
        let due = self
            .last_progress
            .is_none_or(|last| now.duration_since(last) >= PROGRESS_INTERVAL);
        if due || done >= total {
            self.last_progress = Some(now);
            self.events.emit(Event::Progress {
                label: self.label.clone(),
                done,
                total,
            });
        }
    }
}

/// Sub-segment names become part of segment names: keep them to
/// `[a-z0-9_]`, bounded in length.
fn segment_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .take(MAX_SEGMENT_NAME)
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '_' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '_',
        })
        .collect();
    if cleaned.is_empty() {
        "unnamed".to_string()
    } else {
        cleaned
    }
}

fn truncate(message: &str, max: usize) -> String {
    if message.len() <= max {
        return message.to_string();
    }
    let mut end = max;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}... ({} bytes truncated)",
        &message[..end],
        message.len() - end
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_names_are_safe_for_event_lines() {
        assert_eq!(segment_name("Parse Refs"), "parse_refs");
        assert_eq!(segment_name("a=b\n"), "a_b_");
        assert_eq!(segment_name(""), "unnamed");
        assert_eq!(segment_name(&"x".repeat(500)).len(), MAX_SEGMENT_NAME);
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        let text = "é".repeat(10);
        let cut = truncate(&text, 5);
        assert!(cut.starts_with("éé"), "{cut}");
        assert!(cut.ends_with("(16 bytes truncated)"), "{cut}");
    }
}
