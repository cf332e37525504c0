//! Names and pins that carry their own rules, validated once while the TOML
//! is read and typed from then on.

use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Deserializer};

/// A task id, label, class or phase: `[a-z0-9_]{1,64}`, so it can be
/// embedded in segment names and file names (results, locks) as is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(String);

impl Name {
    /// The name, if `text` is one.
    pub fn parse(text: &str) -> Option<Name> {
        Name::is_valid(text).then(|| Name(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_valid(text: &str) -> bool {
        (1..=MAX_NAME_LEN).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    }
}

/// Longest name: a file name with room for corral's suffixes, and a
/// segment name a person can read.
pub const MAX_NAME_LEN: usize = 64;

/// A long value cut for an error message.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_NAME_LEN) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

impl Deref for Name {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Name::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{:?} is not a valid name: use 1 to {MAX_NAME_LEN} lowercase letters, digits and `_`",
                shorten(&text)
            ))
        })
    }
}

/// A component's sha256 pin: 64 lowercase hex digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Pin(String);

impl Pin {
    /// The pin, if `text` is 64 hex digits (either case).
    pub fn parse(text: &str) -> Option<Pin> {
        let text = text.to_ascii_lowercase();
        (text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())).then_some(Pin(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
