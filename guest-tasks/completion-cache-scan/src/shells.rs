//! Recognising completion definitions for zsh, bash and fish.

use std::collections::BTreeSet;
use std::fmt;

use crate::getopt::getopt;
use crate::words::{Dialect, logical_lines, simple_commands};

/// The shell a definition is for; ordered as its name sorts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Shell {
    Bash,
    Fish,
    Zsh,
}

impl Shell {
    /// The shell named as [`Display`](fmt::Display) writes it.
    pub fn named(name: &str) -> Option<Shell> {
        [Shell::Bash, Shell::Fish, Shell::Zsh]
            .into_iter()
            .find(|shell| shell.to_string() == name)
    }
}

impl fmt::Display for Shell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Shell::Bash => "bash",
            Shell::Fish => "fish",
            Shell::Zsh => "zsh",
        })
    }
}

/// The shell a file is written for and the commands it completes, if any.
///
/// Fish files are told by their `.fish` extension and zsh files by a leading
/// `#compdef`; other files are read as bash only if their extension is none,
/// `.bash` or `.sh`, so a README's "complete the form" is never a definition.
pub fn scan(file_name: &str, text: &str) -> Option<(Shell, BTreeSet<String>)> {
    let extension = file_name.rsplit_once('.').map(|(_, ext)| ext);
    let (shell, commands) = if extension == Some("fish") {
        (
            Shell::Fish,
            complete_commands(text, Dialect::Fish, fish_names),
        )
    } else if let Some(commands) = text.lines().next().and_then(compdef) {
        (Shell::Zsh, commands)
    } else if matches!(extension, None | Some("bash" | "sh")) {
        (
            Shell::Bash,
            complete_commands(text, Dialect::Posix, bash_names),
        )
    } else {
        return None;
    };
    (!commands.is_empty()).then_some((shell, commands))
}

/// The commands named on a zsh `#compdef` line; `None` if it is not one.
fn compdef(first_line: &str) -> Option<BTreeSet<String>> {
    let rest = first_line.strip_prefix("#compdef")?;
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let mut commands = BTreeSet::new();
    let mut patterns = false;
    for word in rest.split_whitespace() {
        match word {
            // `-p`/`-P` introduce patterns, until `-N` returns to names.
            "-p" | "-P" => patterns = true,
            "-N" => patterns = false,
            // Key bindings: the rest are widgets and key sequences.
            "-k" | "-K" => break,
            // Other options and contexts such as `-redirect-`.
            _ if word.starts_with('-') || patterns => {}
            // `zcat=gunzip`: the command is `zcat`, completed as `gunzip`.
            _ => add(
                &mut commands,
                word.split_once('=').map_or(word, |(name, _)| name),
            ),
        }
    }
    Some(commands)
}

/// Collects the names from every `complete` invocation in `text`.
fn complete_commands(
    text: &str,
    dialect: Dialect,
    names: fn(&[String]) -> Vec<&str>,
) -> BTreeSet<String> {
    let mut commands = BTreeSet::new();
    for line in logical_lines(text) {
        for words in simple_commands(&line, dialect) {
            let words = skip_prefixes(&words);
            if let Some((first, args)) = words.split_first()
                && first == "complete"
            {
                for name in names(args) {
                    add(&mut commands, name);
                }
            }
        }
    }
    commands
}

/// Drops words that may precede a command: `builtin complete ...`, `then ...`.
fn skip_prefixes(words: &[String]) -> &[String] {
    let keep = words
        .iter()
        .position(|w| {
            !matches!(
                w.as_str(),
                "builtin" | "command" | "then" | "do" | "else" | "{" | "!"
            )
        })
        .unwrap_or(words.len());
    &words[keep..]
}

/// Bash: `complete [-abcdefgjksuv] [-o opt] [-A act] [-F fn] ... name ...`.
///
/// Options stop at the first operand; every operand is a command name.
/// `-p` prints and `-r` removes, so such lines define nothing.
fn bash_names(args: &[String]) -> Vec<&str> {
    let (options, operands) = getopt(args, "oAGWFCXPS", &[], false);
    if options.iter().any(|(o, _)| matches!(o.as_str(), "p" | "r")) {
        return Vec::new();
    }
    operands
}

/// Fish: `complete -c NAME`, `--command NAME` (or `=NAME`), or a bare
/// `complete NAME`, with options in any order.
///
/// `-C` queries and `-e` erases, so such lines define nothing.
fn fish_names(args: &[String]) -> Vec<&str> {
    const LONG_WITH_VALUE: &[&str] = &[
        "command",
        "path",
        "short-option",
        "long-option",
        "old-option",
        "arguments",
        "description",
        "condition",
        "wraps",
    ];
    let (options, mut names) = getopt(args, "cpslodanwC", LONG_WITH_VALUE, true);
    let mut commands = Vec::new();
    for (option, value) in options {
        match (option.as_str(), value) {
            ("C" | "do-complete" | "e" | "erase", _) => return Vec::new(),
            ("c" | "command", Some(name)) => commands.push(name),
            _ => {}
        }
    }
    names.append(&mut commands);
    names
}

/// Keeps names that are literal and fit in a TAB-separated index line.
fn add(commands: &mut BTreeSet<String>, name: &str) {
    let literal = !name.is_empty()
        && !name.starts_with('-')
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '$' | '`' | '*' | '?'));
    if literal {
        commands.insert(name.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(file_name: &str, text: &str) -> Option<(Shell, Vec<String>)> {
        scan(file_name, text).map(|(shell, set)| (shell, set.into_iter().collect()))
    }

    fn some(shell: Shell, commands: &[&str]) -> Option<(Shell, Vec<String>)> {
        Some((shell, commands.iter().map(|c| c.to_string()).collect()))
    }

    #[test]
    fn zsh_compdef_names_and_options() {
        assert_eq!(
            names("_git", "#compdef git git-cvsserver\n"),
            some(Shell::Zsh, &["git", "git-cvsserver"])
        );
        assert_eq!(
            names("_gzip", "#compdef gzip gunzip zcat=gunzip -p 'gz*' -N xz\n"),
            some(Shell::Zsh, &["gunzip", "gzip", "xz", "zcat"])
        );
        assert_eq!(
            names("_redir", "#compdef -redirect-,<,bzip2=bunzip2\n"),
            None
        );
        assert_eq!(names("_keys", "#compdef -k complete-word \\C-xc\n"), None);
        assert_eq!(
            names("_helper", "#autoload\ncomplete -F _x x\n"),
            some(Shell::Bash, &["x"])
        );
        assert_eq!(names("notes.txt", "#compdefined later\n"), None);
    }

    #[test]
    fn bash_complete_lines() {
        let text = "\
# comment: complete -F _no no
_foo() { COMPREPLY=(); }
complete -F _foo foo
have bar && complete -o default -o nospace -F _bar bar baz 2>/dev/null
builtin complete -W 'a b' -- qux
complete -onospace -F_x x1
complete -F _dyn $cmd
complete -r gone
complete -p
complete -o default \\
    -F _multi multi
";
        assert_eq!(
            names("foo.bash", text),
            some(Shell::Bash, &["bar", "baz", "foo", "multi", "qux", "x1"])
        );
        assert_eq!(names("README.md", "complete -F _foo foo\n"), None);
        assert_eq!(names("foo", "echo nothing to see\n"), None);
    }

    #[test]
    fn fish_complete_lines() {
        let text = "\
complete -c corral -n __fish_use_subcommand -a run -d 'Run tasks'
complete --command git -l help
complete --command=hg -s v
complete -fc rg -l files
complete basename -s a -d 'work on multiple arguments'
complete -c 'quoted name'
complete -d '-c fake' -c real
set -la subcommands (complete -C'cargo-' | string replace -rf '^cargo-(\\w+).*' '$1')
complete -e -c erased
complete -p '*clang++*' -xa '(__fish_complete_clang)'
";
        assert_eq!(
            names("corral.fish", text),
            some(
                Shell::Fish,
                &["basename", "corral", "git", "hg", "real", "rg"]
            )
        );
    }
}
