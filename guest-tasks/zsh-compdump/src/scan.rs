//! The files `compinit` reads: in each `$fpath` directory, every name
//! matching `^([^_]*|*~|*.zwc)` (starting with `_`, not a backup, not
//! compiled), the first of a name across the directories winning; and of
//! each, the first line split into words as `IFS=$' \t' read -rA` does.
//!
//! Each directory is listed with its files' stat in one host call
//! (`corral:task/files`); a regular file whose stat is unchanged since the
//! last scan is not read again: its words come from the task's private
//! state (`corral_task_files::known`).

use std::collections::HashSet;
use std::fs;
use std::io::{BufRead, BufReader, Read};

use corral_task_files::known::{self, Known, Stamp};
use corral_task_files::{DescriptorType, FileStat, list_dir, open_dir};

/// The state file of first lines, and its format's tag.
pub const STATE_FILE: &str = "first-lines";
pub const STATE_TAG: &str = "zsh-compdump first lines v1";

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
    /// `(path, stamp, words joined by spaces)` of each file read or
    /// reused, for the next scan.
    pub first_lines: Vec<(String, Stamp, String)>,
    /// Files read this scan; the others were provably unchanged.
    pub read: usize,
}

/// The names in `dir` that are UTF-8, sorted.
fn names_in(dir: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

pub fn scan(fpath: &[String], known: &Known) -> Found {
    let mut found = Found::default();
    let mut seen = HashSet::new();
    for dir in fpath.iter().filter(|dir| dir.as_str() != ".") {
        // compinit's glob has `(N)`: a missing directory is no error.
        let Some(descriptor) = open_dir(dir) else {
            continue;
        };
        // A name that is not UTF-8 fails the one-call listing; std's
        // listing skips just that name, and its files are read afresh.
        let entries: Vec<(String, Option<FileStat>)> = match list_dir(&descriptor) {
            Ok(entries) => entries
                .into_iter()
                .map(|e| (e.name, Some(e.stat)))
                .collect(),
            Err(_) => names_in(dir).into_iter().map(|name| (name, None)).collect(),
        };
        let entries: Vec<_> = entries
            .into_iter()
            .filter(|(name, _)| is_function_name(name))
            .collect();
        found.count += entries.len();
        for (name, stat) in entries {
            if !seen.insert(name.clone()) {
                continue;
            }
            if !is_plain_word(&name) {
                found.unsafe_names.push(format!("{dir}/{name}"));
                continue;
            }
            let path = format!("{dir}/{name}");
            let stamp = match stat.as_ref().map(|stat| stat.type_) {
                Some(DescriptorType::RegularFile) => stat.as_ref().map(Stamp::of),
                Some(DescriptorType::SymbolicLink) => known::followed(&descriptor, &name),
                _ => None,
            };
            let reused = stamp.and_then(|stamp| known.get(&path, stamp));
            let words = match reused {
                Some(line) => Ok(line
                    .split(' ')
                    .filter(|w| !w.is_empty())
                    .map(str::to_owned)
                    .collect()),
                None => {
                    found.read += 1;
                    first_line_words(&path)
                }
            };
            match words {
                Ok(words) => {
                    if let Some(stamp) = stamp {
                        found.first_lines.push((path, stamp, words.join(" ")));
                    }
                    found.files.push(FunctionFile { name, words });
                }
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
