//! Z1: a zsh start-up that runs `compinit`, with corral keeping the dump
//! (`corral_compinit`: `compinit -C` on the dump `zsh_compdump` writes,
//! compiled by the snippet after a prompt) against plain `compinit` on the
//! same `$fpath` with its own, warm `.zcompdump`. B1: bash's first Tab on
//! a command, corral's loader (its index) against bash-completion's.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use corral_test_artifacts::{COMPLETION_CACHE_SCAN, ZSH_COMPDUMP};

use super::{Bench, CORRAL, Row, Target, spawn, time};

pub fn zsh_compinit(bench: &Bench) -> Option<Row> {
    let probe = Command::new("zsh")
        .args(["-fc", "print -r -- $ZSH_VERSION; print -rl -- $fpath"])
        .output()
        .ok()
        .filter(|output| output.status.success());
    let Some(probe) = probe else {
        eprintln!("Z1 skipped: zsh is not installed");
        return None;
    };
    let text = String::from_utf8_lossy(&probe.stdout).into_owned();
    let mut lines = text.lines();
    let version = lines.next().unwrap_or_default();
    let fpath: Vec<&str> = lines.filter(|dir| Path::new(dir).is_dir()).collect();

    let dir = bench.dir.join("z1");
    let mut args = vec!["/cache/zcompdump", version];
    args.extend(&fpath);
    let mut manifest = format!(
        "version = 1\n[runtime]\nstate_dir = {:?}\n[[task]]\nid = \"zsh_compdump\"\nrationale = \"benchmark\"\ncomponent = {ZSH_COMPDUMP:?}\ntimeout_ms = 1500\nfuel = 20_000_000_000\nargs = [{}]\n",
        dir.join("state"),
        args.iter()
            .map(|arg| format!("{arg:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for dir in &fpath {
        manifest.push_str(&format!(
            "[[task.dir]]\nhost = {dir:?}\nguest = {dir:?}\nmode = \"ro\"\n"
        ));
    }
    manifest.push_str(&format!(
        "[[task.dir]]\nhost = {:?}\nguest = \"/cache\"\nmode = \"rw\"\n",
        dir.join("state/cache")
    ));
    let plain = dir.join("plain");
    let with = dir.join("with");
    for home in [&plain, &with] {
        std::fs::create_dir_all(home).unwrap();
    }
    let manifest_path = dir.join("manifest.toml");
    std::fs::write(&manifest_path, manifest).unwrap();
    let corral = |args: &[&str]| corral_with(bench, &manifest_path, args);
    corral(&["run", "--quiet"]);
    let mut rc = corral(&["shell-init", "zsh"]);
    rc.extend_from_slice(b"corral_compinit\n");
    std::fs::write(with.join(".zshrc"), rc).unwrap();
    std::fs::write(plain.join(".zshrc"), "autoload -Uz compinit\ncompinit\n").unwrap();

    let start_zsh = |zdotdir: &Path| {
        let mut zsh = Command::new("zsh");
        zsh.args(["-i", "-c", "exit"])
            .env("ZDOTDIR", zdotdir)
            .env("HOME", zdotdir);
        time(|| spawn(zsh))
    };
    // Steady state: plain compinit has written its dump, and the dump
    // corral keeps has been compiled, as the snippet does after a prompt.
    start_zsh(&plain);
    let status = Command::new("zsh")
        .args(["-fc", "zcompile -R -- \"$1\"", "zsh"])
        .arg(dir.join("state/cache/zcompdump"))
        .status()
        .unwrap();
    assert!(status.success());
    Some(Row::paired(
        "Z1",
        "zsh start-up with compinit: corral's dump / plain compinit (zsh -i -c exit)",
        "<= 0.5",
        Target::AtMost(0.5),
        || (start_zsh(&plain), start_zsh(&with)),
    ))
}

/// `corral ARGS --manifest MANIFEST` with the bench's cache; it must
/// succeed. Its standard output.
fn corral_with(bench: &Bench, manifest: &Path, args: &[&str]) -> Vec<u8> {
    let output = Command::new(CORRAL)
        .args(args)
        .arg("--manifest")
        .arg(manifest)
        .env("CORRAL_CACHE_DIR", &bench.cache)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    output.stdout
}

/// Where Debian's bash-completion keeps its framework and definitions.
const BASH_COMPLETION: &str = "/usr/share/bash-completion/bash_completion";
const BASH_DEFINITIONS: &str = "/usr/share/bash-completion/completions";

/// B1: the first Tab on `ssh` in a new interactive bash: the default
/// loader (`complete -D`) called as bash calls it, timed by bash itself
/// (`$EPOCHREALTIME`), with corral's snippet (the definition found in
/// `completion_cache_scan`'s index; bash-completion's helpers load with
/// it) against a bash that sourced bash-completion at start-up.
pub fn bash_first_tab(bench: &Bench) -> Option<Row> {
    if !Path::new(BASH_COMPLETION).is_file() || !Path::new(BASH_DEFINITIONS).join("ssh").is_file() {
        eprintln!("B1 skipped: bash-completion is not installed");
        return None;
    }
    let dir = bench.dir.join("b1");
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = dir.join("manifest.toml");
    std::fs::write(
        &manifest,
        format!(
            "version = 1\n[runtime]\nstate_dir = {:?}\n[[task]]\nid = \"completion_cache_scan\"\nrationale = \"benchmark\"\ncomponent = {COMPLETION_CACHE_SCAN:?}\ntimeout_ms = 5000\nfuel = 40_000_000_000\nargs = [\"/completions/bash/1\", \"/cache/completions.index\"]\n[[task.dir]]\nhost = {BASH_DEFINITIONS:?}\nguest = \"/completions/bash/1\"\nmode = \"ro\"\n[[task.dir]]\nhost = {:?}\nguest = \"/cache\"\nmode = \"rw\"\n",
            dir.join("state"),
            dir.join("state/cache"),
        ),
    )
    .unwrap();
    let corral = |args: &[&str]| corral_with(bench, &manifest, args);
    corral(&["run", "--quiet"]);
    let with = dir.join("with.bashrc");
    std::fs::write(&with, corral(&["shell-init", "bash"])).unwrap();
    let plain = dir.join("plain.bashrc");
    std::fs::write(&plain, format!(". {BASH_COMPLETION}\n")).unwrap();
    // What bash does at the first Tab after `ssh `: call the default loader.
    let first_tab = |rc: &Path| {
        let script = "f=$(complete -p -D); f=${f#complete -F }; f=${f%% *}; \
            s=$EPOCHREALTIME; $f ssh '' ssh; e=$EPOCHREALTIME; \
            complete -p ssh >/dev/null || exit 3; echo \"$s $e\"";
        let output = Command::new("bash")
            .arg("--rcfile")
            .arg(rc)
            .args(["-i", "-c", script])
            .env("HOME", &dir)
            .env("TERM", "dumb")
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let text = String::from_utf8_lossy(&output.stdout);
        let times: Vec<f64> = text
            .split_whitespace()
            .rev()
            .take(2)
            .map(|word| word.parse().expect("EPOCHREALTIME"))
            .collect();
        Duration::from_secs_f64(times[0] - times[1])
    };
    Some(Row::paired(
        "B1",
        "bash's first Tab on `ssh`: corral's loader / bash-completion's",
        "<= 1.0",
        Target::AtMost(1.0),
        || (first_tab(&plain), first_tab(&with)),
    ))
}
