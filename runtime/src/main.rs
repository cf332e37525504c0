use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use corral::Cli;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let process_start = Instant::now();
    // Diagnostics for people go to stderr, filtered by CORRAL_LOG (default: warnings).
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("CORRAL_LOG").unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    let exit = cli.execute(process_start).unwrap_or_else(|error| {
        // Errors quote paths and values from the manifest: escaped, so
        // they cannot rewrite the terminal.
        for (index, line) in error.to_string().lines().enumerate() {
            let prefix = if index == 0 { "corral: error: " } else { "" };
            eprintln!("{prefix}{}", corral::escape(line));
        }
        error.exit()
    });
    ExitCode::from(exit as u8)
}
