//! The client side: one request, one answer, over the user's socket; the
//! server started on demand when none answers. A client never waits
//! longer than it was told to, and never hangs on a server that stalls.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use crate::serve::autostart;
use crate::serve::protocol::{self, Answer, Build, Op, Request};
use crate::serve::socket_dir::{SocketDir, SocketDirError};

/// How long a client waits for a server it started to listen.
const START_WAIT: Duration = Duration::from_secs(3);
/// The longest answer read.
const MAX_ANSWER_BYTES: u64 = 64 * 1024 * 1024;

/// How asking ended, besides an answer.
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    /// No server listens (and none was to be started, or it did not come up).
    #[error("no server answers at {0}")]
    NoServer(String),
    /// The answer did not come within the time the client allows.
    #[error("the server did not answer in time")]
    TimedOut,
    /// The server is another build of corral.
    #[error("the server is another build of corral ({0})")]
    OtherBuild(String),
    #[error(transparent)]
    Dir(#[from] SocketDirError),
    #[error("talking to the server: {0}")]
    Io(#[from] io::Error),
}

/// How a client reaches the server.
pub struct Client {
    dir: SocketDir,
    /// Start a server when none answers, exiting after this idle time.
    pub autostart: Option<Duration>,
}

impl Client {
    /// A client for the socket directory at `path` (made if missing).
    pub fn new(path: &std::path::Path) -> Result<Client, SocketDirError> {
        Ok(Client {
            dir: SocketDir::create(path)?,
            autostart: None,
        })
    }

    pub fn dir(&self) -> &SocketDir {
        &self.dir
    }

    /// Sends `op` and waits at most `wait` (no limit when `None`) for the
    /// answer. A server of an older build is replaced by one of this
    /// build (when autostart is on); a newer one is left alone.
    pub fn ask(&self, op: &Op, wait: Option<Duration>) -> Result<Answer, AskError> {
        let started = Instant::now();
        let mut replaced = false;
        loop {
            let stream = self.connect()?;
            let left = wait.map(|wait| wait.saturating_sub(started.elapsed()));
            match exchange(stream, op, left)? {
                Answer::OtherBuild { server } => {
                    let ours = Build::current();
                    if replaced || self.autostart.is_none() || server.stamp_ns >= ours.stamp_ns {
                        return Err(AskError::OtherBuild(server.version));
                    }
                    // The older server stops on seeing this request; wait
                    // for its lock before starting ours.
                    replaced = true;
                    wait_until_gone(&self.dir, START_WAIT);
                }
                answer => return Ok(answer),
            }
        }
    }

    /// A connection to a server that runs now, starting none.
    pub fn connect_existing(&self) -> Result<UnixStream, AskError> {
        let socket = self.dir.socket();
        UnixStream::connect(&socket).map_err(|error| match absent(&error) {
            true => AskError::NoServer(socket.display().to_string()),
            false => error.into(),
        })
    }

    /// A connection to the server, starting it if allowed and needed.
    pub fn connect(&self) -> Result<UnixStream, AskError> {
        let socket = self.dir.socket();
        match self.connect_existing() {
            Err(AskError::NoServer(_)) => {}
            connected => return connected,
        }
        let Some(idle) = self.autostart else {
            return Err(AskError::NoServer(socket.display().to_string()));
        };
        autostart::start(&self.dir, idle)?;
        let deadline = Instant::now() + START_WAIT;
        loop {
            match UnixStream::connect(&socket) {
                Ok(stream) => return Ok(stream),
                Err(error) if absent(&error) && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(error) if absent(&error) => {
                    return Err(AskError::NoServer(socket.display().to_string()));
                }
                Err(error) => return Err(error.into()),
            }
        }
    }
}

/// No server listens there (yet).
fn absent(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
    )
}

/// One request and its answer on a fresh connection.
fn exchange(stream: UnixStream, op: &Op, wait: Option<Duration>) -> Result<Answer, AskError> {
    if wait == Some(Duration::ZERO) {
        return Err(AskError::TimedOut);
    }
    stream.set_read_timeout(wait)?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let request = Request {
        build: Build::current().clone(),
        op: op.clone(),
        seq: 0,
    };
    (&stream).write_all(&protocol::encode(&request))?;
    let mut line = Vec::new();
    let read = BufReader::new(&stream)
        .take(MAX_ANSWER_BYTES)
        .read_until(b'\n', &mut line);
    match read {
        Ok(0) => Err(AskError::Io(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the server closed the connection without answering",
        ))),
        Ok(_) => serde_json::from_slice(line.trim_ascii_end()).map_err(|error| {
            AskError::Io(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("malformed answer: {error}"),
            ))
        }),
        Err(error)
            if matches!(
                error.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            Err(AskError::TimedOut)
        }
        Err(error) => Err(error.into()),
    }
}

/// Waits (at most `limit`) until no server holds `dir`'s lock.
pub fn wait_until_gone(dir: &SocketDir, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if !held(dir) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    !held(dir)
}

/// Whether the server named in the directory's lock file still lives.
/// (Never probed by taking the lock: that could make a server that is
/// starting now find it taken and leave.)
fn held(dir: &SocketDir) -> bool {
    let Some(pid) = std::fs::read_to_string(dir.lock())
        .ok()
        .and_then(|text| text.trim().parse::<i32>().ok())
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    rustix::process::test_kill_process(pid).is_ok()
}
