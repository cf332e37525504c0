//! The prompt theme format: `role = #rrggbb` lines, blanks and `#` comments.

use crate::xterm::Rgb;

/// One `role = #rrggbb` line.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry {
    pub role: String,
    pub color: Rgb,
}

/// Parses a theme, keeping file order.
///
/// `Err` names the 1-based line and what is wrong with it.
pub fn parse(text: &str) -> Result<Vec<Entry>, String> {
    let mut entries: Vec<Entry> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let entry = parse_entry(line).map_err(|why| format!("line {number}: {why}"))?;
        if entries.iter().any(|e| e.role == entry.role) {
            return Err(format!("line {number}: role {:?} is set twice", entry.role));
        }
        entries.push(entry);
    }
    Ok(entries)
}

fn parse_entry(line: &str) -> Result<Entry, String> {
    let (role, value) = line
        .split_once('=')
        .ok_or_else(|| format!("expected `role = #rrggbb`, got {line:?}"))?;
    let role = role.trim();
    // Roles become `role=index` words in the result, so keep them to one token.
    if role.is_empty()
        || !role
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(format!("invalid role name {role:?}"));
    }
    let value = value.trim();
    let color = parse_hex(value).ok_or_else(|| format!("expected #rrggbb, got {value:?}"))?;
    Ok(Entry {
        role: role.to_owned(),
        color,
    })
}

fn parse_hex(value: &str) -> Option<Rgb> {
    let hex = value.strip_prefix('#')?;
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some(Rgb(channel(0)?, channel(2)?, channel(4)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_roles_in_file_order() {
        let text = "# prompt colours\n\n  branch = #5FAF87  \npath=#0000ff\n";
        assert_eq!(
            parse(text),
            Ok(vec![
                Entry {
                    role: "branch".into(),
                    color: Rgb(0x5f, 0xaf, 0x87)
                },
                Entry {
                    role: "path".into(),
                    color: Rgb(0, 0, 0xff)
                },
            ])
        );
    }

    #[test]
    fn names_the_bad_line() {
        for (text, line) in [
            ("a = #000000\nb = red\n", "line 2:"),
            ("\n\nnothing here\n", "line 3:"),
            ("a = #00000\n", "line 1:"),
            ("a = #gg0000\n", "line 1:"),
            ("a = 000000\n", "line 1:"),
            (" = #000000\n", "line 1:"),
            ("two words = #000000\n", "line 1:"),
            ("a = #000000\na = #ffffff\n", "line 2:"),
            ("a = #+f0000\n", "line 1:"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.starts_with(line), "{text:?}: {err}");
        }
    }

    #[test]
    fn empty_theme_is_fine() {
        assert_eq!(parse("# nothing yet\n"), Ok(vec![]));
    }
}
