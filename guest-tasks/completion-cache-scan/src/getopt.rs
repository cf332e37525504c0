//! Option parsing for the arguments of a `complete` invocation.

/// A small getopt: `-abc`, `-oVALUE`, `-o VALUE`, `--long VALUE`,
/// `--long=VALUE`, `--lo VALUE` and `--`. Returns `(option, value)` pairs,
/// long options under their full names, and operands.
///
/// `short_with_value` lists short options that take a value and
/// `long_with_value` the long ones; `permute` lets options follow operands.
pub fn getopt<'a>(
    args: &'a [String],
    short_with_value: &str,
    long_with_value: &[&str],
    permute: bool,
) -> (Vec<(String, Option<&'a str>)>, Vec<&'a str>) {
    let mut options = Vec::new();
    let mut operands = Vec::new();
    let mut args = args.iter().map(String::as_str);
    while let Some(arg) = args.next() {
        if arg == "--" {
            operands.extend(args.by_ref());
        } else if let Some(long) = arg.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => match unique_prefix_of(long, long_with_value) {
                    Some(full) => (full, args.next()),
                    None => (long, None),
                },
            };
            options.push((name.to_owned(), value));
        } else if let Some(shorts) = arg.strip_prefix('-').filter(|s| !s.is_empty()) {
            for (i, c) in shorts.char_indices() {
                if short_with_value.contains(c) {
                    let rest = &shorts[i + c.len_utf8()..];
                    let value = if rest.is_empty() {
                        args.next()
                    } else {
                        Some(rest)
                    };
                    options.push((c.to_string(), value));
                    break;
                }
                options.push((c.to_string(), None));
            }
        } else {
            operands.push(arg);
            if !permute {
                operands.extend(args.by_ref());
            }
        }
    }
    (options, operands)
}

/// GNU getopt accepts any unambiguous prefix: `--desc` for `--description`.
fn unique_prefix_of<'a>(prefix: &str, longs: &[&'a str]) -> Option<&'a str> {
    let mut matches = longs.iter().filter(|long| long.starts_with(prefix));
    match (matches.next(), matches.next()) {
        (Some(long), None) => Some(long),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_short_options_values_and_operands() {
        let args: Vec<String> = ["-o", "x", "-Fy", "--", "-n", "m"].map(String::from).into();
        let (options, operands) = getopt(&args, "oF", &[], false);
        assert_eq!(
            options,
            vec![("o".to_owned(), Some("x")), ("F".to_owned(), Some("y"))]
        );
        assert_eq!(operands, vec!["-n", "m"]);
    }

    #[test]
    fn long_options_and_permutation() {
        let args: Vec<String> = ["--com", "a", "op", "--path=/p", "-fc", "b", "--flag"]
            .map(String::from)
            .into();
        let (options, operands) = getopt(&args, "c", &["command", "condition"], true);
        assert_eq!(
            options,
            vec![
                ("command".to_owned(), Some("a")),
                ("path".to_owned(), Some("/p")),
                ("f".to_owned(), None),
                ("c".to_owned(), Some("b")),
                ("flag".to_owned(), None),
            ]
        );
        assert_eq!(operands, vec!["op"]);
        let (_, operands) = getopt(&args[2..], "c", &["command"], false);
        assert_eq!(operands.len(), 5);
        // `--co` could be `--command` or `--condition`: no value is taken.
        let args: Vec<String> = ["--co", "x"].map(String::from).into();
        let (options, operands) = getopt(&args, "", &["command", "condition"], true);
        assert_eq!(options, vec![("co".to_owned(), None)]);
        assert_eq!(operands, vec!["x"]);
    }
}
