//! `corral init [--force]`: install the shipped components and write a
//! manifest for this machine under `$XDG_CONFIG_HOME/corral`.

use std::io::Write as _;
use std::path::Path;

use super::check::load_components;
use super::exit::{CliError, Exit};
use super::output::print_raw;
use crate::escape::escape;
use crate::fs::durable::write_atomically;
use crate::manifest::Manifest;
use crate::setup::{self, Machine, UserDirs};

pub fn init(force: bool) -> Result<Exit, CliError> {
    let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let dirs = UserDirs::from_env(env).map_err(CliError::Usage)?;
    let manifest_path = dirs.manifest();
    // Refused before anything is installed: a refusal changes nothing.
    if !force && manifest_path.symlink_metadata().is_ok() {
        return Err(refuse_overwrite(&manifest_path));
    }

    let installed = setup::install_components(&dirs.components()).map_err(|error| {
        CliError::internal(
            format!(
                "cannot install components in {}",
                dirs.components().display()
            ),
            error,
        )
    })?;
    let themes = dirs.data.join("themes");
    let theme = themes.join("default.theme");
    // The user's own edits to the theme survive a plain `init`.
    if force || !theme.exists() {
        std::fs::create_dir_all(&themes)
            .and_then(|()| write_atomically(&theme, setup::DEFAULT_THEME.as_bytes()))
            .map_err(|error| {
                CliError::internal(format!("cannot write {}", theme.display()), error)
            })?;
    }

    let completion_dirs = setup::completion_dirs(&dirs);
    let startup_files = setup::startup_files(&dirs);
    let zsh = setup::zsh_fpath();
    let text = setup::render_manifest(&Machine {
        dirs: &dirs,
        components: &installed,
        completion_dirs: &completion_dirs,
        startup_files: &startup_files.watched,
        zsh: zsh.as_ref(),
        themes: &themes,
    });
    write_manifest(&manifest_path, &text, force)?;

    // What was written must pass `corral check`'s file checks; anything
    // else is a bug here, reported as such.
    let manifest = Manifest::load(&manifest_path)?;
    manifest.check_files(&manifest.tasks)?;
    manifest.check_file_grants(&manifest.tasks)?;
    // Compiled now, with progress, so the first prompt has its status
    // instead of waiting seconds for a first compilation.
    load_components(&manifest.tasks)?;

    let mut out = format!(
        "wrote {}\ninstalled {} components in {}\n",
        escape(&manifest_path.display().to_string()),
        installed.len(),
        escape(&dirs.components().display().to_string()),
    );
    for dir in &completion_dirs {
        out.push_str(&format!(
            "completions ({}): {}\n",
            dir.shell.as_str(),
            escape(&dir.path.display().to_string())
        ));
    }
    for file in &startup_files.watched {
        let target = file.target.as_ref().map_or_else(String::new, |target| {
            format!(" -> {}", escape(&target.display().to_string()))
        });
        out.push_str(&format!(
            "watched: {}{target}\n",
            escape(&file.path.display().to_string())
        ));
    }
    for (path, why) in &startup_files.skipped {
        out.push_str(&format!(
            "not watched: {} ({})\n",
            escape(&path.display().to_string()),
            escape(why)
        ));
    }
    out.push_str(&format!(
        "state: {}\n",
        escape(&dirs.state.display().to_string())
    ));
    out.push_str(&next_steps(&dirs));
    print_raw(&out)?;
    Ok(Exit::Success)
}

/// What to run next in each shell, with this user's configuration paths:
/// README's "Use it in your shell".
fn next_steps(dirs: &UserDirs) -> String {
    let shown = |path: &Path| escape(&path.display().to_string()).into_owned();
    let snippet = |shell: &str| dirs.config.join(format!("init.{shell}"));
    let fish_config = dirs.config_home.join("fish/config.fish");
    format!(
        "next, in your shell:\n  zsh:  corral shell-init zsh > {zsh}\n        then in ~/.zshrc: `source {zsh}`, and `corral_compinit` in place of `compinit`\n  bash: corral shell-init bash > {bash}\n        then in ~/.bashrc: `source {bash}`, and drop the line that sources bash_completion\n  fish: corral shell-init fish > {fish}\n        then in {fish_config}: `source {fish}`\n",
        zsh = shown(&snippet("zsh")),
        bash = shown(&snippet("bash")),
        fish = shown(&snippet("fish")),
        fish_config = shown(&fish_config),
    )
}

fn refuse_overwrite(path: &Path) -> CliError {
    CliError::Usage(format!(
        "{} already exists; corral init does not overwrite it\n  help: run `corral init --force` to replace it with a manifest for this machine",
        path.display()
    ))
}

/// Writes the manifest atomically; without `force`, never over an existing
/// file, even one created since the first look.
fn write_manifest(path: &Path, text: &str, force: bool) -> Result<(), CliError> {
    let dir = path.parent().expect("the manifest has a directory");
    let internal = |error: std::io::Error| {
        CliError::internal(format!("cannot write {}", path.display()), error)
    };
    std::fs::create_dir_all(dir).map_err(internal)?;
    if force {
        return write_atomically(path, text.as_bytes()).map_err(internal);
    }
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(internal)?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.as_file().sync_data())
        .map_err(internal)?;
    match file.persist_noclobber(path) {
        Ok(_) => Ok(()),
        Err(error) if error.error.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(refuse_overwrite(path))
        }
        Err(error) => Err(internal(error.error)),
    }
}
