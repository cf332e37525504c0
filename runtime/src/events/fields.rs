//! The `key=value key="quoted value"` text of segment lines, both ways.

use std::collections::HashMap;

use crate::escape::push_escaped;

/// Quotes a free-text value so a line stays one line of `key=value` pairs
/// and nothing a display could misrender (an ANSI escape, a bidirectional
/// override) reaches a terminal raw: escaped as everywhere else.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            c => push_escaped(&mut out, c),
        }
    }
    out.push('"');
    out
}

/// Splits `key=value key="quoted value"` pairs, undoing `events::quote`.
pub fn parse_fields(mut rest: &str) -> Result<HashMap<String, String>, String> {
    let mut fields = HashMap::new();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return Ok(fields);
        }
        let (key, after) = rest
            .split_once('=')
            .filter(|(key, _)| !key.is_empty() && !key.contains(char::is_whitespace))
            .ok_or("a field is not key=value")?;
        let (value, next) = match after.strip_prefix('"') {
            Some(quoted) => unquote(quoted).ok_or("a quoted value does not end")?,
            None => {
                let (value, next) = after.split_once(char::is_whitespace).unwrap_or((after, ""));
                (value.to_owned(), next)
            }
        };
        fields.insert(key.to_owned(), value);
        rest = next;
    }
}

/// Reads a quoted value up to its closing quote (`quoted` starts after the
/// opening one); returns the value and the text after it.
fn unquote(quoted: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = quoted.char_indices();
    while let Some((index, c)) = chars.next() {
        match c {
            '"' => return Some((value, &quoted[index + 1..])),
            '\\' => match chars.next()?.1 {
                'n' => value.push('\n'),
                't' => value.push('\t'),
                'u' => {
                    if chars.next()?.1 != '{' {
                        return None;
                    }
                    let hex: String = chars
                        .by_ref()
                        .map(|(_, c)| c)
                        .take_while(|c| *c != '}')
                        .collect();
                    let code = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                    value.push(code.unwrap_or(char::REPLACEMENT_CHARACTER));
                }
                other => value.push(other),
            },
            c => value.push(c),
        }
    }
    None
}
