//! The baseline: `sha256sum`-style lines, and how a tree differs from it.
//!
//! Digests are kept as a list sorted by path, borrowed where they can be:
//! a tree of thousands of files is compared in one merge pass, where maps
//! of owned strings cost more than the scan itself.

use std::borrow::Cow;
use std::fmt;

/// A path and its lowercase hex sha256.
pub type Digest<'a> = (&'a str, Cow<'a, str>);

/// Digests sorted by path, no path twice.
pub type Digests<'a> = Vec<Digest<'a>>;

/// Parses `<64 hex>  <path>` lines (` *<path>`, binary mode, also accepted),
/// borrowing from `text`, into digests sorted by path.
///
/// Blank lines are skipped; `Err` names the first bad line, 1-based.
pub fn parse(text: &str) -> Result<Digests<'_>, String> {
    let mut lines: Vec<(&str, Cow<'_, str>, usize)> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.is_empty() {
            continue;
        }
        let (hex, path) = split_line(line)
            .ok_or_else(|| format!("line {number}: expected `<sha256>  <path>`"))?;
        let hex = match hex.bytes().any(|b| b.is_ascii_uppercase()) {
            true => Cow::Owned(hex.to_ascii_lowercase()),
            false => Cow::Borrowed(hex),
        };
        lines.push((path, hex, number));
    }
    // A baseline this task wrote is sorted already: checked in one pass.
    if !lines.is_sorted_by(|a, b| a.0 <= b.0) {
        lines.sort_by(|a, b| a.0.cmp(b.0).then(a.2.cmp(&b.2)));
    }
    let twice = lines
        .windows(2)
        .filter(|pair| pair[0].0 == pair[1].0)
        .map(|pair| &pair[1])
        .min_by_key(|line| line.2);
    if let Some(twice) = twice {
        return Err(format!("line {}: {} is listed twice", twice.2, twice.0));
    }
    Ok(lines
        .into_iter()
        .map(|(path, hex, _)| (path, hex))
        .collect())
}

fn split_line(line: &str) -> Option<(&str, &str)> {
    let (hex, rest) = line.split_at_checked(64)?;
    let path = rest
        .strip_prefix("  ")
        .or_else(|| rest.strip_prefix(" *"))?;
    (hex.bytes().all(|b| b.is_ascii_hexdigit()) && !path.is_empty()).then_some((hex, path))
}

/// Renders digests in the format [`parse`] reads, which `sha256sum -c` accepts.
pub fn render(digests: &[Digest<'_>]) -> String {
    let mut text = String::with_capacity(digests.len() * 100);
    for (path, hex) in digests {
        text.push_str(hex);
        text.push_str("  ");
        text.push_str(path);
        text.push('\n');
    }
    text
}

/// How one path differs from the baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    Added,
    Removed,
    Changed,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Changed => "changed",
        })
    }
}

/// Every difference between `baseline` and `current` (both sorted by
/// path), sorted by path: one merge pass.
pub fn diff<'a>(baseline: &[Digest<'a>], current: &[Digest<'a>]) -> Vec<(&'a str, Change)> {
    use std::cmp::Ordering;
    let (mut old, mut new) = (baseline.iter().peekable(), current.iter().peekable());
    let mut changes = Vec::new();
    loop {
        let order = match (old.peek(), new.peek()) {
            (None, None) => return changes,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(was), Some(is)) => was.0.cmp(is.0),
        };
        match order {
            Ordering::Less => {
                let (path, _) = old.next().unwrap();
                changes.push((*path, Change::Removed));
            }
            Ordering::Greater => {
                let (path, _) = new.next().unwrap();
                changes.push((*path, Change::Added));
            }
            Ordering::Equal => {
                let ((path, was), (_, is)) = (old.next().unwrap(), new.next().unwrap());
                if was != is {
                    changes.push((*path, Change::Changed));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digests<'a>(entries: &[(&'a str, char)]) -> Digests<'a> {
        entries
            .iter()
            .map(|&(path, c)| (path, Cow::Owned(c.to_string().repeat(64))))
            .collect()
    }

    #[test]
    fn parses_sha256sum_output() {
        let text = format!(
            "{}  a.txt\n{} *dir/with space\n\n",
            "A".repeat(64),
            "b".repeat(64)
        );
        assert_eq!(
            parse(&text),
            Ok(digests(&[("a.txt", 'a'), ("dir/with space", 'b')]))
        );
    }

    #[test]
    fn an_unsorted_baseline_is_read_sorted() {
        let text = format!("{}  z\n{}  a\n", "1".repeat(64), "2".repeat(64));
        assert_eq!(parse(&text), Ok(digests(&[("a", '2'), ("z", '1')])));
    }

    #[test]
    fn round_trips() {
        let d = digests(&[("a/b", '2'), ("z", '1')]);
        assert_eq!(parse(&render(&d)), Ok(d));
    }

    #[test]
    fn names_the_malformed_line() {
        let good = format!("{}  ok\n", "0".repeat(64));
        for (bad, line) in [
            (format!("{good}garbage\n"), 2),
            (format!("{good}{}  \n", "0".repeat(64)), 2),
            (format!("{}x  p\n", "0".repeat(63)), 1),
            (format!("{} p\n", "0".repeat(64)), 1),
            (format!("{good}\n{good}"), 3),
            (format!("{}  z\n{good}{good}", "1".repeat(64)), 3),
        ] {
            let err = parse(&bad).unwrap_err();
            assert!(err.starts_with(&format!("line {line}:")), "{bad:?}: {err}");
        }
    }

    #[test]
    fn diffs_sorted_by_path() {
        let baseline = digests(&[("a", '1'), ("b", '1'), ("d", '1')]);
        let current = digests(&[("a", '1'), ("b", '2'), ("c", '1')]);
        assert_eq!(
            diff(&baseline, &current),
            vec![
                ("b", Change::Changed),
                ("c", Change::Added),
                ("d", Change::Removed)
            ]
        );
        assert!(diff(&current, &current).is_empty());
        assert_eq!(diff(&[], &current).len(), 3);
        assert_eq!(diff(&current, &[]).len(), 3);
    }
}
