//! The run's mode: whether tasks run for real, on scratch copies, or not
//! at all. Reported as `sample=` on every segment.

/// The run's mode, reported as `sample=` on every segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    On,
    Shadow,
    Off,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::On => "on",
            Mode::Shadow => "shadow",
            Mode::Off => "off",
        }
    }
}
