//! What `compinit` makes of each function file's first line: `#compdef`
//! lines go through `compdef -na NAME ARGS` (`compdef -Xna NAME ARGS` when
//! the first argument is `-p`, `-P`, `-k` or `-K`, optionally with `n`),
//! `#autoload` lines autoload the function with their options. This
//! mirrors `compdef` in zsh 5.9's `Completion/compinit` for those calls.

use std::collections::{BTreeMap, BTreeSet};

use crate::scan::{FunctionFile, is_plain_word};

/// The tables `compdump` writes.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Definitions {
    /// Command (or `-context-`) to completion function.
    pub comps: BTreeMap<String, String>,
    /// Command to the service it completes as (`cmd=service`).
    pub services: BTreeMap<String, String>,
    pub patcomps: BTreeMap<String, String>,
    pub postpatcomps: BTreeMap<String, String>,
    /// `#autoload` functions with options, to their options.
    pub compautos: BTreeMap<String, String>,
    /// Functions autoloaded without options.
    pub autoloads: BTreeSet<String>,
    /// `zle -C NAME WIDGET FUNCTION` completion widgets.
    pub widgets: BTreeMap<String, (String, String)>,
    /// Key sequence, as written, to the widget it is bound to.
    pub bindings: BTreeMap<String, String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Normal,
    Pattern,
    PostPattern,
    Key,
    WidgetKey,
}

impl Definitions {
    pub fn from_files(files: &[FunctionFile]) -> Definitions {
        let mut definitions = Definitions::default();
        for file in files {
            let Some((tag, rest)) = file.words.split_first() else {
                continue;
            };
            match tag.as_str() {
                "#compdef" => definitions.compdef(&file.name, rest),
                "#autoload" if rest.iter().all(|word| is_plain_word(word)) => {
                    if rest.is_empty() {
                        definitions.autoloads.insert(file.name.clone());
                    } else {
                        definitions
                            .compautos
                            .insert(file.name.clone(), rest.join(" "));
                    }
                }
                _ => {}
            }
        }
        definitions
    }

    /// `compdef -na FUNC ARGS`, or `compdef -Xna FUNC ARGS[1..]` for a
    /// first argument `-X` or `-Xn` with X one of p, P, k, K.
    fn compdef(&mut self, func: &str, args: &[String]) {
        let (kind, args) = match args.first().map(String::as_str) {
            Some(first) if is_type_option(first) => (
                match &first[1..2] {
                    "p" => Kind::Pattern,
                    "P" => Kind::PostPattern,
                    "k" => Kind::Key,
                    _ => Kind::WidgetKey,
                },
                &args[1..],
            ),
            _ => (Kind::Normal, args),
        };
        // `-a`: the function is autoloaded whatever it defines.
        self.autoloads.insert(func.to_string());
        match kind {
            Kind::WidgetKey => {
                for triple in args.chunks_exact(3) {
                    if !is_plain_word(&triple[0]) || !is_plain_word(&triple[1]) {
                        continue;
                    }
                    let name = prefixed(&triple[0], '_');
                    let widget = prefixed(&triple[1], '.');
                    self.widgets
                        .insert(name.clone(), (widget, func.to_string()));
                    self.bindings.insert(triple[2].clone(), name);
                }
            }
            Kind::Key => {
                if let Some((widget, keys)) = args.split_first() {
                    if keys.is_empty() || !is_plain_word(widget) {
                        return;
                    }
                    let widget = prefixed(widget, '.');
                    self.widgets
                        .insert(func.to_string(), (widget, func.to_string()));
                    for key in keys {
                        self.bindings.insert(key.clone(), func.to_string());
                    }
                }
            }
            Kind::Normal | Kind::Pattern | Kind::PostPattern => self.names(func, kind, args),
        }
    }

    /// The loop over names, with `-N`, `-p` and `-P` switching the kind.
    fn names(&mut self, func: &str, mut kind: Kind, args: &[String]) {
        for arg in args {
            match arg.as_str() {
                "-N" => kind = Kind::Normal,
                "-p" => kind = Kind::Pattern,
                "-P" => kind = Kind::PostPattern,
                _ => match kind {
                    Kind::Pattern => pattern(&mut self.patcomps, arg, func),
                    Kind::PostPattern => pattern(&mut self.postpatcomps, arg, func),
                    _ => {
                        let (cmd, service) = match arg.split_once('=') {
                            Some((cmd, service)) => (cmd, Some(service)),
                            None => (arg.as_str(), None),
                        };
                        // `-n` keeps an earlier definition; compinit tests
                        // the whole word, so `cmd=service` always replaces.
                        if self.comps.contains_key(arg.as_str()) {
                            continue;
                        }
                        self.comps.insert(cmd.to_string(), func.to_string());
                        if let Some(service) = service {
                            self.services.insert(cmd.to_string(), service.to_string());
                        }
                    }
                },
            }
        }
    }
}

/// `-p`, `-P`, `-k`, `-K`, each optionally followed by `n`.
fn is_type_option(word: &str) -> bool {
    matches!(
        word,
        "-p" | "-P" | "-k" | "-K" | "-pn" | "-Pn" | "-kn" | "-Kn"
    )
}

fn prefixed(word: &str, prefix: char) -> String {
    if word.starts_with(prefix) {
        word.to_string()
    } else {
        format!("{prefix}{word}")
    }
}

/// `pattern` or `pattern=service` (split at the last `=`, as zsh's greedy
/// `(#b)(*)=(*)` does).
fn pattern(table: &mut BTreeMap<String, String>, arg: &str, func: &str) {
    let (key, value) = match arg.rsplit_once('=') {
        Some((pattern, service)) => (pattern, format!("={service}={func}")),
        None => (arg, func.to_string()),
    };
    table.insert(key.to_string(), value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, line: &str) -> FunctionFile {
        FunctionFile {
            name: name.into(),
            words: line.split_whitespace().map(String::from).collect(),
        }
    }

    #[test]
    fn mirrors_compdef_for_each_kind_of_line() {
        let definitions = Definitions::from_files(&[
            file("_git", "#compdef git git-cvsserver=cvsserver"),
            file("_other_git", "#compdef git"),
            file("_python", "#compdef -P python[0-9.]#"),
            file("_init_d", "#compdef -p */(init|rc[0-9S]#).d/*"),
            file("_complete_help", "#compdef -k complete-word \\C-xh"),
            file(
                "_expand_word",
                "#compdef -K _expand_word complete-word \\C-xe _list_expansions list-choices \\C-xd",
            ),
            file("_call_program", "#autoload +X"),
            file("_main_complete", "#autoload"),
            file("_helper", "# not a tag"),
            file("_evil", "#autoload ;touch /tmp/x"),
            file("_evil_widget", "#compdef -K a;b complete-word ^Xz"),
        ]);
        assert_eq!(definitions.comps["git"], "_git", "-n keeps the first");
        assert_eq!(definitions.services["git-cvsserver"], "cvsserver");
        assert_eq!(definitions.postpatcomps["python[0-9.]#"], "_python");
        assert_eq!(definitions.patcomps["*/(init|rc[0-9S]#).d/*"], "_init_d");
        assert_eq!(
            definitions.widgets["_complete_help"],
            (".complete-word".to_string(), "_complete_help".to_string())
        );
        assert_eq!(definitions.bindings["\\C-xd"], "_list_expansions");
        assert_eq!(definitions.compautos["_call_program"], "+X");
        assert!(definitions.autoloads.contains("_main_complete"));
        assert!(definitions.autoloads.contains("_other_git"));
        assert!(!definitions.autoloads.contains("_helper"));
        assert!(!definitions.compautos.contains_key("_evil"));
        assert!(!definitions.bindings.contains_key("^Xz"));
    }
}
