//! `corral man`: corral's man page in roff, generated from the clap
//! definition, so the page and `--help` say the same.

use clap::CommandFactory;

use super::Cli;
use super::exit::{CliError, Exit};
use super::output::print_raw;

pub fn man() -> Result<Exit, CliError> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(|error| CliError::internal("cannot render the man page", error))?;
    print_raw(&String::from_utf8_lossy(&page))?;
    Ok(Exit::Success)
}
