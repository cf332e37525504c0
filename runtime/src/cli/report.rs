//! `corral report`: a run's event file drawn as an SVG timeline.

use std::path::Path;

use super::exit::{CliError, Exit};
use crate::fs::durable::write_atomically;
use crate::views::report::render_svg;

pub fn report(events: &Path, out: &Path) -> Result<Exit, CliError> {
    let text = std::fs::read_to_string(events).map_err(|error| {
        CliError::Usage(format!(
            "cannot read event file {}: {error}",
            events.display()
        ))
    })?;
    let svg = render_svg(&text)
        .map_err(|error| CliError::Usage(format!("{}: {error}", events.display())))?;
    write_atomically(out, svg.as_bytes())
        .map_err(|error| CliError::Usage(format!("cannot write {}: {error}", out.display())))?;
    eprintln!("corral: wrote {}", out.display());
    Ok(Exit::Success)
}
