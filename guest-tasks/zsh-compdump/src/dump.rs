//! The dump in the format of zsh's `compdump`: a header `compinit` checks
//! (`#files: N<TAB>version: V`), the tables as `${(qq)...}`-quoted pairs,
//! the completion widgets and their key bindings, then the autoloads.

use std::fmt::Write;

use crate::compdef::Definitions;

pub fn render(definitions: &Definitions, files: usize, version: &str) -> String {
    let mut out = format!("#files: {files}\tversion: {version}\n");
    for (name, table) in [
        ("_comps", &definitions.comps),
        ("_services", &definitions.services),
        ("_patcomps", &definitions.patcomps),
        ("_postpatcomps", &definitions.postpatcomps),
        ("_compautos", &definitions.compautos),
    ] {
        let _ = writeln!(out, "\n{name}=(");
        for (key, value) in table {
            let _ = writeln!(out, "{} {}", quote(key), quote(value));
        }
        out.push_str(")\n");
    }
    out.push('\n');
    if definitions
        .widgets
        .values()
        .any(|(widget, _)| widget == ".menu-select")
    {
        out.push_str("zmodload -i zsh/complist\n");
    }
    for (name, (widget, function)) in &definitions.widgets {
        let _ = writeln!(out, "zle -C {name} {widget} {function}");
    }
    for (key, widget) in &definitions.bindings {
        let _ = writeln!(out, "bindkey {} {widget}", quote(key));
    }
    out.push_str("\nautoload -Uz");
    let plain = definitions
        .autoloads
        .iter()
        .filter(|name| !definitions.compautos.contains_key(*name));
    for (i, name) in plain.enumerate() {
        if i > 0 && i % 5 == 0 {
            out.push_str(" \\\n           ");
        }
        let _ = write!(out, " {name}");
    }
    out.push_str("\n\n");
    for (name, options) in &definitions.compautos {
        let _ = writeln!(out, "autoload -Uz {options} {name}");
    }
    out.push_str("\ntypeset -gUa _comp_assocs\n_comp_assocs=( '' )\n");
    out
}

/// `${(qq)word}`: single quotes, a quote inside as `'\''`.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}
