//! `corral result ID`: the result stored by a task's last successful run;
//! for a task bound to the shell's repository, that repository's.
//!
//! With `--fresh`, a result that reflects the files as they are now: asked
//! of the per-user server (started when none runs), or computed here when
//! no server can be reached. `--wait-ms N` bounds the wait; past it the
//! last stored result is printed, marked stale.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use super::exit::{CliError, Exit};
use super::output::{print_escaped, print_raw};
use super::run::working_directory;
use super::serve::{DEFAULT_IDLE_SECS, socket_dir_path};
use crate::manifest::Manifest;
use crate::plan::UnknownTask;
use crate::plan::repo::Repo;
use crate::review::policy::Policy;
use crate::run::pipeline;
use crate::run::results::ResultStore;
use crate::sandbox::Runtime;
use crate::serve::answer::{Answerer, ResultsRequest};
use crate::serve::client::{AskError, Client};
use crate::serve::protocol::{Answer, Format, Op, State, TaskAnswer, Verdict};

#[derive(Debug, Args)]
pub struct ResultArgs {
    /// The task's id.
    id: String,
    /// Answer with a result that reflects the files as they are now
    /// (through the server, else by running the task here).
    #[arg(long)]
    fresh: bool,
    /// With --fresh: wait at most MS milliseconds, then print the last
    /// stored result, marked stale.
    #[arg(long, value_name = "MS", requires = "fresh")]
    wait_ms: Option<u64>,
    /// Print the answer as one JSON object: id, state (fresh, stale,
    /// failed, skipped), repo, result, reason, reused, and for a task bound
    /// to the repository, grants.
    #[arg(long)]
    json: bool,
}

pub fn result(manifest_path: &Path, args: &ResultArgs) -> Result<Exit, CliError> {
    if args.fresh {
        return fresh(manifest_path, args);
    }
    let manifest = Manifest::load(manifest_path)?;
    let id = args.id.as_str();
    let Some(task) = manifest.task(id) else {
        return Err(UnknownTask(id.to_string()).into());
    };
    let state_dir = &manifest.runtime.state_path;
    let read_error = |error| CliError::internal(format!("cannot read the result of {id}"), error);
    let (stored, repo) = if task.context.is_some() {
        let here = working_directory();
        let found = here.as_deref().map_or(Ok(None), Repo::containing);
        let Ok(Some(repo)) = found else {
            let wanted = match (here, found) {
                (_, Err(refused)) => refused.to_string(),
                (Some(here), _) => format!("{} is in no git repository", here.display()),
                (None, _) => "the current directory cannot be read".to_string(),
            };
            return Err(CliError::TaskFailed(format!(
                "{id} is bound to the shell's repository, and {wanted}"
            )));
        };
        let stored =
            ResultStore::read_for_repo(state_dir, id, &repo.work_tree).map_err(read_error)?;
        (stored, Some(repo))
    } else {
        (
            ResultStore::read(state_dir, id, false).map_err(read_error)?,
            None,
        )
    };
    let grants = repo.as_ref().map_or_else(Vec::new, Repo::grants);
    let repo = repo.map(|repo| repo.work_tree);
    let failure = ResultStore::read_failure(state_dir, id, repo.as_deref()).map_err(read_error)?;
    let Some(stored) = stored else {
        let place = repo.map_or_else(String::new, |repo| format!(" for {}", repo.display()));
        return Err(CliError::TaskFailed(format!(
            "no result stored for {id}{place} yet\n  help: `corral result {id} --fresh` computes one (results of failed runs are not stored)"
        )));
    };
    let answer = TaskAnswer {
        id: id.to_string(),
        state: if failure.is_some() {
            State::Failed
        } else {
            State::Stale
        },
        repo,
        result: Some(stored.result),
        reason: failure,
        reused: false,
        grants,
    };
    if args.json {
        print_raw(&format!(
            "{}\n",
            serde_json::to_string(&answer).unwrap_or_default()
        ))?;
        return Ok(Exit::Success);
    }
    print_result(answer.result.as_deref().unwrap_or_default())?;
    Ok(Exit::Success)
}

fn fresh(manifest_path: &Path, args: &ResultArgs) -> Result<Exit, CliError> {
    let cwd = working_directory()
        .ok_or_else(|| CliError::TaskFailed("the current directory cannot be read".to_string()))?;
    let manifest = absolute(manifest_path, &cwd);
    let env = environment();
    let request = ResultsRequest {
        manifest,
        cwd,
        ids: vec![args.id.clone()],
        env,
        policy: Policy::default(),
    };
    let wait = args.wait_ms.map(Duration::from_millis);
    let answer = match ask_server(&request, wait) {
        Ok(answer) => answer,
        Err(AskError::TimedOut) => stale(&request, wait)?,
        Err(error) => {
            tracing::info!(%error, "no server: running the task here");
            in_process(request)?
        }
    };
    print_answer(answer, args.json)
}

/// The environment sent with a request, as `corral run` would read flags
/// and controls from it: the UTF-8 variables, none over 4 KiB, so one odd
/// or huge variable never turns the request away.
fn environment() -> BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .filter(|(name, value)| name.len() + value.len() <= 4096)
        .collect()
}

/// The server's answer; a server is started when none runs.
fn ask_server(request: &ResultsRequest, wait: Option<Duration>) -> Result<Answer, AskError> {
    let mut client = Client::new(&socket_dir_path())?;
    let idle = std::env::var("CORRAL_SERVE_IDLE_SECS")
        .ok()
        .and_then(|secs| secs.parse().ok())
        .unwrap_or(DEFAULT_IDLE_SECS);
    client.autostart = Some(Duration::from_secs(idle));
    let op = Op::Results {
        manifest: request.manifest.clone(),
        cwd: request.cwd.clone(),
        ids: request.ids.clone(),
        env: request.env.clone(),
        locked: request.policy.locked,
        require_ack: request.policy.require_ack,
        format: Format::Json,
    };
    client.ask(&op, wait)
}

/// The answer computed in this process, as the server would (without
/// reuse: nothing is watched here).
fn in_process(request: ResultsRequest) -> Result<Answer, CliError> {
    let runtime =
        Runtime::new().map_err(|error| CliError::internal("cannot start wasmtime", error))?;
    let executor = pipeline::executor(u32::MAX, 2)
        .map_err(|error| CliError::internal("cannot start the executor", error))?;
    let answerer = Answerer::new(runtime, false)
        .map_err(|error| CliError::internal("cannot start the run", error))?;
    let answer = executor.block_on(async {
        let answer = answerer.results(request).await;
        answerer.shutdown().await;
        answer
    });
    executor.shutdown_background();
    Ok(answer)
}

/// The last stored result, marked stale: the fresh one did not come in time.
fn stale(request: &ResultsRequest, wait: Option<Duration>) -> Result<Answer, CliError> {
    let manifest = Manifest::load(&request.manifest)?;
    let id = &request.ids[0];
    let Some(task) = manifest.task(id) else {
        return Err(UnknownTask(id.clone()).into());
    };
    let state_dir = &manifest.runtime.state_path;
    let found = task
        .context
        .and_then(|_| Repo::containing(&request.cwd).ok().flatten());
    let grants = found.as_ref().map_or_else(Vec::new, Repo::grants);
    let repo = found.map(|repo| repo.work_tree);
    let stored = match &repo {
        Some(repo) => ResultStore::read_for_repo(state_dir, id, repo),
        None => ResultStore::read(state_dir, id, false),
    }
    .map_err(|error| CliError::internal(format!("cannot read the result of {id}"), error))?;
    let waited = wait.map_or(0, |wait| wait.as_millis());
    Ok(Answer::Results {
        verdict: Verdict::Done,
        results: vec![TaskAnswer {
            id: id.clone(),
            state: State::Stale,
            repo,
            result: stored.map(|stored| stored.result),
            reason: Some(format!("no fresh answer within {waited} ms")),
            reused: false,
            grants,
        }],
    })
}

fn print_answer(answer: Answer, json: bool) -> Result<Exit, CliError> {
    let (verdict, results) = match answer {
        Answer::Results { verdict, results } => (verdict, results),
        Answer::Error { verdict, message } => {
            return Err(match verdict {
                Verdict::Usage => CliError::Usage(message),
                Verdict::Refused => CliError::Refused(message),
                Verdict::TaskFailed | Verdict::Done => CliError::TaskFailed(message),
                Verdict::Internal => {
                    CliError::internal("the server failed", std::io::Error::other(message))
                }
            });
        }
        other => {
            return Err(CliError::internal(
                "unexpected answer from the server",
                std::io::Error::other(format!("{other:?}")),
            ));
        }
    };
    let Some(answer) = results.into_iter().next() else {
        return Err(CliError::internal(
            "the server answered no task",
            std::io::Error::other("empty answer"),
        ));
    };
    let exit = match (verdict, answer.state) {
        (Verdict::Refused, _) => Exit::Refused,
        (_, State::Failed | State::Skipped) => Exit::TaskFailed,
        _ => Exit::Success,
    };
    if json {
        print_raw(&format!(
            "{}\n",
            serde_json::to_string(&answer).unwrap_or_default()
        ))?;
        return Ok(exit);
    }
    let reason = answer.reason.as_deref().unwrap_or_default();
    match answer.state {
        State::Fresh => print_result(answer.result.as_deref().unwrap_or_default())?,
        State::Stale => {
            eprintln!("corral: {} is stale: {}", answer.id, crate::escape(reason));
            if let Some(result) = &answer.result {
                print_result(result)?;
            }
        }
        State::Failed => eprintln!("corral: {} failed: {}", answer.id, crate::escape(reason)),
        State::Skipped => eprintln!(
            "corral: {} did not run: {}",
            answer.id,
            crate::escape(reason)
        ),
    }
    Ok(exit)
}

/// A guest's text reaches a terminal escaped; a program reading the
/// result through a pipe gets it exactly.
fn print_result(text: &str) -> Result<(), CliError> {
    let mut text = text.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    if std::io::stdout().is_terminal() {
        print_escaped(&text)
    } else {
        print_raw(&text)
    }
}

/// `path` as seen from `cwd`, for a server that runs elsewhere.
fn absolute(path: &Path, cwd: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    // The physical directory: relative paths are resolved against it.
    std::env::current_dir()
        .unwrap_or_else(|_| cwd.to_path_buf())
        .join(path)
}
