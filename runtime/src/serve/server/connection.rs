//! One connection: the peer checked before a byte is read, room made at
//! [`super::MAX_CONNECTIONS`], each request line bounded in size and time,
//! and its answer, once or followed after every change.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio_util::sync::CancellationToken;

use crate::review::policy::Policy;
use crate::serve::answer::ResultsRequest;
use crate::serve::protocol::{
    self, Answer, Build, Format, MAX_REQUEST_BYTES, Op, Request, Verdict,
};

use super::{Connection, MAX_CONNECTIONS, REQUEST_TIMEOUT, Server, WRITE_TIMEOUT, lock};

/// What a request line asks of the connection.
enum Reply {
    /// One answer, encoded.
    Once(Answer, Vec<u8>),
    /// Answers now and after every change, until the peer leaves.
    Follow(ResultsRequest, Format),
}

impl Server {
    /// Checks the peer, makes room, and serves the connection.
    pub(super) fn admit(self: &Arc<Self>, stream: UnixStream) {
        let ours = rustix::process::geteuid().as_raw();
        match stream.peer_cred() {
            Ok(cred) if cred.uid() == ours => {}
            Ok(cred) => {
                tracing::warn!(uid = cred.uid(), "refused a connection from another user");
                return;
            }
            Err(error) => {
                tracing::warn!(%error, "refused a connection whose peer is unknown");
                return;
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let close = CancellationToken::new();
        {
            let mut connections = lock(&self.connections);
            if connections.len() >= MAX_CONNECTIONS
                && let Some(oldest) = connections
                    .iter()
                    .min_by_key(|(_, connection)| connection.last_active)
                    .map(|(id, _)| *id)
                && let Some(evicted) = connections.remove(&oldest)
            {
                evicted.close.cancel();
            }
            connections.insert(
                id,
                Connection {
                    last_active: Instant::now(),
                    close: close.clone(),
                },
            );
        }
        self.activity.notify_one();
        let server = Arc::clone(self);
        tokio::spawn(async move {
            tokio::select! {
                () = close.cancelled() => {}
                () = server.converse(id, stream) => {}
            }
            lock(&server.connections).remove(&id);
            server.activity.notify_one();
        });
    }

    /// Reads requests and writes answers until the peer leaves or errs.
    async fn converse(&self, id: u64, mut stream: UnixStream) {
        let mut buffer: Vec<u8> = Vec::new();
        let mut chunk = vec![0u8; 8192];
        // When the request being read must be whole.
        let mut due: Option<tokio::time::Instant> = None;
        loop {
            if let Some(end) = buffer.iter().position(|&byte| byte == b'\n') {
                let line: Vec<u8> = buffer.drain(..=end).collect();
                due = None;
                self.touch(id);
                let (answer, encoded) = match self.answer(&line[..line.len() - 1]).await {
                    Reply::Once(answer, encoded) => (answer, encoded),
                    Reply::Follow(request, format) => {
                        return self.follow(id, &mut stream, request, format).await;
                    }
                };
                self.touch(id);
                let stop_after = matches!(answer, Answer::Stopping);
                let written = tokio::time::timeout(WRITE_TIMEOUT, stream.write_all(&encoded)).await;
                if stop_after {
                    self.stop.cancel();
                }
                if !matches!(written, Ok(Ok(()))) {
                    return;
                }
                continue;
            }
            if buffer.len() > MAX_REQUEST_BYTES {
                let answer = Answer::Error {
                    verdict: Verdict::Usage,
                    message: format!("request longer than {MAX_REQUEST_BYTES} bytes"),
                };
                let _ = tokio::time::timeout(
                    WRITE_TIMEOUT,
                    stream.write_all(&protocol::encode(&answer)),
                )
                .await;
                return;
            }
            // Between requests a client may wait as long as it likes; a
            // request that has begun must be finished in time.
            let read = if buffer.is_empty() {
                stream.read(&mut chunk).await
            } else {
                let deadline =
                    *due.get_or_insert_with(|| tokio::time::Instant::now() + REQUEST_TIMEOUT);
                match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
                    Ok(read) => read,
                    Err(_) => {
                        let answer = Answer::Error {
                            verdict: Verdict::Usage,
                            message: format!(
                                "request not finished within {} ms",
                                REQUEST_TIMEOUT.as_millis()
                            ),
                        };
                        let _ = tokio::time::timeout(
                            WRITE_TIMEOUT,
                            stream.write_all(&protocol::encode(&answer)),
                        )
                        .await;
                        return;
                    }
                }
            };
            match read {
                Ok(0) | Err(_) => return,
                Ok(count) => buffer.extend_from_slice(&chunk[..count]),
            }
        }
    }

    pub(super) fn touch(&self, id: u64) {
        if let Some(connection) = lock(&self.connections).get_mut(&id) {
            connection.last_active = Instant::now();
        }
    }

    /// What to do for one request line: an answer encoded as the request
    /// asks, or following.
    async fn answer(&self, line: &[u8]) -> Reply {
        let request: Request = match protocol::parse_request(line) {
            Ok(request) => request,
            Err(message) => {
                let answer = Answer::Error {
                    verdict: Verdict::Usage,
                    message,
                };
                // A shell waits for lines: answer it in lines (seq 0 is
                // never a shell's: it counts from 1).
                let lines = br#""format":"lines""#;
                let encoded = match line.windows(lines.len()).any(|w| w == lines) {
                    true => protocol::encode_lines(&answer, 0),
                    false => protocol::encode(&answer),
                };
                return Reply::Once(answer, encoded);
            }
        };
        let format = match &request.op {
            Op::Results { format, .. } | Op::Follow { format, .. } => *format,
            Op::Status | Op::Stop => Format::Json,
        };
        let answer = match self.respond(request.build, request.op).await {
            Ok(answer) => answer,
            Err(follow) => return Reply::Follow(follow, format),
        };
        let encoded = match format {
            Format::Lines => protocol::encode_lines(&answer, request.seq),
            Format::Json => protocol::encode(&answer),
        };
        Reply::Once(answer, encoded)
    }

    /// The answer to an operation; `Err` with the request to follow.
    async fn respond(&self, build: Build, op: Op) -> Result<Answer, ResultsRequest> {
        let (manifest, cwd, ids, env, policy, follow) = match op {
            // Status and stop are for any build: an upgraded corral can
            // still see and stop the server an older one started.
            Op::Status => return Ok(Answer::Status(self.status().await)),
            Op::Stop => return Ok(Answer::Stopping),
            Op::Results {
                manifest,
                cwd,
                ids,
                env,
                locked,
                require_ack,
                format: _,
            } => (
                manifest,
                cwd,
                ids,
                env,
                Policy {
                    locked,
                    require_ack,
                },
                false,
            ),
            Op::Follow {
                manifest,
                cwd,
                ids,
                env,
                format: _,
            } => (manifest, cwd, ids, env, Policy::default(), true),
        };
        if !build.compatible_with(Build::current()) {
            // The newer build replaces this server; an older client runs
            // without one.
            if build.newer_than(Build::current()) {
                tracing::info!(client = ?build, "a newer client: stopping");
                self.stop.cancel();
            }
            return Ok(Answer::OtherBuild {
                server: Build::current().clone(),
            });
        }
        if !manifest.is_absolute() || !cwd.is_absolute() {
            return Ok(Answer::Error {
                verdict: Verdict::Usage,
                message: "the manifest and directory must be absolute paths".into(),
            });
        }
        let request = ResultsRequest {
            manifest,
            cwd,
            ids,
            env,
            policy,
        };
        match follow {
            true => Err(request),
            false => Ok(self.answerer.results(request).await),
        }
    }
}
