//! The files `compinit` reads: in each `$fpath` directory, every name
//! matching `^([^_]*|*~|*.zwc)` (starting with `_`, not a backup, not
//! compiled), the first of a name across the directories winning; and of
//! each, the first line split into words as `IFS=$' \t' read -rA` does.

use std::collections::HashSet;
use std::fs;
use std::io::{BufRead, BufReader, Read};

/// Longer first lines are not `#compdef` lines worth reading further.
const MAX_FIRST_LINE: u64 = 64 * 1024;

/// One function file: its name and its first line's words.
#[derive(Debug)]
pub struct FunctionFile {
    pub name: String,
    pub words: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Found {
    /// The files `compinit` would read, in `$fpath` order.
    pub files: Vec<FunctionFile>,
    /// Every matching entry of every directory, duplicates included:
    /// `compinit`'s `#files:` count.
    pub count: usize,
    pub unreadable: Vec<(String, std::io::Error)>,
    /// Files whose names could not be written into the dump safely.
    pub unsafe_names: Vec<String>,
}

pub fn scan(fpath: &[String]) -> Found {
    let mut found = Found::default();
    let mut seen = HashSet::new();
    for dir in fpath.iter().filter(|dir| dir.as_str() != ".") {
        let mut names: Vec<String> = match fs::read_dir(dir) {
            Ok(entries) => entries
                .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
                .filter(|name| is_function_name(name))
                .collect(),
            // compinit's glob has `(N)`: a missing directory is no error.
            Err(_) => continue,
        };
        names.sort();
        found.count += names.len();
        for name in names {
            if !seen.insert(name.clone()) {
                continue;
            }
            if !is_plain_word(&name) {
                found.unsafe_names.push(format!("{dir}/{name}"));
                continue;
            }
            let path = format!("{dir}/{name}");
            match first_line_words(&path) {
                Ok(words) => found.files.push(FunctionFile { name, words }),
                Err(error) => found.unreadable.push((path, error)),
            }
        }
    }
    found
}

fn is_function_name(name: &str) -> bool {
    name.starts_with('_') && !name.ends_with('~') && !name.ends_with(".zwc")
}

/// Whether `word` can stand unquoted in the dump, which the shell sources:
/// names of functions and widgets, and `autoload` options. Anything else
/// (a file named `_x;rm -rf ~` in a directory on `$fpath`) is left out.
pub fn is_plain_word(word: &str) -> bool {
    !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-+.:@".contains(&b))
}

fn first_line_words(path: &str) -> std::io::Result<Vec<String>> {
    let file = fs::File::open(path)?;
    let mut line = Vec::new();
    BufReader::new(file)
        .take(MAX_FIRST_LINE)
        .read_until(b'\n', &mut line)?;
    let line = String::from_utf8_lossy(&line);
    Ok(line
        .trim_end_matches('\n')
        .split([' ', '\t'])
        .filter(|word| !word.is_empty())
        .map(str::to_string)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_those_compinit_globs() {
        assert!(is_function_name("_git"));
        assert!(!is_function_name("git"));
        assert!(!is_function_name("_git~"));
        assert!(!is_function_name("_git.zwc"));
        assert!(is_plain_word("_git-svn.1+x"));
        assert!(!is_plain_word("_x;rm"));
        assert!(!is_plain_word("_x y"));
    }
}
