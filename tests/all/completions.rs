//! corral's own shell completions and man page, generated from the clap
//! definition: the files in `contrib/completions` are that output, and each
//! shell, loading it, completes every subcommand `--help` lists.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Fixture, compare_golden, require};

fn contrib() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../contrib/completions")
}

/// The subcommands `corral --help` lists, `help` aside.
fn subcommands() -> Vec<String> {
    let help = Fixture::new().corral(&["--help"]);
    assert_eq!(help.code, Some(0), "{}", help.stderr);
    let listed: Vec<String> = help
        .stdout
        .split("Commands:\n")
        .nth(1)
        .expect("--help lists commands")
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect();
    assert!(listed.len() >= 15, "{listed:?}");
    listed
}

/// Runs `program args` and returns its stdout; it must succeed.
fn output(program: &str, args: &[&str]) -> String {
    let output = Command::new(program).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_shipped_completion_files_are_what_corral_completions_prints() {
    let fixture = Fixture::new();
    for (shell, file) in [
        ("bash", "corral.bash"),
        ("zsh", "_corral"),
        ("fish", "corral.fish"),
    ] {
        let run = fixture.corral(&["completions", shell]);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        compare_golden(&contrib().join(file), &run.stdout, true);
    }
}

#[test]
fn bash_sourcing_the_script_completes_every_subcommand() {
    if !require(&["bash"]) {
        return;
    }
    let fixture = Fixture::new();
    let script = fixture.write(
        "corral.bash",
        fixture.corral(&["completions", "bash"]).stdout,
    );
    let shown = output(
        "bash",
        &[
            "--norc",
            "-c",
            r#"source "$1" && complete -p corral && COMP_WORDS=(corral "") COMP_CWORD=1 COMP_LINE="corral " COMP_POINT=7 && _corral corral "" corral && printf '%s\n' "${COMPREPLY[@]}""#,
            "bash",
            &script.display().to_string(),
        ],
    );
    let mut lines = shown.lines();
    let definition = lines.next().unwrap_or_default();
    assert!(
        definition.starts_with("complete ") && definition.ends_with(" corral"),
        "{definition}"
    );
    let offered: Vec<&str> = lines.collect();
    for name in subcommands() {
        assert!(offered.contains(&name.as_str()), "{name} in {offered:?}");
    }
}

#[test]
fn zsh_parses_the_script_and_it_names_every_subcommand() {
    if !require(&["zsh"]) {
        return;
    }
    let fixture = Fixture::new();
    let text = fixture.corral(&["completions", "zsh"]).stdout;
    let script = fixture.write("_corral", &text);
    output("zsh", &["-n", &script.display().to_string()]);
    assert!(text.starts_with("#compdef corral\n"), "{text}");
    for name in subcommands() {
        assert!(text.contains(&format!("'{name}:")), "{name}");
    }
}

#[test]
fn fish_loading_the_script_completes_every_subcommand() {
    if !require(&["fish"]) {
        return;
    }
    let fixture = Fixture::new();
    let script = fixture.write(
        "corral.fish",
        fixture.corral(&["completions", "fish"]).stdout,
    );
    let shown = output(
        "fish",
        &[
            "--no-config",
            "-c",
            "source $argv[1]; complete -C 'corral '",
            &script.display().to_string(),
        ],
    );
    let offered: Vec<&str> = shown
        .lines()
        .filter_map(|line| line.split('\t').next())
        .collect();
    for name in subcommands() {
        assert!(offered.contains(&name.as_str()), "{name} in {offered:?}");
    }
}

#[test]
fn the_man_page_is_roff_and_names_every_subcommand() {
    let run = Fixture::new().corral(&["man"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains(".TH corral 1"), "{}", run.stdout);
    for name in subcommands() {
        let entry = format!("corral\\-{}(1)", name.replace('-', "\\-"));
        assert!(run.stdout.contains(&entry), "{entry}");
    }
}
