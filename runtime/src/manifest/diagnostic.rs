//! Manifest errors that point into the file: path, line, key and a fix.

use crate::escape::escape;
use std::fmt;
use std::io;
use std::ops::Range;
use std::path::PathBuf;

/// One problem in a manifest, located and explained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: usize,
    /// The offending key, dotted where that helps (`task.dir.mode`).
    pub key: String,
    pub message: String,
    /// How to fix it.
    pub help: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: `{}`: {}\n  help: {}",
            escape(&self.file.display().to_string()),
            self.line,
            self.key,
            escape(&self.message),
            self.help
        )
    }
}

/// Why a manifest could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read manifest {}: {source}\n  help: pass --manifest PATH, set CORRAL_MANIFEST, or run corral where manifest.toml is", escape(&path.display().to_string()))]
    Read { path: PathBuf, source: io::Error },
    #[error("{}", render(.0))]
    Invalid(Vec<Diagnostic>),
}

fn render(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(Diagnostic::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Turns byte offsets into line numbers and builds diagnostics for one file.
pub(crate) struct Locator<'a> {
    pub file: &'a std::path::Path,
    pub text: &'a str,
    /// Offset of the first byte of each line after the first, so a line
    /// number is a binary search (a 20,000-task manifest asks 40,000 times).
    line_starts: Vec<usize>,
}

impl<'a> Locator<'a> {
    pub fn new(file: &'a std::path::Path, text: &'a str) -> Self {
        let line_starts = text
            .bytes()
            .enumerate()
            .filter(|(_, b)| *b == b'\n')
            .map(|(index, _)| index + 1)
            .collect();
        Locator {
            file,
            text,
            line_starts,
        }
    }

    pub fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.line_starts.partition_point(|&start| start <= end) + 1
    }

    pub fn at(
        &self,
        span: Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            file: self.file.to_path_buf(),
            line: self.line_of(span.start),
            key: key.into(),
            message: message.into(),
            help: help.into(),
        }
    }

    /// Converts a TOML parse or schema error. The key is taken from the
    /// message when serde names it (unknown or missing field), otherwise
    /// from the `key = value` text on the offending line.
    pub fn toml_error(&self, error: &toml::de::Error) -> Diagnostic {
        let span = error.span().unwrap_or(0..0);
        let message = error.message().trim().to_string();
        let key = backticked_field(&message)
            .or_else(|| self.key_on_line(span.start))
            .unwrap_or_else(|| "(document)".to_string());
        let help = if message.starts_with("unknown field") {
            "remove the key or fix its spelling; see docs/manifest.md"
        } else if message.starts_with("missing field") {
            "add the required key to this table"
        } else {
            "fix the value's type or spelling; see docs/manifest.md"
        };
        self.at(span, key, message, help)
    }

    fn key_on_line(&self, offset: usize) -> Option<String> {
        let start = self.text[..offset.min(self.text.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let line = self.text[start..].lines().next()?;
        let (key, _) = line.split_once('=')?;
        let key = key.trim();
        (!key.is_empty()).then(|| key.to_string())
    }
}

fn backticked_field(message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("missing field `"))?;
    rest.split('`').next().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_numbers_count_from_one() {
        let locator = Locator::new(std::path::Path::new("m.toml"), "a = 1\nb = 2\n");
        assert_eq!(locator.line_of(0), 1);
        assert_eq!(locator.line_of(6), 2);
        assert_eq!(locator.key_on_line(8).as_deref(), Some("b"));
    }

    #[test]
    fn field_names_come_from_serde_messages() {
        assert_eq!(
            backticked_field("unknown field `colour`, expected one of `a`").as_deref(),
            Some("colour")
        );
        assert_eq!(backticked_field("invalid type"), None);
    }
}
