//! The baseline: `sha256sum`-style lines, and how a tree differs from it.

use std::collections::BTreeMap;
use std::fmt;

/// Relative path to lowercase hex sha256, sorted by path.
pub type Digests = BTreeMap<String, String>;

/// Parses `<64 hex>  <path>` lines (` *<path>`, binary mode, also accepted).
///
/// Blank lines are skipped; `Err` names the first bad line, 1-based.
pub fn parse(text: &str) -> Result<Digests, String> {
    let mut digests = Digests::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.is_empty() {
            continue;
        }
        let (hex, path) = split_line(line)
            .ok_or_else(|| format!("line {number}: expected `<sha256>  <path>`"))?;
        if digests
            .insert(path.to_owned(), hex.to_ascii_lowercase())
            .is_some()
        {
            return Err(format!("line {number}: {path} is listed twice"));
        }
    }
    Ok(digests)
}

fn split_line(line: &str) -> Option<(&str, &str)> {
    let (hex, rest) = line.split_at_checked(64)?;
    let path = rest
        .strip_prefix("  ")
        .or_else(|| rest.strip_prefix(" *"))?;
    (hex.bytes().all(|b| b.is_ascii_hexdigit()) && !path.is_empty()).then_some((hex, path))
}

/// Renders digests in the format [`parse`] reads, which `sha256sum -c` accepts.
pub fn render(digests: &Digests) -> String {
    digests
        .iter()
        .map(|(path, hex)| format!("{hex}  {path}\n"))
        .collect()
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

/// Every difference between `baseline` and `current`, sorted by path.
pub fn diff<'a>(baseline: &'a Digests, current: &'a Digests) -> Vec<(&'a str, Change)> {
    let mut changes: Vec<(&str, Change)> = current
        .iter()
        .filter_map(|(path, hex)| match baseline.get(path) {
            None => Some((path.as_str(), Change::Added)),
            Some(old) if old != hex => Some((path.as_str(), Change::Changed)),
            Some(_) => None,
        })
        .chain(
            baseline
                .keys()
                .filter(|path| !current.contains_key(*path))
                .map(|path| (path.as_str(), Change::Removed)),
        )
        .collect();
    changes.sort();
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digests(entries: &[(&str, char)]) -> Digests {
        entries
            .iter()
            .map(|&(path, c)| (path.to_owned(), c.to_string().repeat(64)))
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
    fn round_trips() {
        let d = digests(&[("z", '1'), ("a/b", '2')]);
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
    }
}
