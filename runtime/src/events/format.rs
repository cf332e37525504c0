//! Where and how a run's events are written, as chosen on the command line.

use std::path::PathBuf;

/// How events are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EventFormat {
    /// `SEGMENT name=... ms=...` lines, for people and performance tooling.
    #[default]
    Segment,
    /// One JSON object per line, for tools.
    Json,
}

/// Where events are written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum EventTarget {
    #[default]
    Stderr,
    Stdout,
    File(PathBuf),
    /// Nowhere: `corral bench` keeps only each sample's outcome.
    Discard,
}

impl EventTarget {
    /// Parses the `--events` argument: `-` is stdout, anything else a file.
    pub fn from_arg(arg: &str) -> Self {
        if arg == "-" {
            Self::Stdout
        } else {
            Self::File(PathBuf::from(arg))
        }
    }
}
