//! The command line's vocabulary for values the stages below type on their
//! own: clap stays in `cli`.

use crate::events::EventFormat;
use crate::mode::Mode;

/// `--mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ModeArg {
    On,
    Shadow,
    Off,
}

impl From<ModeArg> for Mode {
    fn from(arg: ModeArg) -> Mode {
        match arg {
            ModeArg::On => Mode::On,
            ModeArg::Shadow => Mode::Shadow,
            ModeArg::Off => Mode::Off,
        }
    }
}

/// `--events-format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// `SEGMENT name=... ms=...` lines, for people and performance tooling.
    Segment,
    /// One JSON object per line, for tools.
    Json,
}

impl From<FormatArg> for EventFormat {
    fn from(arg: FormatArg) -> EventFormat {
        match arg {
            FormatArg::Segment => EventFormat::Segment,
            FormatArg::Json => EventFormat::Json,
        }
    }
}
