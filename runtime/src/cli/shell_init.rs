//! `corral shell-init`: the snippet a shell sources to start the manifest's
//! tasks once per shell, after its first prompt, its repository-bound tasks
//! after every command, and to pick up results (`snippets/`).
//!
//! The snippet itself runs nothing at start-up: it only defines a hook and
//! a function, so the shell's start-up costs no fork. Paths are written in
//! when the snippet is generated, so it never has to ask corral for them.

use std::path::Path;

use super::exit::{CliError, Exit};
use super::output::print_raw;
use crate::manifest::Manifest;

/// How long a run started from a pre-prompt hook waits for the prompt to
/// be drawn; its results arrive that much later.
const PROMPT_DRAW_MS: u32 = 100;

/// A shell corral can integrate with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Zsh,
    Bash,
    Fish,
}

/// `corral shell-init SHELL`: prints the snippet for this manifest.
pub fn shell_init(manifest_path: &Path, shell: Shell) -> Result<Exit, CliError> {
    let manifest = Manifest::load(manifest_path)?;
    let absolute = std::path::absolute(manifest_path).map_err(|error| {
        CliError::Usage(format!(
            "cannot resolve {}: {error}",
            manifest_path.display()
        ))
    })?;
    let corral = std::env::current_exe()
        .map_err(|error| CliError::internal("cannot find the corral executable", error))?;
    let results = manifest.runtime.state_path.join("results");
    let bound: Vec<&str> = manifest
        .tasks
        .iter()
        .filter(|task| task.context.is_some())
        .map(|task| task.id.as_str())
        .collect();
    print_raw(&snippet(shell, &corral, &absolute, &results, &bound))?;
    Ok(Exit::Success)
}

/// The snippet for `shell`. `corral` is this executable, `manifest` and
/// `results` are absolute; `bound` are the tasks bound to the shell's
/// repository, run again after every command.
fn snippet(shell: Shell, corral: &Path, manifest: &Path, results: &Path, bound: &[&str]) -> String {
    let start = format!(
        "{} run --detach --manifest {}",
        quote(&corral.display().to_string()),
        quote(&manifest.display().to_string())
    );
    let start_bound: String = bound.iter().fold(start.clone(), |command, id| {
        format!("{command} --only {id}")
    });
    let template = match shell {
        Shell::Zsh => include_str!("snippets/corral.zsh"),
        Shell::Bash => include_str!("snippets/corral.bash"),
        Shell::Fish => include_str!("snippets/corral.fish"),
    };
    // bash and fish have no hook after the prompt is drawn, only before:
    // their detached runs wait until the prompt (command substitutions in
    // it included) is on screen.
    template
        .replace("@MANIFEST@", &manifest.display().to_string())
        .replace("@START_BOUND@", &start_bound)
        .replace("@START@", &start)
        .replace("@BOUND@", &bound.join(" "))
        .replace("@RESULTS@", &quote(&results.display().to_string()))
        .replace("@DEFER_MS@", &PROMPT_DRAW_MS.to_string())
}

/// Single-quotes a word for POSIX shells and fish alike.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_quoted_for_the_shell() {
        assert_eq!(quote("/a b/c'd"), r"'/a b/c'\''d'");
        let text = snippet(
            Shell::Zsh,
            Path::new("/bin/corral"),
            Path::new("/m/manifest.toml"),
            Path::new("/m/.corral/results"),
            &["git_status"],
        );
        assert!(text.contains("'/bin/corral' run --detach --manifest '/m/manifest.toml'"));
        assert!(text.contains("'/m/.corral/results'/*(N.)"));
        assert!(text.contains("--manifest '/m/manifest.toml' --only git_status <"));
        assert!(!text.contains('@'), "every placeholder replaced:\n{text}");
    }
}
