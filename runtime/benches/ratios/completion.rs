//! Z1: a zsh start-up that runs `compinit`, with corral keeping the dump
//! (`corral_compinit`: `compinit -C` on the dump `zsh_compdump` writes,
//! compiled by the snippet after a prompt) against plain `compinit` on the
//! same `$fpath` with its own, warm `.zcompdump`.

use std::path::Path;
use std::process::Command;

use corral_test_artifacts::ZSH_COMPDUMP;

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
    let corral = |args: &[&str]| {
        let output = Command::new(CORRAL)
            .args(args)
            .arg("--manifest")
            .arg(&manifest_path)
            .env("CORRAL_CACHE_DIR", &bench.cache)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        output.stdout
    };
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
