//! The manifest `corral init` writes: the shipped tasks, pinned, granted
//! exactly the completion directories and start-up files this machine has,
//! and `git_status` bound to the shell's repository (`context = "repo"`).
//!
//! Paths under the home directory are written `~/...` (the manifest expands
//! `~`), so the file reads the way the user thinks of those places.

use std::path::Path;

use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, Value, value};

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

/// The manifest text, built as a TOML document so that every value is
/// quoted as TOML wants, whatever the paths hold.
pub fn render_manifest(machine: &Machine<'_>) -> String {
    let dirs = machine.dirs;
    let p = |path: &Path| dirs.manifest_path(path);
    let component = |name: &str| {
        machine
            .components
            .iter()
            .find(|installed| installed.name == name)
            .expect("a shipped component")
    };
    let mut doc = DocumentMut::new();
    doc["version"] = value(1);
    comment(&mut doc, "version", HEADER);
    let mut runtime = section();
    runtime["max_timeout_ms"] = value(10000);
    runtime["state_dir"] = value(p(&dirs.state));
    doc["runtime"] = Item::Table(runtime);
    let mut io = section();
    io["max_concurrency"] = value(2);
    let mut classes = Table::new();
    classes.set_implicit(true);
    classes["io"] = Item::Table(io);
    doc["classes"] = Item::Table(classes);

    let mut tasks = Tasks::default();
    let task_head = |id: &str, rationale: &str| {
        let installed = component(id);
        let mut task = section();
        task["id"] = value(id);
        task["rationale"] = value(rationale);
        task["component"] = value(p(&installed.path));
        task["sha256"] = value(installed.sha256.as_str());
        task
    };

    if machine.completion_dirs.is_empty() {
        tasks.note(&format!(
            "{COMPLETION_INDEX}: no shell completion directories were found."
        ));
    } else {
        let mut task = task_head(
            COMPLETION_INDEX,
            "Index shell completion definitions so the first <Tab> does not walk the tree.",
        );
        let mut guests: Vec<String> = Vec::new();
        let mut grants = Vec::new();
        for dir in machine.completion_dirs {
            let shell = dir.shell.as_str();
            let n = guests
                .iter()
                .filter(|guest| guest.starts_with(&format!("/completions/{shell}/")))
                .count()
                + 1;
            let guest = format!("/completions/{shell}/{n}");
            grants.push(dir_grant(&p(&dir.path), &guest, "ro"));
            guests.push(guest);
        }
        guests.push("/cache/completions.index".into());
        grants.push(dir_grant(
            &p(&dirs.state.join("cache/completions")),
            "/cache",
            "rw",
        ));
        task["class"] = value("io");
        task["timeout_ms"] = value(8000);
        task["fuel"] = integer("40_000_000_000");
        task["memory_mb"] = value(128);
        task["args"] = value(one_per_line(guests));
        task["dir"] = Item::ArrayOfTables(grants.into_iter().collect());
        tasks.push(task);
    }

    let mut task = task_head(
        GIT_STATUS,
        "Branch, upstream and dirty counts of the shell's repository, for the prompt, off the prompt path.",
    );
    task["context"] = value("repo");
    comment(
        &mut task,
        "context",
        "# Bound to the git repository containing the shell's directory: its work\n\
         # tree is granted read-only and passed as the first argument. Outside any\n\
         # repository the task is skipped. `reuse`: the server answers with the\n\
         # last status while nothing in the repository changed.\n",
    );
    task["reuse"] = value(true);
    task["class"] = value("io");
    task["timeout_ms"] = value(2000);
    task["memory_mb"] = value(128);
    tasks.push(task);

    if machine.startup_files.is_empty() {
        tasks.note(&format!(
            "{INTEGRITY}: none of the start-up files it watches exist."
        ));
    } else {
        let mut task = task_head(
            INTEGRITY,
            "Detect tampering with shell start-up files and authorized_keys since the baseline was taken.",
        );
        let guests: Vec<String> = machine
            .startup_files
            .iter()
            .map(|file| guest_file_path(dirs, &file.path))
            .collect();
        let mut args = guests.clone();
        args.push("/state/baseline.sha256".into());
        task["priority"] = value("critical");
        task["args"] = value(one_per_line(args));
        let files = machine
            .startup_files
            .iter()
            .zip(&guests)
            .map(|(file, guest)| {
                let mut grant = section();
                grant["host"] = value(p(&file.path));
                grant["guest"] = value(guest.as_str());
                grant
            });
        task["file"] = Item::ArrayOfTables(files.collect());
        let state = dir_grant(&p(&dirs.state.join("integrity")), "/state", "rw");
        task["dir"] = Item::ArrayOfTables([state].into_iter().collect());
        tasks.push(task);
    }

    let mut task = task_head(
        THEME_PALETTE,
        "Precompute 256-colour prompt theme indexes instead of converting colours at every start-up.",
    );
    task["priority"] = value("cosmetic");
    task["timeout_ms"] = value(500);
    task["fuel"] = integer("100_000_000");
    task["memory_mb"] = value(16);
    task["args"] = value(Array::from_iter(["/themes/default.theme"]));
    let themes = dir_grant(&p(machine.themes), "/themes", "ro");
    task["dir"] = Item::ArrayOfTables([themes].into_iter().collect());
    tasks.push(task);

    if let Some(zsh) = machine.zsh {
        let mut task = task_head(
            ZSH_COMPDUMP,
            "Keep zsh's completion dump fresh so compinit -C need not scan $fpath at start-up.",
        );
        let mut args = vec!["/cache/zcompdump".to_string(), zsh.version.clone()];
        args.extend(zsh.dirs.iter().map(|dir| dir.display().to_string()));
        task["class"] = value("io");
        comment(
            &mut task,
            "class",
            "# Arguments: the dump, zsh's version, then $fpath in order; each\n\
             # directory is granted read-only at its own path.\n",
        );
        task["timeout_ms"] = value(8000);
        task["fuel"] = integer("20_000_000_000");
        task["memory_mb"] = value(64);
        task["args"] = value(one_per_line(args));
        let mut grants: Vec<Table> = zsh
            .dirs
            .iter()
            .map(|dir| dir_grant(&p(dir), &dir.display().to_string(), "ro"))
            .collect();
        grants.push(dir_grant(&p(&dirs.state.join("cache/zsh")), "/cache", "rw"));
        task["dir"] = Item::ArrayOfTables(grants.into_iter().collect());
        tasks.push(task);
    }
    tasks.finish(&mut doc);
    doc.to_string()
}

/// The `[[task]]` tables in the order written, with the notes that stand
/// where a task was left out.
#[derive(Default)]
struct Tasks {
    tables: ArrayOfTables,
    /// Comment lines waiting for the next `[[task]]` header.
    notes: String,
}

impl Tasks {
    fn note(&mut self, text: &str) {
        self.notes.push_str(&format!("\n# {text}\n"));
    }

    fn push(&mut self, mut task: Table) {
        let notes = std::mem::take(&mut self.notes);
        task.decor_mut().set_prefix(format!("{notes}\n"));
        self.tables.push(task);
    }

    fn finish(self, doc: &mut DocumentMut) {
        doc["task"] = Item::ArrayOfTables(self.tables);
        if !self.notes.is_empty() {
            doc.set_trailing(self.notes);
        }
    }
}

/// A table whose header has a blank line above it.
fn section() -> Table {
    let mut table = Table::new();
    table.decor_mut().set_prefix("\n");
    table
}

/// A `[[task.dir]]` grant.
fn dir_grant(host: &str, guest: &str, mode: &str) -> Table {
    let mut grant = section();
    grant["host"] = value(host);
    grant["guest"] = value(guest);
    grant["mode"] = value(mode);
    grant
}

/// An integer written as `digits` says (`40_000_000_000`).
fn integer(digits: &str) -> Item {
    let number: Value = digits.parse().expect("a TOML integer");
    debug_assert!(number.is_integer());
    Item::Value(number.decorated(" ", ""))
}

/// An array with one element a line and a trailing comma.
fn one_per_line(items: Vec<String>) -> Array {
    let mut array = Array::new();
    for item in items {
        array.push_formatted(Value::from(item).decorated("\n    ", ""));
    }
    array.set_trailing_comma(true);
    array.set_trailing("\n");
    array
}

/// Puts comment `lines` (each ending in a newline) above `key`.
fn comment(table: &mut Table, key: &str, lines: &str) {
    let mut key = table.key_mut(key).expect("a key just set");
    key.leaf_decor_mut().set_prefix(lines);
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

    /// `names` as installed under `dirs`, each with the same made-up digest.
    fn installed(dirs: &UserDirs, names: &[&'static str]) -> Vec<Installed> {
        names
            .iter()
            .map(|&name| Installed {
                name,
                path: dirs.components().join(format!("{name}.wasm")),
                sha256: "ab".repeat(32),
            })
            .collect()
    }

    #[test]
    fn the_manifest_parses_and_grants_files_not_the_home() {
        let dirs = UserDirs::from_env(|name| (name == "HOME").then(|| "/h".to_string())).unwrap();
        let components = installed(
            &dirs,
            &[
                "completion_cache_scan",
                "git_status",
                "integrity_scan",
                "theme_palette",
                "zsh_compdump",
            ],
        );
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

    #[test]
    fn any_path_is_quoted_as_toml_wants_and_reads_back_the_same() {
        let dirs = UserDirs::from_env(|name| (name == "HOME").then(|| "/h".to_string())).unwrap();
        let components = installed(&dirs, &["git_status", "theme_palette"]);
        let themes = "/t/a \"b\" \\c 'd' '''e\nf\t# g";
        let text = render_manifest(&Machine {
            dirs: &dirs,
            components: &components,
            completion_dirs: &[],
            startup_files: &[],
            zsh: None,
            themes: Path::new(themes),
        });
        let table: toml::Table = text
            .parse()
            .unwrap_or_else(|error| panic!("{error}\n{text}"));
        let tasks = table["task"].as_array().unwrap();
        let ids: Vec<&str> = tasks.iter().map(|t| t["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["git_status", "theme_palette"], "{text}");
        assert_eq!(tasks[1]["dir"][0]["host"].as_str(), Some(themes), "{text}");
        // Where a task is left out, a comment says why.
        for note in [
            "\n# completion_cache_scan: no shell completion directories were found.\n",
            "\n# integrity_scan: none of the start-up files it watches exist.\n",
        ] {
            assert!(text.contains(note), "{text}");
        }
    }
}
