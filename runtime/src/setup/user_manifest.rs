//! The manifest `corral init` writes: the shipped tasks, pinned, granted
//! exactly the completion directories and start-up files this machine has,
//! and `git_status` bound to the shell's repository (`context = "repo"`).
//!
//! Paths under the home directory are written `~/...` (the manifest expands
//! `~`), so the file reads the way the user thinks of those places.

use std::fmt::Write as _;
use std::path::Path;

use super::completions::CompletionDir;
use super::components::Installed;
use super::startup_files::StartupFile;
use super::task_ids::{COMPLETION_INDEX, GIT_STATUS, INTEGRITY, THEME_PALETTE, ZSH_COMPDUMP};
use super::user_dirs::UserDirs;
use super::zsh_fpath::ZshFpath;

/// The prompt theme `theme_palette` converts until the user names their own.
pub const DEFAULT_THEME: &str = include_str!("../../../contrib/themes/default.theme");

/// What the manifest is written from.
pub struct Machine<'a> {
    pub dirs: &'a UserDirs,
    pub components: &'a [Installed],
    pub completion_dirs: &'a [CompletionDir],
    pub startup_files: &'a [StartupFile],
    /// zsh's `$fpath`, when zsh is installed: the completion dump's input.
    pub zsh: Option<&'a ZshFpath>,
    /// Where the default theme was installed.
    pub themes: &'a Path,
}

const HEADER: &str = "\
# corral's manifest for this machine, written by `corral init`.
#
# Each task sees only what is granted under it: the shell completion
# directories and single start-up files this machine has, read-only, and its
# own directory under state_dir, read-write. `corral audit` lists every
# grant; `corral check` verifies the pinned components.
#
# Rewrite it after installing a shell or adding a start-up file:
#   corral init --force
# Accept edits to the watched start-up files:
#   corral rebaseline integrity_scan
";

/// The manifest text.
pub fn render_manifest(machine: &Machine<'_>) -> String {
    let dirs = machine.dirs;
    let q = |text: &str| toml::Value::String(text.to_string()).to_string();
    let p = |path: &Path| q(&dirs.manifest_path(path));
    let component = |name: &str| {
        machine
            .components
            .iter()
            .find(|installed| installed.name == name)
    };
    let mut out = String::from(HEADER);
    let _ = write!(
        out,
        "version = 1\n\n[runtime]\nmax_timeout_ms = 10000\nstate_dir = {}\n\n[classes.io]\nmax_concurrency = 2\n",
        p(&dirs.state)
    );
    let task_head = |out: &mut String, id: &str, rationale: &str| {
        let installed = component(id).expect("a shipped component");
        let _ = write!(
            out,
            "\n[[task]]\nid = {}\nrationale = {}\ncomponent = {}\nsha256 = {}\n",
            q(id),
            q(rationale),
            p(&installed.path),
            q(&installed.sha256),
        );
    };

    if machine.completion_dirs.is_empty() {
        let _ = write!(
            out,
            "\n# {COMPLETION_INDEX}: no shell completion directories were found.\n"
        );
    } else {
        task_head(
            &mut out,
            COMPLETION_INDEX,
            "Index shell completion definitions so the first <Tab> does not walk the tree.",
        );
        let mut guests = Vec::new();
        let mut grants = String::new();
        for dir in machine.completion_dirs {
            let shell = dir.shell.as_str();
            let n = guests
                .iter()
                .filter(|guest: &&String| guest.starts_with(&format!("/completions/{shell}/")))
                .count()
                + 1;
            let guest = format!("/completions/{shell}/{n}");
            let _ = write!(
                grants,
                "\n[[task.dir]]\nhost = {}\nguest = {}\nmode = \"ro\"\n",
                p(&dir.path),
                q(&guest)
            );
            guests.push(guest);
        }
        guests.push("/cache/completions.index".into());
        let args: Vec<String> = guests.iter().map(|guest| q(guest)).collect();
        let _ = write!(
            out,
            "class = \"io\"\ntimeout_ms = 8000\nfuel = 40_000_000_000\nmemory_mb = 128\nargs = [\n    {},\n]\n",
            args.join(",\n    ")
        );
        out.push_str(&grants);
        let _ = write!(
            out,
            "\n[[task.dir]]\nhost = {}\nguest = \"/cache\"\nmode = \"rw\"\n",
            p(&dirs.state.join("cache/completions"))
        );
    }

    task_head(
        &mut out,
        GIT_STATUS,
        "Branch, upstream and dirty counts of the shell's repository, for the prompt, off the prompt path.",
    );
    out.push_str(
        "# Bound to the git repository containing the shell's directory: its work\n\
         # tree is granted read-only and passed as the first argument. Outside any\n\
         # repository the task is skipped. `reuse`: the server answers with the\n\
         # last status while nothing in the repository changed.\n\
         context = \"repo\"\nreuse = true\nclass = \"io\"\ntimeout_ms = 2000\nmemory_mb = 128\n",
    );

    if machine.startup_files.is_empty() {
        let _ = write!(
            out,
            "\n# {INTEGRITY}: none of the start-up files it watches exist.\n"
        );
    } else {
        task_head(
            &mut out,
            INTEGRITY,
            "Detect tampering with shell start-up files and authorized_keys since the baseline was taken.",
        );
        let guests: Vec<String> = machine
            .startup_files
            .iter()
            .map(|file| guest_file_path(dirs, &file.path))
            .collect();
        let mut args: Vec<String> = guests.iter().map(|guest| q(guest)).collect();
        args.push(q("/state/baseline.sha256"));
        let _ = write!(
            out,
            "priority = \"critical\"\nargs = [\n    {},\n]\n",
            args.join(",\n    ")
        );
        for (file, guest) in machine.startup_files.iter().zip(&guests) {
            let _ = write!(
                out,
                "\n[[task.file]]\nhost = {}\nguest = {}\n",
                p(&file.path),
                q(guest)
            );
        }
        let _ = write!(
            out,
            "\n[[task.dir]]\nhost = {}\nguest = \"/state\"\nmode = \"rw\"\n",
            p(&dirs.state.join("integrity"))
        );
    }

    task_head(
        &mut out,
        THEME_PALETTE,
        "Precompute 256-colour prompt theme indexes instead of converting colours at every start-up.",
    );
    let _ = write!(
        out,
        "priority = \"cosmetic\"\ntimeout_ms = 500\nfuel = 100_000_000\nmemory_mb = 16\nargs = [\"/themes/default.theme\"]\n\n[[task.dir]]\nhost = {}\nguest = \"/themes\"\nmode = \"ro\"\n",
        p(machine.themes)
    );

    if let Some(zsh) = machine.zsh {
        task_head(
            &mut out,
            ZSH_COMPDUMP,
            "Keep zsh's completion dump fresh so compinit -C need not scan $fpath at start-up.",
        );
        let mut args = vec![q("/cache/zcompdump"), q(&zsh.version)];
        args.extend(zsh.dirs.iter().map(|dir| q(&dir.display().to_string())));
        let _ = write!(
            out,
            "# Arguments: the dump, zsh's version, then $fpath in order; each\n\
             # directory is granted read-only at its own path.\n\
             class = \"io\"\ntimeout_ms = 8000\nfuel = 20_000_000_000\nmemory_mb = 64\nargs = [\n    {},\n]\n",
            args.join(",\n    ")
        );
        for dir in &zsh.dirs {
            let shown = dir.display().to_string();
            let _ = write!(
                out,
                "\n[[task.dir]]\nhost = {}\nguest = {}\nmode = \"ro\"\n",
                p(dir),
                q(&shown)
            );
        }
        let _ = write!(
            out,
            "\n[[task.dir]]\nhost = {}\nguest = \"/cache\"\nmode = \"rw\"\n",
            p(&dirs.state.join("cache/zsh"))
        );
    }
    out
}

/// The guest path of a start-up file: `/home/<relative>` under the home
/// directory, `/config/<relative>` under `$XDG_CONFIG_HOME`, else
/// `/files/<name>`.
fn guest_file_path(dirs: &UserDirs, path: &Path) -> String {
    let relative = |base: &Path| {
        path.strip_prefix(base)
            .ok()
            .map(|rest| rest.display().to_string())
    };
    if let Some(rest) = relative(&dirs.home) {
        format!("/home/{rest}")
    } else if let Some(rest) = relative(&dirs.config_home) {
        format!("/config/{rest}")
    } else {
        let name = path.file_name().map_or_else(
            || "file".to_string(),
            |name| name.to_string_lossy().into_owned(),
        );
        format!("/files/{name}")
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::manifest::Manifest;
    use crate::setup::completions::CompletionShell;

    #[test]
    fn the_manifest_parses_and_grants_files_not_the_home() {
        let dirs = UserDirs::from_env(|name| (name == "HOME").then(|| "/h".to_string())).unwrap();
        let components: Vec<Installed> = [
            "completion_cache_scan",
            "git_status",
            "integrity_scan",
            "theme_palette",
            "zsh_compdump",
        ]
        .into_iter()
        .map(|name| Installed {
            name,
            path: dirs.components().join(format!("{name}.wasm")),
            sha256: "ab".repeat(32),
        })
        .collect();
        let completion_dirs = [
            CompletionDir {
                shell: CompletionShell::Zsh,
                path: PathBuf::from("/usr/share/zsh/functions/Completion"),
            },
            CompletionDir {
                shell: CompletionShell::Fish,
                path: PathBuf::from("/usr/share/fish/completions"),
            },
        ];
        let startup_files = [
            StartupFile {
                path: PathBuf::from("/h/.ssh/authorized_keys"),
                target: None,
            },
            StartupFile {
                path: PathBuf::from("/h/.zshrc"),
                target: None,
            },
        ];
        let text = render_manifest(&Machine {
            dirs: &dirs,
            components: &components,
            completion_dirs: &completion_dirs,
            startup_files: &startup_files,
            zsh: Some(&ZshFpath {
                version: "5.9".into(),
                dirs: vec![PathBuf::from("/usr/share/zsh/functions/Completion")],
            }),
            themes: &dirs.data.join("themes"),
        });
        // HOME is needed to expand `~`; the test process has one.
        let manifest = Manifest::parse(Path::new("/h/.config/corral/manifest.toml"), &text)
            .unwrap_or_else(|error| panic!("{error}\n{text}"));
        let ids: Vec<&str> = manifest.tasks.iter().map(|task| task.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "completion_cache_scan",
                "git_status",
                "integrity_scan",
                "theme_palette",
                "zsh_compdump"
            ]
        );
        let scan = manifest.task("completion_cache_scan").unwrap();
        assert_eq!(
            scan.args,
            [
                "/completions/zsh/1",
                "/completions/fish/1",
                "/cache/completions.index"
            ]
        );
        let integrity = manifest.task("integrity_scan").unwrap();
        let files: Vec<(&str, &str)> = integrity
            .files
            .iter()
            .map(|file| (file.host.as_str(), file.guest.as_str()))
            .collect();
        assert_eq!(
            files,
            [
                ("~/.ssh/authorized_keys", "/home/.ssh/authorized_keys"),
                ("~/.zshrc", "/home/.zshrc")
            ]
        );
        assert!(manifest.tasks.iter().all(|task| task.sha256.is_some()));
        assert!(manifest.task("git_status").unwrap().context.is_some());
        assert!(manifest.task("git_status").unwrap().reuse);
        assert_eq!(manifest.runtime.state_dir, "~/.local/state/corral");
        for task in &manifest.tasks {
            for dir in &task.dirs {
                assert!(
                    !dir.host.starts_with("~/.ssh") && dir.host != "~",
                    "{dir:?}"
                );
            }
        }
    }
}
