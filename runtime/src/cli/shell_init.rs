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
use super::shell_wiring::{CompletionIndex, Wiring};
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
    let wiring = Wiring::of(&manifest);
    print_raw(&snippet(shell, &corral, &absolute, &results, &wiring))?;
    Ok(Exit::Success)
}

/// Where bash-completion's framework (the helpers its definitions call)
/// is installed, by distribution.
const BASH_COMPLETION: &[&str] = &[
    "/usr/share/bash-completion/bash_completion",
    "/usr/local/share/bash-completion/bash_completion",
    "/etc/bash_completion",
];

/// The snippet for `shell`. `corral` is this executable, `manifest` and
/// `results` are absolute; `wiring` is what the manifest offers the shell.
fn snippet(
    shell: Shell,
    corral: &Path,
    manifest: &Path,
    results: &Path,
    wiring: &Wiring,
) -> String {
    let start = format!(
        "{} run --detach --manifest {}",
        quote(&corral.display().to_string()),
        quote(&manifest.display().to_string())
    );
    let start_bound: String = wiring.bound.iter().fold(start.clone(), |command, id| {
        format!("{command} --only {id}")
    });
    let path = |path: Option<&Path>| {
        path.map_or_else(
            || "''".to_string(),
            |path| quote(&path.display().to_string()),
        )
    };
    let index = wiring.completion_index.as_ref();
    let bash_completion = BASH_COMPLETION
        .iter()
        .map(Path::new)
        .find(|path| path.is_file());
    let (request_head, request_tail) = request_frame(manifest, &wiring.bound);
    let follow = wiring
        .integrity
        .as_deref()
        .map_or_else(String::new, |id| follow_request(manifest, id));
    let template = match shell {
        Shell::Zsh => include_str!("snippets/corral.zsh"),
        Shell::Bash => include_str!("snippets/corral.bash"),
        Shell::Fish => include_str!("snippets/corral.fish"),
    };
    // bash and fish have no hook after the prompt is drawn, only before:
    // their detached runs wait until the prompt (command substitutions in
    // it included) is on screen.
    template
        .replace("@REQUEST_HEAD@", &quote(&request_head))
        .replace("@REQUEST_TAIL@", &quote(&request_tail))
        .replace("@ENV_NAMES@", &wiring.env.join(" "))
        .replace("@FOLLOW_REQUEST@", &quote(&follow))
        .replace("@CORRAL@", &quote(&corral.display().to_string()))
        .replace("@MANIFEST@", &manifest.display().to_string())
        .replace("@MANIFEST_ARG@", &quote(&manifest.display().to_string()))
        .replace("@START_BOUND@", &start_bound)
        .replace("@START@", &start)
        .replace("@BOUND@", &wiring.bound.join(" "))
        .replace("@RESULTS@", &quote(&results.display().to_string()))
        .replace("@DEFER_MS@", &PROMPT_DRAW_MS.to_string())
        .replace("@INTEGRITY@", wiring.integrity.as_deref().unwrap_or("''"))
        .replace("@ZCOMPDUMP@", &path(wiring.zcompdump.as_deref()))
        .replace(
            "@COMPLETION_INDEX@",
            &path(index.map(|index| index.file.as_path())),
        )
        .replace("@BASH_COMPLETION@", &path(bash_completion))
        .replace("@INDEX_ROOTS@", &index.map(index_roots).unwrap_or_default())
}

/// The fixed parts of the request a shell sends the server for its bound
/// tasks: the shell puts the sequence number between them, then after
/// them the JSON members of its environment that steer a run
/// (`Wiring::env`), `},"cwd":"`, its JSON-escaped `$PWD`, and `"}}`. A
/// snippet names only corral's version (it outlives builds; see
/// `Build::compatible_with`).
fn request_frame(manifest: &Path, bound: &[String]) -> (String, String) {
    let head = format!(
        "{{\"build\":{{\"version\":{},\"exe\":\"\",\"stamp_ns\":0}},\"seq\":",
        serde_json::Value::from(env!("CARGO_PKG_VERSION"))
    );
    let tail = format!(
        ",\"op\":{{\"name\":\"results\",\"manifest\":{},\"ids\":{},\"format\":\"lines\",\"env\":{{",
        serde_json::Value::from(manifest.to_string_lossy().into_owned()),
        serde_json::Value::from(bound.to_vec())
    );
    (head, tail)
}

/// The request that has the server push the integrity scan's result
/// whenever what it watches changes.
fn follow_request(manifest: &Path, id: &str) -> String {
    serde_json::json!({
        "build": {"version": env!("CARGO_PKG_VERSION"), "exe": "", "stamp_ns": 0},
        "op": {
            "name": "follow",
            "manifest": manifest,
            "cwd": "/",
            "ids": [id],
            "env": {},
            "format": "lines",
        },
    })
    .to_string()
}

/// The `case` arms that turn the index's paths (guest paths; relative to
/// the root when the scan has only one) into host paths.
fn index_roots(index: &CompletionIndex) -> String {
    let mut arms = String::new();
    for (guest, host) in &index.roots {
        let guest = quote(guest.trim_end_matches('/'));
        let host = quote(&host.display().to_string());
        arms.push_str(&format!(
            "        {guest}/*) path={host}/${{path#{guest}/}} ;;\n"
        ));
    }
    match index.roots.as_slice() {
        [(_, host)] => arms.push_str(&format!(
            "        /*) continue ;;\n        *) path={}/$path ;;",
            quote(&host.display().to_string())
        )),
        _ => arms.push_str("        *) continue ;;"),
    }
    arms
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
            &Wiring {
                bound: vec!["git_status".into()],
                ..Wiring::default()
            },
        );
        assert!(text.contains("'/bin/corral' run --detach --manifest '/m/manifest.toml'"));
        assert!(text.contains("'/m/.corral/results'/*(N.)"));
        assert!(text.contains("--manifest '/m/manifest.toml' --only git_status <"));
        let placeholder = text.split('@').find(|word| {
            !word.is_empty() && word.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
        });
        assert_eq!(placeholder, None, "every placeholder replaced:\n{text}");
    }

    #[test]
    fn the_request_frame_is_a_request_once_completed() {
        let (head, tail) = request_frame(Path::new("/m/a \"b\".toml"), &["git_status".into()]);
        let line = format!("{head}7{tail}\"CORRAL_MODE\":\"on\"}},\"cwd\":\"/home/u/repo\"}}}}");
        let request = crate::serve::protocol::parse_request(line.as_bytes()).unwrap();
        assert_eq!(request.seq, 7);
        assert!(
            request
                .build
                .compatible_with(crate::serve::protocol::Build::current())
        );
        let crate::serve::protocol::Op::Results {
            manifest,
            cwd,
            ids,
            env,
            ..
        } = request.op
        else {
            panic!("{line}");
        };
        assert_eq!(manifest, Path::new("/m/a \"b\".toml"));
        assert_eq!(cwd, Path::new("/home/u/repo"));
        assert_eq!(ids, ["git_status"]);
        assert_eq!(env["CORRAL_MODE"], "on");
    }
}
