//! `corral serve`: run the per-user server in the foreground, or ask the
//! running one for its status or to stop.

use std::time::Duration;

use clap::Args;

use super::exit::{CliError, Exit};
use super::output::print_raw;
use crate::detached;
use crate::serve::client::{self, AskError, Client};
use crate::serve::protocol::{Answer, Op};
use crate::serve::relay;
use crate::serve::server::{self, Config, StartError};
use crate::serve::socket_dir::SocketDir;

/// How long an idle server stays by default.
pub const DEFAULT_IDLE_SECS: u64 = 15 * 60;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Print one line about the running server (pid, clients, runs,
    /// reused answers); exit 1 when none runs.
    #[arg(long, conflicts_with = "stop")]
    status: bool,
    /// Stop the running server (runs under way end first, cancelled).
    #[arg(long, conflicts_with_all = ["start", "relay"])]
    stop: bool,
    /// Start a server in the background unless one runs, and return.
    #[arg(long, conflicts_with_all = ["status", "relay"])]
    start: bool,
    /// Relay request lines from stdin to the server and its answers to
    /// stdout (a shell's coprocess), starting the server when needed.
    #[arg(long, conflicts_with = "status")]
    relay: bool,
    /// Exit after SECS without clients or runs.
    #[arg(long, value_name = "SECS", env = "CORRAL_SERVE_IDLE_SECS", default_value_t = DEFAULT_IDLE_SECS)]
    idle_exit: u64,
    /// Exit 0 without a word when a server already runs (how clients
    /// start one: of many started at once, one serves).
    #[arg(long, hide = true)]
    quiet_if_running: bool,
}

/// The socket directory for this user.
pub fn socket_dir_path() -> std::path::PathBuf {
    SocketDir::locate(|name| std::env::var(name).ok())
}

pub fn serve(args: &ServeArgs) -> Result<Exit, CliError> {
    let _ = detached::leave_session_if_detached();
    let path = socket_dir_path();
    if args.status || args.stop {
        return ask_running(args, &path);
    }
    if args.start || args.relay {
        let mut client = Client::new(&path).map_err(|error| CliError::Usage(error.to_string()))?;
        client.autostart = Some(Duration::from_secs(args.idle_exit.max(1)));
        if args.relay {
            relay::relay(&client)
                .map_err(|error| CliError::internal("relaying to the server", error))?;
        } else {
            client
                .connect()
                .map_err(|error| CliError::internal("cannot start the server", error))?;
        }
        return Ok(Exit::Success);
    }
    let dir = SocketDir::create(&path).map_err(|error| CliError::Usage(error.to_string()))?;
    let config = Config {
        dir,
        idle: Duration::from_secs(args.idle_exit.max(1)),
        own_log: args.quiet_if_running,
    };
    match server::serve(config) {
        Ok(()) => Ok(Exit::Success),
        Err(StartError::AlreadyRunning { .. }) if args.quiet_if_running => Ok(Exit::Success),
        Err(error @ StartError::AlreadyRunning { .. }) => Err(CliError::Usage(format!(
            "{error}\n  help: `corral serve --stop` stops it"
        ))),
        Err(StartError::Io { context, source }) => Err(CliError::internal(context, source)),
    }
}

fn ask_running(args: &ServeArgs, path: &std::path::Path) -> Result<Exit, CliError> {
    let not_running = || {
        CliError::TaskFailed(format!(
            "no server runs (socket directory {})",
            path.display()
        ))
    };
    let dir = match SocketDir::existing(path) {
        Ok(dir) => dir,
        Err(_) if !path.exists() => return Err(not_running()),
        Err(error) => return Err(CliError::Usage(error.to_string())),
    };
    let client = Client::new(dir.path()).map_err(|error| CliError::Usage(error.to_string()))?;
    let op = if args.status { Op::Status } else { Op::Stop };
    match client.ask(&op, Some(Duration::from_secs(5))) {
        Ok(Answer::Status(status)) => {
            print_raw(&format!(
                "pid={} clients={} runs={} reused={} tasks={} watched={} version={}\n",
                status.pid,
                status.clients,
                status.runs,
                status.reused,
                status.tasks,
                status.watched,
                status.build.version
            ))?;
            Ok(Exit::Success)
        }
        Ok(Answer::Stopping) => {
            if client::wait_until_gone(client.dir(), Duration::from_secs(10)) {
                print_raw("stopped\n")?;
                Ok(Exit::Success)
            } else {
                Err(CliError::internal(
                    "the server did not stop within 10 s",
                    std::io::Error::from(std::io::ErrorKind::TimedOut),
                ))
            }
        }
        Ok(other) => Err(CliError::internal(
            "unexpected answer from the server",
            std::io::Error::other(format!("{other:?}")),
        )),
        Err(AskError::NoServer(_)) => Err(not_running()),
        Err(AskError::OtherBuild(version)) => Err(CliError::Usage(format!(
            "the running server is another build of corral ({version})\n  help: stop it with that build's `corral serve --stop`, or wait for it to exit when idle"
        ))),
        Err(error) => Err(CliError::internal("cannot reach the server", error)),
    }
}
