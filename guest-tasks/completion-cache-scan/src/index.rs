//! The completion index: one `command<TAB>shell<TAB>path` line per definition.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::Path;

use crate::shells::Shell;

/// One command completed by one file; ordered as its index line sorts.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Definition {
    pub command: String,
    pub shell: Shell,
    pub path: String,
}

/// Renders the index, sorted, with no duplicate lines.
pub fn render(definitions: &BTreeSet<Definition>) -> String {
    definitions
        .iter()
        .map(|d| format!("{}\t{}\t{}\n", d.command, d.shell, d.path))
        .collect()
}

/// Replaces `path` atomically: readers see the old index or the new one,
/// never a torn write, and two writers never share a temporary file.
pub fn write_atomically(path: &str, contents: &str) -> Result<(), String> {
    let tmp = format!("{path}.tmp-{}", unique_suffix());
    let write = || -> std::io::Result<()> {
        let mut file = fs::File::create_new(&tmp)?;
        file.write_all(contents.as_bytes())?;
        file.sync_all()
    };
    write().map_err(|e| format!("{tmp}: {e}"))?;
    fs::rename(&tmp, Path::new(path)).map_err(|e| format!("{tmp} -> {path}: {e}"))
}

/// Nanoseconds of the wall clock: distinct for writers that are not
/// running at the same nanosecond (and `create_new` refuses a clash).
fn unique_suffix() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{:x}", now.as_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_sorted_tab_separated_lines() {
        let definitions: BTreeSet<Definition> = [
            ("git", Shell::Zsh, "zsh/_git"),
            ("corral", Shell::Fish, "fish/corral.fish"),
            ("git", Shell::Bash, "bash/git"),
        ]
        .into_iter()
        .map(|(command, shell, path)| Definition {
            command: command.into(),
            shell,
            path: path.into(),
        })
        .collect();
        assert_eq!(
            render(&definitions),
            "corral\tfish\tfish/corral.fish\ngit\tbash\tbash/git\ngit\tzsh\tzsh/_git\n"
        );
    }
}
