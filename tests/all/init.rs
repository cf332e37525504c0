//! `corral init` on a fresh home: the embedded components installed, a
//! manifest for this machine written under `$XDG_CONFIG_HOME/corral`, and
//! `corral run` without `--manifest` green against the machine's real shell
//! completion directories and the home's start-up files.

use std::path::{Path, PathBuf};

use crate::support::{Fixture, Run, require, require_files};

/// A fresh HOME and XDG directories, and a working directory outside any
/// manifest's directory.
struct FreshHome {
    fixture: Fixture,
}

impl FreshHome {
    fn new() -> FreshHome {
        let fixture = Fixture::new();
        fixture.write("home/.zshrc", "autoload -Uz compinit && compinit\n");
        fixture.write(
            "home/.bashrc",
            "[ -f ~/.bash_aliases ] && . ~/.bash_aliases\n",
        );
        fixture.write("home/.ssh/id_ed25519", "PRIVATE KEY");
        // The shell's directory is a repository, for git_status.
        let work = fixture.mkdir("work");
        let git = std::process::Command::new("git")
            .args(["init", "-q"])
            .current_dir(&work)
            .status()
            .expect("git is installed");
        assert!(git.success());
        FreshHome { fixture }
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.fixture.path().join(name)
    }

    fn manifest(&self) -> PathBuf {
        self.dir("config/corral/manifest.toml")
    }

    fn corral(&self, args: &[&str]) -> Run {
        let mut command = self.fixture.command(args);
        command
            .current_dir(self.dir("work"))
            .env("HOME", self.dir("home"))
            .env("XDG_CONFIG_HOME", self.dir("config"))
            .env("XDG_DATA_HOME", self.dir("data"))
            .env("XDG_STATE_HOME", self.dir("state"));
        Run::from(command.output().expect("running corral"))
    }

    fn init(&self) -> Run {
        let init = self.corral(&["init"]);
        assert_eq!(init.code, Some(0), "{}", init.stderr);
        init
    }

    fn result(&self, id: &str) -> String {
        let result = self.corral(&["result", id]);
        assert_eq!(result.code, Some(0), "{}", result.stderr);
        result.stdout
    }
}

#[test]
fn init_then_run_is_green_on_this_machine() {
    let home = FreshHome::new();
    let init = home.init();
    assert!(
        init.stdout.contains(&home.manifest().display().to_string()),
        "{}",
        init.stdout
    );
    let components = home.dir("data/corral/components");
    for name in [
        "completion_cache_scan",
        "git_status",
        "integrity_scan",
        "theme_palette",
        "zsh_compdump",
    ] {
        assert!(components.join(format!("{name}.wasm")).is_file(), "{name}");
    }

    // What this machine has decides part of the manifest; CI has it all.
    let bash = "/usr/share/bash-completion/completions";
    let has_bash_completion = require_files(&[Path::new(bash)], ".ci/run installs bash-completion");
    let (zsh, fish) = (require(&["zsh"]), require(&["fish"]));

    let text = std::fs::read_to_string(home.manifest()).unwrap();
    let manifest: toml::Table = text.parse().unwrap();
    let tasks = manifest["task"].as_array().unwrap();
    let ids: Vec<&str> = tasks.iter().map(|t| t["id"].as_str().unwrap()).collect();
    // zsh_compdump is written when zsh is installed.
    let mut expected = vec![
        "completion_cache_scan",
        "git_status",
        "integrity_scan",
        "theme_palette",
    ];
    if zsh {
        expected.push("zsh_compdump");
    }
    assert_eq!(ids, expected);
    for task in tasks {
        let rationale = task["rationale"].as_str().unwrap();
        assert!(!rationale.is_empty() && !rationale.contains('\n'));
        assert_eq!(task["sha256"].as_str().unwrap().len(), 64, "{task}");
    }
    // The machine's real completion directories, as each shell reports them.
    let hosts = |id: &str, key: &str| -> Vec<String> {
        let task = tasks.iter().find(|t| t["id"].as_str() == Some(id)).unwrap();
        task.get(key)
            .and_then(|grants| grants.as_array())
            .map(|grants| {
                grants
                    .iter()
                    .map(|g| g["host"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let completion = hosts("completion_cache_scan", "dir");
    if has_bash_completion {
        assert!(completion.iter().any(|h| h == bash), "{completion:?}");
    }
    if zsh {
        assert!(
            completion.iter().any(|h| h.contains("zsh")),
            "{completion:?}"
        );
    }
    if fish {
        assert!(
            completion.iter().any(|h| h.contains("fish")),
            "{completion:?}"
        );
    }
    // Start-up files one by one, never the home directory or ~/.ssh.
    assert_eq!(hosts("integrity_scan", "file"), ["~/.bashrc", "~/.zshrc"]);
    for id in ids.iter().copied() {
        for host in hosts(id, "dir") {
            assert!(host != "~" && !host.starts_with("~/.ssh"), "{id}: {host}");
        }
    }

    let check = home.corral(&["check"]);
    assert_eq!(check.code, Some(0), "{}", check.stderr);
    assert!(
        check
            .stdout
            .starts_with(&format!("manifest: {}\n", home.manifest().display())),
        "{}",
        check.stdout
    );

    let audit = home.corral(&["audit"]);
    assert_eq!(audit.code, Some(0), "{}", audit.stderr);
    assert!(
        audit
            .stdout
            .starts_with(&format!("manifest: {} ", home.manifest().display())),
        "{}",
        audit.stdout
    );
    assert!(audit.stdout.contains("findings: 0\n"), "{}", audit.stdout);
    assert!(
        audit.stdout.contains("file ro /home/.zshrc <- "),
        "{}",
        audit.stdout
    );

    let run = home.corral(&["run"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    for id in ids {
        run.assert_done(id);
    }
    let index = home.result("completion_cache_scan");
    let commands: u64 = index
        .strip_prefix("commands=")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{index}"));
    if has_bash_completion || zsh || fish {
        assert!(commands > 0, "{index}");
    }
    assert_eq!(home.result("integrity_scan"), "baseline=created files=2\n");
    let status = home.result("git_status");
    assert!(status.contains("head=unborn"), "{status}");
    // Results and baselines live in $XDG_STATE_HOME/corral.
    assert!(home.dir("state/corral/integrity/baseline.sha256").is_file());
}

#[test]
fn init_twice_refuses_without_force_and_names_the_file() {
    let home = FreshHome::new();
    home.init();
    let mut text = std::fs::read_to_string(home.manifest()).unwrap();
    text.push_str("# my own edit\n");
    std::fs::write(home.manifest(), &text).unwrap();

    let again = home.corral(&["init"]);
    assert_eq!(again.code, Some(2), "{}", again.stderr);
    assert!(
        again
            .stderr
            .contains(&home.manifest().display().to_string()),
        "{}",
        again.stderr
    );
    assert!(
        again.stderr.contains("corral init --force"),
        "{}",
        again.stderr
    );
    assert_eq!(std::fs::read_to_string(home.manifest()).unwrap(), text);

    let forced = home.corral(&["init", "--force"]);
    assert_eq!(forced.code, Some(0), "{}", forced.stderr);
    let rewritten = std::fs::read_to_string(home.manifest()).unwrap();
    assert!(!rewritten.contains("# my own edit"), "{rewritten}");
}

#[test]
fn an_edited_start_up_file_is_named_until_rebaselined() {
    let home = FreshHome::new();
    home.init();
    let only = ["run", "--only", "integrity_scan"];
    assert_eq!(home.corral(&only).code, Some(0));
    assert_eq!(home.result("integrity_scan"), "baseline=created files=2\n");

    let rc = home.dir("home/.zshrc");
    let mut text = std::fs::read_to_string(&rc).unwrap();
    text.push_str("curl https://example.invalid | sh\n");
    std::fs::write(&rc, text).unwrap();
    let run = home.corral(&only);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let report = home.result("integrity_scan");
    assert_eq!(
        report,
        "files=2 added=0 removed=0 changed=1\nchanged /home/.zshrc\n"
    );
    // A normal run never accepts it.
    home.corral(&only);
    assert_eq!(home.result("integrity_scan"), report);

    let rebaseline = home.corral(&["rebaseline", "integrity_scan"]);
    assert_eq!(rebaseline.code, Some(0), "{}", rebaseline.stderr);
    assert_eq!(
        rebaseline.stdout,
        "baseline=rebased files=2 added=0 removed=0 changed=1\nchanged /home/.zshrc\n"
    );
    assert_eq!(home.corral(&only).code, Some(0));
    assert_eq!(
        home.result("integrity_scan"),
        "files=2 added=0 removed=0 changed=0\n"
    );
}

/// `--rebaseline` written into a manifest would accept every change at
/// every run: `corral audit` flags it.
#[test]
fn rebaseline_in_a_manifests_args_is_an_audit_finding() {
    let home = FreshHome::new();
    home.init();
    let text = std::fs::read_to_string(home.manifest()).unwrap();
    let edited = text.replacen(
        "args = [\n    \"/home/.bashrc\"",
        "args = [\n    \"--rebaseline\",\n    \"/home/.bashrc\"",
        1,
    );
    assert_ne!(edited, text);
    std::fs::write(home.manifest(), edited).unwrap();
    let audit = home.corral(&["audit"]);
    assert!(
        audit
            .stdout
            .contains("integrity_scan: rebaseline-in-args: "),
        "{}",
        audit.stdout
    );
}

/// `corral init` compiles what it installs (the first prompt then has its
/// status), names each shell's steps with this user's paths, and the
/// snippet it points at bakes in the user manifest from any directory.
#[test]
fn init_compiles_the_components_and_shell_init_uses_the_user_manifest() {
    let home = FreshHome::new();
    let cache = home.dir("cache");
    let mut command = home.fixture.command(&["init"]);
    command
        .current_dir(home.dir("work"))
        .env("HOME", home.dir("home"))
        .env("XDG_CONFIG_HOME", home.dir("config"))
        .env("XDG_DATA_HOME", home.dir("data"))
        .env("XDG_STATE_HOME", home.dir("state"))
        .env("CORRAL_CACHE_DIR", &cache);
    let init = Run::from(command.output().unwrap());
    assert_eq!(init.code, Some(0), "{}", init.stderr);
    let manifest: toml::Table = std::fs::read_to_string(home.manifest())
        .unwrap()
        .parse()
        .unwrap();
    let tasks = manifest["task"].as_array().unwrap().len();
    let artifacts = walk_files(&cache);
    assert!(
        artifacts >= tasks,
        "{artifacts} compiled artifacts for {tasks} tasks"
    );
    assert!(init.stderr.contains("compiling"), "{}", init.stderr);
    let config = home.dir("config");
    for (shell, rc) in [("zsh", "~/.zshrc"), ("bash", "~/.bashrc")] {
        let snippet = config.join(format!("corral/init.{shell}"));
        assert!(
            init.stdout.contains(&format!(
                "corral shell-init {shell} > {}",
                snippet.display()
            )) && init
                .stdout
                .contains(&format!("then in {rc}: `source {}`", snippet.display())),
            "{}",
            init.stdout
        );
    }
    assert!(
        init.stdout
            .contains(&config.join("fish/config.fish").display().to_string())
    );

    // A manifest.toml where shell-init runs is not the one baked in.
    home.fixture.write("work/manifest.toml", "version = 1\n");
    let snippet = home.corral(&["shell-init", "zsh"]);
    assert_eq!(snippet.code, Some(0), "{}", snippet.stderr);
    let first = snippet.stdout.lines().next().unwrap();
    assert!(
        first.contains(&home.manifest().display().to_string()),
        "{first}"
    );
}

fn walk_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|entry| match entry.file_type() {
                Ok(kind) if kind.is_dir() => walk_files(&entry.path()),
                Ok(_) => 1,
                Err(_) => 0,
            })
            .sum()
    })
}

/// A start-up file that links elsewhere is watched with its target shown;
/// one that leads into /proc, or is larger than a granted file may be, is
/// left out with the reason, so no scan fails on it (a 2 MiB `.zshenv` used
/// to be granted and fail every scan; `.profile -> /proc/self/environ` was
/// granted and shown only as `watched: .../.profile`).
#[test]
fn init_shows_link_targets_and_leaves_out_system_trees_and_huge_files() {
    let home = FreshHome::new();
    let dotfiles = home.fixture.write("dotfiles/bashrc", "alias ll='ls -l'\n");
    let bashrc = home.dir("home/.bashrc");
    std::fs::remove_file(&bashrc).unwrap();
    std::os::unix::fs::symlink(&dotfiles, &bashrc).unwrap();
    std::os::unix::fs::symlink("/proc/self/environ", home.dir("home/.profile")).unwrap();
    home.fixture.write("home/.zshenv", vec![b'#'; 2 << 20]);
    let init = home.init();
    let real = dotfiles.canonicalize().unwrap();
    assert!(
        init.stdout.contains(&format!(
            "watched: {} -> {}\n",
            bashrc.display(),
            real.display()
        )),
        "{}",
        init.stdout
    );
    for left_out in [".profile", ".zshenv"] {
        let line = init
            .stdout
            .lines()
            .find(|line| line.contains(&format!("/{left_out}")))
            .unwrap_or_else(|| panic!("{left_out}: {}", init.stdout));
        assert!(line.starts_with("not watched: "), "{line}");
    }
    let manifest = std::fs::read_to_string(home.manifest()).unwrap();
    assert!(!manifest.contains(".profile"), "{manifest}");
    assert!(!manifest.contains(".zshenv"), "{manifest}");
    // The watched ones scan clean: nothing fails on a bound.
    let run = home.corral(&["run", "--only", "integrity_scan"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(home.result("integrity_scan"), "baseline=created files=2\n");
}

/// README's "Use it in your shell", executed as written: its commands
/// after `cargo install` (for which the binary under test stands, on
/// `PATH`) for zsh, and for bash and fish the steps `corral init` prints;
/// then each shell, started as a user's would be, shows the repository's
/// status in `cd`'s first prompt or soon after.
#[test]
fn readme_setup_works_as_written_in_zsh_bash_and_fish() {
    use crate::terminal::interactive_shell;
    if !require(&["tmux", "zsh", "bash", "fish", "git"]) {
        return;
    }
    let _cpu = crate::support::cpu_bound();
    let readme = include_str!("../../README.md");
    let section = readme
        .split("## Use it in your shell")
        .nth(1)
        .expect("README has the section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the section opens with a sh block");
    let commands: Vec<&str> = block
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    assert!(commands.len() <= 4, "at most four commands: {commands:?}");
    assert!(
        commands[0].starts_with("cargo install --path runtime"),
        "{commands:?}"
    );

    for shell in ["zsh", "bash", "fish"] {
        let fixture = Fixture::new();
        let home = fixture.mkdir(&format!("readme-{shell}"));
        let bin = fixture.mkdir("bin");
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_corral"), bin.join("corral")).unwrap();
        let runtime = home.join(".run");
        std::fs::create_dir_all(&runtime).unwrap();
        let path = format!("{}:/usr/bin:/bin", bin.display());
        let sh = |script: &str| {
            let output = std::process::Command::new("sh")
                .args(["-c", script])
                .current_dir(&home)
                .env_clear()
                .env("HOME", &home)
                .env("PATH", &path)
                .env("XDG_RUNTIME_DIR", &runtime)
                .env("CORRAL_CACHE_DIR", crate::support::shared_cache_dir())
                .output()
                .unwrap();
            assert!(output.status.success(), "{script}: {output:?}");
            String::from_utf8(output.stdout).unwrap()
        };
        std::fs::write(home.join(".zshrc"), "autoload -Uz compinit && compinit\n").unwrap();
        let printed = sh(commands[1]);
        let next = |prefix: &str| -> String {
            printed
                .lines()
                .find_map(|line| line.trim().strip_prefix(prefix))
                .unwrap_or_else(|| panic!("init prints {prefix:?}: {printed}"))
                .trim()
                .to_string()
        };
        let config = home.join(".config");
        let rc = match shell {
            "zsh" => {
                for command in &commands[2..] {
                    sh(command);
                }
                // "replace your `compinit` call with `corral_compinit`
                // (after the `source` line)"
                let zshrc = std::fs::read_to_string(home.join(".zshrc")).unwrap();
                let zshrc = zshrc.replace("autoload -Uz compinit && compinit\n", "");
                std::fs::write(
                    home.join(".zshrc"),
                    format!("{zshrc}corral_compinit\nPROMPT='READY> '\n"),
                )
                .unwrap();
                home.join(".zshrc")
            }
            "bash" => {
                sh(&next("bash:"));
                let source = next("then in ~/.bashrc:");
                let source = source.split('`').nth(1).unwrap();
                std::fs::write(home.join(".bashrc"), format!("{source}\nPS1='READY> '\n")).unwrap();
                home.join(".bashrc")
            }
            _ => {
                sh(&next("fish:"));
                let fish_config = config.join("fish/config.fish");
                let source = next(&format!("then in {}:", fish_config.display()));
                let source = source.split('`').nth(1).unwrap();
                std::fs::create_dir_all(fish_config.parent().unwrap()).unwrap();
                std::fs::write(
                    &fish_config,
                    format!("{source}\nfunction fish_prompt; echo -n 'READY> '; end\n"),
                )
                .unwrap();
                fish_config
            }
        };
        let repo = crate::git::repo(&home, "project", "main");
        std::fs::write(repo.join("new.txt"), "x\n").unwrap();
        let tmux = interactive_shell(&home, shell, &rc, std::time::Duration::from_secs(60));
        tmux.send(&[&format!("cd {}", repo.display()), "Enter"]);
        let show = match shell {
            "fish" => "echo S=$corral_result_git_status",
            _ => "echo S=${corral_results[git_status]}",
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            tmux.send(&[show, "Enter"]);
            std::thread::sleep(std::time::Duration::from_millis(300));
            let screen = tmux.screen();
            if screen.contains("S=branch=main") && screen.contains("untracked=1") {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{shell}: no status after cd:\n{screen}"
            );
        }
    }
}
