//! What commands print on stdout: text from a manifest or a guest escaped
//! the one way corral escapes it, and a closed pipe (`corral list | head`)
//! ending the output quietly instead of as an error.

use std::io::{self, Write};

use super::exit::CliError;
use crate::escape::escape;

/// Prints `text` line by line, each line escaped.
pub fn print_escaped(text: &str) -> Result<(), CliError> {
    let mut escaped = String::with_capacity(text.len());
    for line in text.lines() {
        escaped.push_str(&escape(line));
        escaped.push('\n');
    }
    print_raw(&escaped)
}

/// `manifest: /absolute/path`: the first line of `check`, `list` and
/// `audit`, so that which manifest was read (given, `$CORRAL_MANIFEST`,
/// `./manifest.toml` or the user's) is never a guess.
pub fn manifest_line(path: &std::path::Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    format!("manifest: {}\n", escape(&absolute.display().to_string()))
}

/// Prints `text` as it is (JSON, shell code, results meant for programs).
pub fn print_raw(text: &str) -> Result<(), CliError> {
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(error) if error.kind() != io::ErrorKind::BrokenPipe => {
            Err(CliError::internal("cannot write to stdout", error))
        }
        _ => Ok(()),
    }
}
