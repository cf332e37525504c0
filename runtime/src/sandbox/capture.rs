//! Bounded capture of a guest's stdout or stderr.
//!
//! A guest may write without end; the host keeps the first `capacity`
//! bytes, counts the rest, and never grows past the cap. What was kept is
//! reported as log events after the attempt, escaped like every log line.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// How much a single `write` may hand over; the guest's stdlib chunks by it.
const WRITE_BUDGET: usize = 64 * 1024;

#[derive(Clone)]
pub struct Capture {
    capacity: usize,
    state: Arc<Mutex<Captured>>,
}

#[derive(Default)]
struct Captured {
    kept: Vec<u8>,
    dropped: u64,
}

impl Capture {
    pub fn new(capacity: usize) -> Self {
        Capture {
            capacity,
            state: Arc::default(),
        }
    }

    fn record(&self, bytes: &[u8]) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let room = self.capacity.saturating_sub(state.kept.len());
        let keep = room.min(bytes.len());
        state.kept.extend_from_slice(&bytes[..keep]);
        state.dropped += (bytes.len() - keep) as u64;
    }

    /// The kept text (lossily decoded) and how many bytes were dropped.
    pub fn contents(&self) -> (String, u64) {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        (
            String::from_utf8_lossy(&state.kept).into_owned(),
            state.dropped,
        )
    }
}

impl IsTerminal for Capture {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Capture {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

impl OutputStream for Capture {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.record(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_BUDGET)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for Capture {
    async fn ready(&mut self) {}
}

impl AsyncWrite for Capture {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.record(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_first_bytes_and_counts_the_rest() {
        let capture = Capture::new(4);
        capture.record(b"abc");
        capture.record(b"defgh");
        assert_eq!(capture.contents(), ("abcd".to_string(), 4));
    }
}
