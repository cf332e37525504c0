//! `corral completions SHELL`: the completion script for corral's own
//! command line, generated from the clap definition so that it cannot lag
//! behind a new command or flag.

use clap::CommandFactory;

use super::Cli;
use super::exit::{CliError, Exit};
use super::output::print_raw;

pub fn completions(shell: clap_complete::Shell) -> Result<Exit, CliError> {
    // Generated into memory first: the generators panic on a write error,
    // and a closed pipe must end the output quietly.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "corral", &mut script);
    print_raw(&String::from_utf8_lossy(&script))?;
    Ok(Exit::Success)
}
