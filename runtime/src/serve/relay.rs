//! `corral serve --relay`: one long-lived client for a shell that cannot
//! open a Unix socket itself (bash runs it as a coprocess). It copies
//! each request line from stdin to the server and the answer back to
//! stdout, reconnecting (and starting a server) when the connection is
//! lost, so the shell pays for one process, not one per prompt. A request
//! no server could answer is answered here with an `error` line, so the
//! shell falls back to its own runs.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use crate::serve::client::Client;
use crate::serve::protocol::{self, Answer, MAX_REQUEST_BYTES, Verdict};

/// How long one answer may take before the relay gives up on it.
const ANSWER_LIMIT: Duration = Duration::from_secs(30);
/// After a server failed to start, how long the relay only connects to
/// one that runs, so a prompt never waits for a start that keeps failing.
const START_BACKOFF: Duration = Duration::from_secs(10);

/// Relays until stdin closes.
pub fn relay(client: &Client) -> io::Result<()> {
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let mut output = io::stdout().lock();
    let mut connection: Option<BufReader<UnixStream>> = None;
    let mut no_start_until: Option<std::time::Instant> = None;
    let mut line = Vec::new();
    loop {
        line.clear();
        if input
            .by_ref()
            .take(MAX_REQUEST_BYTES as u64 + 1)
            .read_until(b'\n', &mut line)?
            == 0
        {
            return Ok(());
        }
        let seq = protocol::parse_request(line.trim_ascii_end()).map_or(0, |request| request.seq);
        let mut answer = None;
        // Once on the connection held, once more on a new one.
        for _ in 0..2 {
            if connection.is_none() {
                let backing_off =
                    no_start_until.is_some_and(|until| std::time::Instant::now() < until);
                let connected = match backing_off {
                    true => client.connect_existing(),
                    false => client.connect(),
                };
                if connected.is_err() && !backing_off {
                    no_start_until = Some(std::time::Instant::now() + START_BACKOFF);
                }
                connection = connected.ok().map(BufReader::new);
            }
            let Some(stream) = connection.as_mut() else {
                break;
            };
            match exchange(stream, &line) {
                Ok(lines) => {
                    answer = Some(lines);
                    break;
                }
                Err(_) => connection = None,
            }
        }
        let answer = answer.unwrap_or_else(|| {
            protocol::encode_lines(
                &Answer::Error {
                    verdict: Verdict::Internal,
                    message: "no server can be reached".into(),
                },
                seq,
            )
        });
        output.write_all(&answer)?;
        output.flush()?;
    }
}

/// Sends one request line and reads its answer through the `end` line.
fn exchange(stream: &mut BufReader<UnixStream>, request: &[u8]) -> io::Result<Vec<u8>> {
    stream.get_ref().set_read_timeout(Some(ANSWER_LIMIT))?;
    stream.get_mut().write_all(request)?;
    if !request.ends_with(b"\n") {
        stream.get_mut().write_all(b"\n")?;
    }
    let mut answer = Vec::new();
    loop {
        let start = answer.len();
        if stream.read_until(b'\n', &mut answer)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let line = &answer[start..];
        // A JSON answer is one line; a lines answer ends with `end`.
        if line.starts_with(b"{") || line.starts_with(b"end\t") {
            return Ok(answer);
        }
    }
}
