//! `completion_cache_scan`: indexes the shell completion definitions under a
//! directory tree.
//!
//! Finding which file completes which command means opening every file in
//! the completion directories, which is too slow for start-up (it is why
//! `compinit` keeps a dump file). A shell defers the scan and then loads only
//! the definitions it needs from the index, lazily.
//!
//! Args: `[SCAN_ROOT..., INDEX_FILE]`: one or more directories to scan (a
//! machine has several: zsh's `$fpath`, bash-completion's and fish's
//! directories), then the index to write. Writes `INDEX_FILE` atomically,
//! one `command<TAB>shell<TAB>path` line per definition, sorted. With one
//! `SCAN_ROOT`, paths are relative to it; with several, each path is the
//! file's full guest path (`SCAN_ROOT/relative`), so that equal names in
//! two roots stay apart. Result: `commands=<n> definitions=<n>
//! index=<INDEX_FILE>`.

mod getopt;
mod index;
mod shells;
mod walk;
mod words;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use corral::task::host::{Level, log, progress, segment_end, segment_start};
use index::Definition;

wit_bindgen::generate!({ path: "../../wit", world: "task" });

/// Larger files are not completion scripts; skipping them bounds memory.
const MAX_FILE_BYTES: u64 = 1 << 20;

struct Component;

impl Guest for Component {
    fn run(call: Invocation) -> Result<String, Failure> {
        let [roots @ .., index_file] = call.args.as_slice() else {
            return Err(usage(&call.args));
        };
        if roots.is_empty() {
            return Err(usage(&call.args));
        }

        segment_start("walk");
        let found = walk_roots(roots, index_file);
        segment_end("walk");
        let (files, too_deep) = found?;
        if too_deep > 0 {
            log(
                Level::Warn,
                &format!(
                    "skipped {too_deep} directories nested deeper than {}",
                    walk::MAX_DEPTH
                ),
            );
        }

        segment_start("parse");
        let definitions = parse_all(&files);
        segment_end("parse");
        let definitions = definitions?;

        segment_start("write_index");
        let written = index::write_atomically(index_file, &index::render(&definitions));
        segment_end("write_index");
        written.map_err(Failure::Error)?;

        let commands: BTreeSet<&str> = definitions.iter().map(|d| d.command.as_str()).collect();
        log(
            Level::Info,
            &format!(
                "indexed {} completion definitions from {} files",
                definitions.len(),
                files.len()
            ),
        );
        Ok(format!(
            "commands={} definitions={} index={index_file}",
            commands.len(),
            definitions.len()
        ))
    }
}

export!(Component);

fn usage(args: &[String]) -> Failure {
    Failure::InvalidInput(format!(
        "expected args [SCAN_ROOT..., INDEX_FILE], got {args:?}"
    ))
}

/// Every candidate file under the roots as `(path in the index, full
/// path)`, and how many directories were too deep to enter.
fn walk_roots(
    roots: &[String],
    index_file: &str,
) -> Result<(Vec<(String, String)>, usize), Failure> {
    let single = roots.len() == 1;
    let mut files = BTreeSet::new();
    let mut too_deep = 0;
    for root in roots {
        let root_path = Path::new(root);
        // Never index our own output when it lives inside the scanned tree.
        let own = Path::new(index_file)
            .strip_prefix(root_path)
            .ok()
            .and_then(Path::to_str)
            .map(|own| [own.to_owned()]);
        let exclude: Vec<&str> = own.iter().flatten().map(String::as_str).collect();
        let found = walk::walk(root_path, &exclude)?;
        too_deep += found.too_deep;
        for relative in found.files {
            let full = format!("{}/{relative}", root.trim_end_matches('/'));
            files.insert((if single { relative } else { full.clone() }, full));
        }
    }
    Ok((files.into_iter().collect(), too_deep))
}

/// Reads each candidate file and collects the definitions it holds.
fn parse_all(files: &[(String, String)]) -> Result<BTreeSet<Definition>, Failure> {
    let mut definitions = BTreeSet::new();
    let total = files.len() as u64;
    for (done, (relative, full)) in (1..).zip(files) {
        let path = Path::new(full);
        if let Some(text) = read_candidate(path)? {
            let file_name = relative.rsplit('/').next().unwrap_or(relative);
            match shells::scan(file_name, &text) {
                // A TAB or newline in the path would corrupt the index line.
                Some(_) if relative.contains(['\t', '\n']) => log(
                    Level::Warn,
                    &format!("{}: name unfit for the index, skipped", path.display()),
                ),
                Some((shell, commands)) => {
                    definitions.extend(commands.into_iter().map(|command| Definition {
                        command,
                        shell,
                        path: relative.clone(),
                    }));
                }
                None => {}
            }
        }
        progress(done, total);
    }
    Ok(definitions)
}

/// The text of a candidate, or `None` if it is too large or not UTF-8.
fn read_candidate(path: &Path) -> Result<Option<String>, Failure> {
    let io_failure = |e: std::io::Error| Failure::Error(format!("{}: {e}", path.display()));
    if fs::metadata(path).map_err(io_failure)?.len() > MAX_FILE_BYTES {
        log(
            Level::Debug,
            &format!(
                "{}: larger than {MAX_FILE_BYTES} bytes, skipped",
                path.display()
            ),
        );
        return Ok(None);
    }
    Ok(String::from_utf8(fs::read(path).map_err(io_failure)?).ok())
}
