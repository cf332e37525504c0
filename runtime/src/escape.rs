//! Text from a manifest or a guest, made safe to print: control characters
//! and the invisible characters that reorder or hide text (bidirectional
//! overrides, zero-width marks) are written as `\u{..}`, so a crafted path
//! or message cannot rewrite what a terminal, an audit or a review shows.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with every character a display could misrender escaped. Plain
/// text comes back borrowed.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

/// Appends `c`, escaped if a display could misrender it.
pub fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\\' => out.push_str("\\\\"),
        c if needs_escape(c) => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || c == '\\'
        || matches!(
            c,
            '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_untouched_and_tricks_are_visible() {
        assert!(matches!(escape("/home/me/data"), Cow::Borrowed(_)));
        assert_eq!(escape("a\u{1b}[2Kb"), "a\\u{1b}[2Kb");
        assert_eq!(escape("ro\u{202e}wr"), "ro\\u{202e}wr");
        assert_eq!(escape("line\nnext\\"), "line\\nnext\\\\");
    }
}
