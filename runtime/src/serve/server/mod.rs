//! `corral serve`: the listening half. One server per user: it holds an
//! exclusive lock in the socket directory for its whole life, so of many
//! servers started at once exactly one serves and the others exit.
//!
//! Every connection is checked before a byte is read (the peer's uid must
//! be ours); a request line is bounded ([`MAX_REQUEST_BYTES`]) and must
//! arrive whole within [`REQUEST_TIMEOUT`] once it has begun; an answer
//! must be taken within [`WRITE_TIMEOUT`]. Idle connections may stay (a
//! prompt keeps one open), but at [`MAX_CONNECTIONS`] the longest idle is
//! closed for a new one, so idle or hostile peers can never lock out a
//! client. The server exits after `idle` with no connection and no run.

mod connection;

use std::collections::HashMap;
use std::io;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rustix::fs::{FlockOperation, Mode, OFlags};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncReadExt, AsyncWriteExt, Interest};
use tokio::net::{UnixListener, UnixStream};
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

use crate::detached;
use crate::sandbox::Runtime;
use crate::serve::answer::{Answerer, ResultsRequest};
use crate::serve::protocol::{self, Build, Format, Status};
use crate::serve::socket_dir::SocketDir;

/// Connections held at once; past it the longest idle is closed.
pub const MAX_CONNECTIONS: usize = 256;
/// A request that has begun must be whole within this.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// An answer must be taken within this.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// How the server runs.
pub struct Config {
    pub dir: SocketDir,
    /// Exit after this long without connections or runs.
    pub idle: Duration,
    /// Standard error is this server's own log file (an auto-started
    /// server's): it is emptied once the server holds the lock.
    pub own_log: bool,
}

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Another server holds the directory.
    #[error("a server already runs for this user (pid {pid}, socket {socket})")]
    AlreadyRunning { pid: String, socket: PathBuf },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

fn io_error(context: impl Into<String>) -> impl FnOnce(io::Error) -> StartError {
    let context = context.into();
    move |source| StartError::Io { context, source }
}

/// Serves until stopped (`--stop`, a signal, a newer client) or idle.
/// Blocking: it owns its executor.
pub fn serve(config: Config) -> Result<(), StartError> {
    // A server lives for minutes: it must not hold its starter's pipes
    // or locks open, nor its starter's directory: a deleted one made
    // every repository look absent to discovery, and a held one keeps its
    // file system busy. Requests carry their own directory.
    detached::close_inherited_descriptors();
    std::env::set_current_dir("/").map_err(io_error("cannot change to /"))?;
    let lock_path = config.dir.lock();
    let lock = rustix::fs::open(
        &lock_path,
        OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::RUSR | Mode::WUSR,
    )
    .map_err(|errno| io_error(format!("cannot open {}", lock_path.display()))(errno.into()))?;
    let lock = std::fs::File::from(lock);
    match rustix::fs::flock(&lock, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => {}
        Err(rustix::io::Errno::WOULDBLOCK) => {
            let pid = std::fs::read_to_string(&lock_path).unwrap_or_default();
            return Err(StartError::AlreadyRunning {
                pid: pid.trim().to_string(),
                socket: config.dir.socket(),
            });
        }
        Err(errno) => return Err(io_error("cannot lock the server's directory")(errno.into())),
    }
    write_pid(&lock).map_err(io_error("cannot record the server's pid"))?;
    if config.own_log {
        // The losers of a start race never get here, so they never empty
        // the winner's log.
        let _ = rustix::fs::ftruncate(std::io::stderr(), 0);
    }
    let executor = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(std::thread::available_parallelism().map_or(2, |n| n.get().max(2)))
        .enable_all()
        .build()
        .map_err(io_error("cannot start the executor"))?;
    let socket = config.dir.socket();
    let served = executor.block_on(async {
        // Only the lock holder binds: a socket file left by a killed
        // server is replaced.
        match std::fs::remove_file(&socket) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(io_error(format!("cannot replace {}", socket.display()))(
                    error,
                ));
            }
        }
        let listener = UnixListener::bind(&socket)
            .map_err(io_error(format!("cannot listen on {}", socket.display())))?;
        let runtime = Runtime::new().map_err(|error| StartError::Io {
            context: "cannot start wasmtime".into(),
            source: io::Error::other(error),
        })?;
        let answerer = Answerer::new(runtime, true).map_err(io_error("cannot start answering"))?;
        tracing::info!(socket = %socket.display(), pid = std::process::id(), "serving");
        Server::new(answerer, config.idle).run(listener).await;
        Ok(())
    });
    // Whatever still blocks a thread (a guest abandoned at its timeout)
    // is not waited for.
    executor.shutdown_background();
    // The socket is removed only while the lock is held: the next server
    // may already have bound a new one once the lock is let go.
    let _ = std::fs::remove_file(&socket);
    drop(lock);
    served
}

struct Connection {
    last_active: Instant,
    close: CancellationToken,
}

struct Server {
    answerer: Arc<Answerer>,
    idle: Duration,
    connections: Mutex<HashMap<u64, Connection>>,
    next_id: AtomicU64,
    stop: CancellationToken,
    /// Set when the last connection closed or a run ended.
    activity: tokio::sync::Notify,
    /// Moves when file events were read: followers look again.
    changes: tokio::sync::watch::Sender<u64>,
}

/// File events are read this long after the first, so an editor's save
/// (write, rename, chmod) wakes followers once.
const SETTLE: Duration = Duration::from_millis(30);

impl Server {
    fn new(answerer: Arc<Answerer>, idle: Duration) -> Arc<Server> {
        Arc::new(Server {
            answerer,
            idle,
            connections: Mutex::default(),
            next_id: AtomicU64::new(0),
            stop: CancellationToken::new(),
            activity: tokio::sync::Notify::new(),
            changes: tokio::sync::watch::channel(0).0,
        })
    }

    async fn run(self: Arc<Self>, listener: UnixListener) {
        if let (Ok(mut terminate), Ok(mut interrupt), Ok(mut hangup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
        ) {
            let stop = self.stop.clone();
            tokio::spawn(async move {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = interrupt.recv() => {}
                    _ = hangup.recv() => {}
                }
                tracing::info!("signal: stopping");
                stop.cancel();
            });
        }
        match self.answerer.event_fd() {
            Some(Ok(fd)) => {
                let server = Arc::clone(&self);
                tokio::spawn(async move { server.wake_followers(fd).await });
            }
            Some(Err(error)) => {
                tracing::warn!(%error, "cannot wait for file events; nothing is pushed")
            }
            None => {}
        }
        let idle_watch = Arc::clone(&self);
        tokio::spawn(async move { idle_watch.exit_when_idle().await });
        loop {
            tokio::select! {
                () = self.stop.cancelled() => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => self.admit(stream),
                    Err(error) => {
                        tracing::warn!(%error, "accept failed");
                        // Out of descriptors: give connections time to close.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                },
            }
        }
        for connection in lock(&self.connections).values() {
            connection.close.cancel();
        }
        self.answerer.shutdown().await;
    }

    /// Reads file events as they are queued and tells followers.
    async fn wake_followers(&self, fd: std::os::fd::OwnedFd) {
        // SAFETY: the descriptor is owned, and so kept open and unchanged,
        // by the `AsyncFd` for as long as it is registered.
        let registered = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) };
        let events = match registered.map_err(std::io::Error::from) {
            Ok(events) => events,
            Err(error) => {
                tracing::warn!(%error, "cannot wait for file events; nothing is pushed");
                return;
            }
        };
        loop {
            let mut ready = tokio::select! {
                ready = events.readable() => match ready {
                    Ok(ready) => ready,
                    Err(_) => return,
                },
                () = self.stop.cancelled() => return,
            };
            ready.clear_ready();
            tokio::time::sleep(SETTLE).await;
            self.answerer.drain_watches().await;
            self.changes.send_modify(|count| *count += 1);
        }
    }

    /// Serves a follower: the answer now, then a new one whenever what
    /// its tasks read has changed, until it leaves or the server stops.
    async fn follow(
        &self,
        id: u64,
        stream: &mut UnixStream,
        request: ResultsRequest,
        format: Format,
    ) {
        let mut changes = self.changes.subscribe();
        let mut seen = self.answerer.read_generations(&request).await;
        let mut byte = [0u8; 64];
        loop {
            let answer = self.answerer.results(request.clone()).await;
            let encoded = match format {
                Format::Lines => protocol::encode_lines(&answer, 0),
                Format::Json => protocol::encode(&answer),
            };
            self.touch(id);
            match tokio::time::timeout(WRITE_TIMEOUT, stream.write_all(&encoded)).await {
                Ok(Ok(())) => {}
                _ => return,
            }
            // Until something it reads changed (or it cannot be watched:
            // then nothing is pushed).
            loop {
                tokio::select! {
                    changed = changes.changed() => if changed.is_err() { return },
                    read = stream.read(&mut byte) => match read {
                        Ok(0) | Err(_) => return,
                        // A follower has nothing more to ask.
                        Ok(_) => continue,
                    },
                    () = self.stop.cancelled() => return,
                }
                let now = self.answerer.read_generations(&request).await;
                if now != seen {
                    seen = now;
                    break;
                }
            }
        }
    }

    /// Stops the server once it has had no connection and no run for
    /// `idle`.
    async fn exit_when_idle(&self) {
        loop {
            let quiet = lock(&self.connections).is_empty() && !self.answerer.busy();
            if quiet {
                tokio::select! {
                    () = tokio::time::sleep(self.idle) => {
                        if lock(&self.connections).is_empty() && !self.answerer.busy() {
                            tracing::info!("idle: stopping");
                            self.stop.cancel();
                            return;
                        }
                    }
                    () = self.activity.notified() => {}
                    () = self.stop.cancelled() => return,
                }
            } else {
                tokio::select! {
                    () = self.activity.notified() => {}
                    // A run ending is noticed within this (it does not notify).
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    () = self.stop.cancelled() => return,
                }
            }
        }
    }

    async fn status(&self) -> Status {
        let watched = self.answerer.watched().await as u64;
        let counters = self.answerer.counters();
        Status {
            pid: std::process::id(),
            clients: lock(&self.connections).len() as u64,
            runs: counters.runs.load(Ordering::Relaxed),
            reused: counters.reused.load(Ordering::Relaxed),
            tasks: counters.tasks.load(Ordering::Relaxed),
            watched,
            build: Build::current().clone(),
        }
    }
}

fn write_pid(lock: &std::fs::File) -> io::Result<()> {
    use std::io::Write;
    rustix::fs::ftruncate(lock.as_fd(), 0)?;
    let mut file = lock;
    write!(file, "{}", std::process::id())?;
    Ok(())
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
