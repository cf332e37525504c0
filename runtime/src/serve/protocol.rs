//! The wire format: one JSON object per line each way. A request line may
//! be at most [`MAX_REQUEST_BYTES`]; anything else (too long, not UTF-8,
//! not JSON, unknown fields or operations) is answered with an error and
//! never reaches the run.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The longest request line read (a client sends its environment, for
/// feature flags); a longer one is refused.
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;

/// Which build of corral speaks: its version, and the identity of the
/// executable (device, inode, modification time), so a rebuilt binary
/// never talks to a server of the old build. `stamp_ns` orders builds:
/// the newer one replaces the older server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Build {
    pub version: String,
    pub exe: String,
    pub stamp_ns: i64,
}

impl Build {
    /// Whether a client of build `self` may be served by `server`: the same
    /// build, or a shell snippet of the same version (a snippet is written
    /// once and cannot know the executable; it names only the version and
    /// leaves `exe` empty).
    pub fn compatible_with(&self, server: &Build) -> bool {
        self == server || (self.exe.is_empty() && self.version == server.version)
    }

    /// Whether this client's build is newer than `server`'s, so that it
    /// replaces the server: a later executable, or a snippet of a later
    /// version (it knows no executable).
    pub fn newer_than(&self, server: &Build) -> bool {
        if self.exe.is_empty() {
            return version_numbers(&self.version) > version_numbers(&server.version);
        }
        self.stamp_ns > server.stamp_ns
    }

    /// This process's build.
    pub fn current() -> &'static Build {
        static BUILD: OnceLock<Build> = OnceLock::new();
        BUILD.get_or_init(|| {
            let meta = std::env::current_exe().and_then(std::fs::metadata).ok();
            let stamp_ns = meta.as_ref().map_or(0, |meta| {
                meta.mtime()
                    .saturating_mul(1_000_000_000)
                    .saturating_add(meta.mtime_nsec())
            });
            Build {
                version: env!("CARGO_PKG_VERSION").to_string(),
                exe: meta.map_or_else(String::new, |meta| format!("{}:{}", meta.dev(), meta.ino())),
                stamp_ns,
            }
        })
    }
}

/// `1.2.3-rc1` as `[1, 2, 3]`: what orders versions.
fn version_numbers(version: &str) -> Vec<u64> {
    version
        .split(['.', '-', '+'])
        .map_while(|part| part.parse().ok())
        .collect()
}

/// One request.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub build: Build,
    pub op: Op,
    /// Echoed at the end of a `lines` answer, so a shell that asked again
    /// before the last answer came can tell answers apart.
    #[serde(default)]
    pub seq: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case", deny_unknown_fields)]
pub enum Op {
    /// The current results of `ids` (every task when empty) of a manifest,
    /// for a client in `cwd` with environment `env` (feature flags and
    /// the test controls are read from it, as `corral run` reads its own).
    Results {
        manifest: PathBuf,
        cwd: PathBuf,
        ids: Vec<String>,
        env: BTreeMap<String, String>,
        #[serde(default)]
        locked: bool,
        #[serde(default)]
        require_ack: bool,
        /// How the answer is written.
        #[serde(default)]
        format: Format,
    },
    /// The current results of `ids`, as `Results` answers them, and then
    /// again, pushed without being asked, whenever a file under their
    /// read-only grants changes (a prompt's alert after a start-up file was
    /// edited). The connection is then the server's to write to.
    Follow {
        manifest: PathBuf,
        cwd: PathBuf,
        ids: Vec<String>,
        env: BTreeMap<String, String>,
        #[serde(default)]
        format: Format,
    },
    /// Counters, for `corral serve --status`.
    Status,
    /// Stop the server (after the runs under way end).
    Stop,
}

/// How an answer is written: JSON, or lines a shell reads with builtins.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    #[default]
    Json,
    /// One `task` line per task, then `end`; fields separated by tabs and
    /// escaped as `echo` reads them (see [`encode_lines`]).
    Lines,
}

/// One answer, to one request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case", deny_unknown_fields)]
pub enum Answer {
    Results {
        /// How `corral run` would have ended for these tasks.
        verdict: Verdict,
        results: Vec<TaskAnswer>,
    },
    Status(Status),
    Stopping,
    /// The request was refused; `verdict` is how `corral run` (or
    /// `corral check`) ends for the same mistake.
    Error {
        verdict: Verdict,
        message: String,
    },
    /// The server is another build: the client talks to a server of its
    /// own build instead.
    OtherBuild {
        server: Build,
    },
}

/// How a request ended, as the command line's exit codes say it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every task is answered and none failed.
    Done,
    /// Some task failed or timed out.
    TaskFailed,
    /// A usage or manifest error.
    Usage,
    /// An integrity or policy refusal.
    Refused,
    /// corral itself failed (its own state, the server).
    Internal,
}

/// One task's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskAnswer {
    pub id: String,
    pub state: State,
    /// The repository a bound task's answer is for.
    pub repo: Option<PathBuf>,
    /// The result (the last good one, when `state` is stale or failed).
    pub result: Option<String>,
    /// Why the state is not fresh: `reason message`.
    pub reason: Option<String>,
    /// Whether a fresh result is the last one, reused because nothing the
    /// task can see has changed.
    #[serde(default)]
    pub reused: bool,
    /// What a bound task was granted for its repository (its work tree and
    /// any git directory outside it), read-only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<PathBuf>,
}

/// How current an answered result is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Computed from the files as they are now (or reused, unchanged).
    Fresh,
    /// The last stored result; a fresh one was not to be had in time.
    Stale,
    /// The task's run failed (`reason`); `result` is the last good one.
    Failed,
    /// The task did not run: `reason` says why (flag, no_repo).
    Skipped,
}

/// What `corral serve --status` prints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Status {
    pub pid: u32,
    /// Connections open now.
    pub clients: u64,
    /// Runs started (each a batch of tasks with its own events file).
    pub runs: u64,
    /// Task answers served from an unchanged last result.
    pub reused: u64,
    /// Tasks run.
    pub tasks: u64,
    /// Repositories and grant sets watched now.
    pub watched: u64,
    pub build: Build,
}

/// Reads one request; any mistake is the error text to answer with.
pub fn parse_request(line: &[u8]) -> Result<Request, String> {
    let text = std::str::from_utf8(line).map_err(|_| "the request is not UTF-8".to_string())?;
    serde_json::from_str(text).map_err(|error| format!("malformed request: {error}"))
}

/// One line of JSON, newline included.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut line = serde_json::to_vec(value).unwrap_or_else(|error| {
        // Our own types always encode; say so rather than panic.
        format!("{{\"answer\":\"error\",\"verdict\":\"internal\",\"message\":\"cannot encode: {error}\"}}")
            .into_bytes()
    });
    line.push(b'\n');
    line
}

/// An answer as lines for a shell, ending with `end<TAB>SEQ<TAB>VERDICT`:
///
/// ```text
/// task<TAB>ID<TAB>STATE<TAB>REUSED(0|1)<TAB>RESULT<TAB>REASON
/// error<TAB>MESSAGE
/// ```
///
/// Fields are escaped so that no tab or newline is left in them: `\\`,
/// `\n`, `\t`, and other control characters as `\0ooo`, which zsh's
/// `${(g::)x}`, bash's `printf %b` and fish's `printf %b` decode.
pub fn encode_lines(answer: &Answer, seq: u64) -> Vec<u8> {
    let mut out = String::new();
    let verdict = match answer {
        Answer::Results { verdict, results } => {
            for task in results {
                out.push_str(&format!(
                    "task\t{}\t{}\t{}\t{}\t{}\n",
                    escape_field(&task.id),
                    state_name(task.state),
                    u8::from(task.reused),
                    escape_field(task.result.as_deref().unwrap_or_default()),
                    escape_field(task.reason.as_deref().unwrap_or_default()),
                ));
            }
            *verdict
        }
        Answer::Error { verdict, message } => {
            out.push_str(&format!("error\t{}\n", escape_field(message)));
            *verdict
        }
        Answer::OtherBuild { server } => {
            out.push_str(&format!(
                "error\t{}\n",
                escape_field(&format!(
                    "the server is another build of corral ({})",
                    server.version
                ))
            ));
            Verdict::Internal
        }
        Answer::Status(_) | Answer::Stopping => Verdict::Done,
    };
    out.push_str(&format!("end\t{seq}\t{}\n", verdict_name(verdict)));
    out.into_bytes()
}

fn state_name(state: State) -> &'static str {
    match state {
        State::Fresh => "fresh",
        State::Stale => "stale",
        State::Failed => "failed",
        State::Skipped => "skipped",
    }
}

fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Done => "done",
        Verdict::TaskFailed => "task_failed",
        Verdict::Usage => "usage",
        Verdict::Refused => "refused",
        Verdict::Internal => "internal",
    }
}

/// Escapes one field of a `lines` answer.
fn escape_field(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\0{:03o}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_garbage_is_an_error() {
        let request = Request {
            build: Build::current().clone(),
            op: Op::Results {
                manifest: "/m.toml".into(),
                cwd: "/repo".into(),
                ids: vec!["git_status".into()],
                env: BTreeMap::new(),
                locked: false,
                require_ack: true,
                format: Format::Json,
            },
            seq: 0,
        };
        let line = encode(&request);
        let parsed = parse_request(line.trim_ascii_end()).unwrap();
        assert_eq!(parsed.seq, 0, "seq defaults to 0");
        assert!(matches!(
            parsed.op,
            Op::Results {
                require_ack: true,
                ..
            }
        ));
        for garbage in [
            &b"\xff\xfe"[..],
            b"{}",
            b"{\"op\":{\"name\":\"nope\"}}",
            b"[1,2",
            b"",
        ] {
            assert!(parse_request(garbage).is_err(), "{garbage:?}");
        }
    }

    #[test]
    fn a_snippet_of_a_later_version_replaces_the_server() {
        let server = Build {
            version: "0.2.0".into(),
            exe: "1:2".into(),
            stamp_ns: 100,
        };
        let snippet = |version: &str| Build {
            version: version.into(),
            exe: String::new(),
            stamp_ns: 0,
        };
        assert!(snippet("0.10.0").newer_than(&server));
        assert!(!snippet("0.2.0").newer_than(&server));
        assert!(!snippet("0.1.9").newer_than(&server));
        assert!(snippet("0.2.0").compatible_with(&server));
    }

    #[test]
    fn lines_escape_what_would_break_a_line_or_a_field() {
        let answer = Answer::Results {
            verdict: Verdict::Done,
            results: vec![TaskAnswer {
                id: "git_status".into(),
                state: State::Fresh,
                repo: None,
                result: Some("a\tb\nc\\d\u{1b}[31m".into()),
                grants: Vec::new(),
                reason: None,
                reused: true,
            }],
        };
        let text = String::from_utf8(encode_lines(&answer, 7)).unwrap();
        assert_eq!(
            text,
            "task\tgit_status\tfresh\t1\ta\\tb\\nc\\\\d\\0033[31m\t\nend\t7\tdone\n"
        );
    }
}
