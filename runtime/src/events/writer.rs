//! The writer thread: every event is handed to one thread that encodes and
//! writes it, so a slow terminal or pipe never stalls the async executor and
//! lines from concurrent tasks never interleave.

use std::io::{self, BufWriter, Write};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::format::{EventFormat, EventTarget};
use super::model::{Event, RunTags};
use crate::fs::named;

/// How long the writer lets events gather after the first of a burst:
/// the wake-ups it saves sit on the guest's cores (the git task's run
/// sends ~15 events), and a line still shows within a few milliseconds.
const GATHER: Duration = Duration::from_millis(2);

/// Something drawn below the event lines on a terminal (the live status
/// line), fed the typed events as they are written.
pub trait Overlay: Send {
    /// How often to redraw while no event arrives.
    fn redraw_every(&self) -> Duration;
    fn observe(&mut self, event: &Event);
    /// Removes the overlay so event lines can be written.
    fn erase(&mut self, out: &mut dyn Write) -> io::Result<()>;
    fn draw(&mut self, out: &mut dyn Write) -> io::Result<()>;
}

/// The sending half of a run's event stream; cheap to clone.
#[derive(Clone)]
pub struct Events {
    start: Instant,
    events: mpsc::Sender<Event>,
}

/// Owns the writer thread; `finish` flushes and reports write errors.
pub struct EventWriter {
    thread: JoinHandle<io::Result<()>>,
    /// Signalled once the thread has written everything.
    done: mpsc::Receiver<()>,
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
        overlay: Option<Box<dyn Overlay>>,
    ) -> io::Result<(Events, EventWriter)> {
        let out: Box<dyn Write + Send> = match target {
            EventTarget::Stderr => Box::new(io::stderr()),
            EventTarget::Stdout => Box::new(io::stdout()),
            EventTarget::Discard => Box::new(io::sink()),
            EventTarget::File(path) => Box::new(
                named::open_for_writing(path, named::FIFO_OPEN_TIMEOUT).map_err(|e| {
                    io::Error::new(
                        e.kind(),
                        format!("cannot open event file {}: {e}", path.display()),
                    )
                })?,
            ),
        };
        let (events, receiver) = mpsc::channel::<Event>();
        let (done_sender, done) = mpsc::sync_channel(1);
        let encoder = Encoder {
            tags: Arc::new(tags),
            format,
        };
        let thread = std::thread::Builder::new()
            .name("corral-events".into())
            .spawn(move || {
                let written = write_events(out, receiver, encoder, overlay);
                let _ = done_sender.send(());
                written
            })?;
        Ok((Events { start, events }, EventWriter { thread, done }))
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
        // The writer only goes away after every sender is dropped.
        let _ = self.events.send(event);
    }
}

impl EventWriter {
    /// Waits until every event sent so far is written and flushed. Every
    /// `Events` clone must have been dropped first.
    /// Gives up after `timeout`: a FIFO whose reader stopped reading must
    /// not hold the process once the run is over.
    pub fn finish(self, timeout: Duration) -> io::Result<()> {
        self.thread.thread().unpark();
        if let Err(mpsc::RecvTimeoutError::Timeout) = self.done.recv_timeout(timeout) {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the event reader stopped reading; the last events were not written",
            ));
        }
        self.thread
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("event writer panicked")))
    }
}

/// Turns events into lines of the chosen format.
struct Encoder {
    tags: Arc<RunTags>,
    format: EventFormat,
}

impl Encoder {
    fn line(&self, event: &Event) -> String {
        match self.format {
            EventFormat::Segment => event.to_segment_line(&self.tags),
            EventFormat::Json => event.to_json(&self.tags).to_string(),
        }
    }
}

fn write_events(
    out: Box<dyn Write + Send>,
    receiver: mpsc::Receiver<Event>,
    encoder: Encoder,
    mut overlay: Option<Box<dyn Overlay>>,
) -> io::Result<()> {
    let mut out = BufWriter::new(out);
    loop {
        let first = match &overlay {
            None => {
                let first = receiver.recv().ok();
                if first.is_some() {
                    // Events that follow within GATHER queue up without
                    // waking this thread, one wake-up and write for each
                    // burst instead of each line; `finish` cuts it short.
                    std::thread::park_timeout(GATHER);
                }
                first
            }
            Some(overlay) => match receiver.recv_timeout(overlay.redraw_every()) {
                Ok(event) => Some(event),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            },
        };
        if first.is_none() && overlay.is_none() {
            break;
        }
        if let Some(overlay) = &mut overlay {
            overlay.erase(&mut out)?;
        }
        // Drain whatever is queued, then flush: lines appear live, and a
        // killed process leaves only complete lines behind.
        for event in first.into_iter().chain(receiver.try_iter()) {
            if let Some(overlay) = &mut overlay {
                overlay.observe(&event);
            }
            out.write_all(encoder.line(&event).as_bytes())?;
            out.write_all(b"\n")?;
        }
        if let Some(overlay) = &mut overlay {
            overlay.draw(&mut out)?;
        }
        out.flush()?;
    }
    if let Some(overlay) = &mut overlay {
        overlay.erase(&mut out)?;
    }
    out.flush()
}
