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
//!
//! Incremental: what each file defines is kept in the task's private state
//! with the file's stat (`memo.rs`), so a scan reads only the files whose
//! stat changed, and an index that would not change is not rewritten.

mod getopt;
mod index;
mod memo;
mod shells;
mod walk;
mod words;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use corral::task::host::{Level, log, progress, segment_end, segment_start};
use corral_task_files::known::{self, Known, Stamp};
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

        // Before any file is looked at: what changes from now on is read
        // by the next scan.
        let started_ns = known::now_ns();
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
        let known = Known::load(memo::STATE_FILE, memo::STATE_TAG);
        let parsed = parse_all(&files, &known);
        segment_end("parse");
        let Parsed {
            definitions,
            held,
            read,
        } = parsed?;
        // Unchanged when every file's definitions were reused.
        if read > 0 || known.len() != held.len() {
            known::store(
                memo::STATE_FILE,
                memo::STATE_TAG,
                started_ns,
                held.iter()
                    .map(|(path, stamp, value)| (path.as_str(), *stamp, value.as_str())),
            );
        }

        segment_start("write_index");
        let text = index::render(&definitions);
        let unchanged = fs::read_to_string(index_file).is_ok_and(|old| old == text);
        let written = match unchanged {
            true => Ok(()),
            false => index::write_atomically(index_file, &text),
        };
        segment_end("write_index");
        written.map_err(Failure::Error)?;

        let commands: BTreeSet<&str> = definitions.iter().map(|d| d.command.as_str()).collect();
        log(
            Level::Info,
            &format!(
                "indexed {} completion definitions from {} files ({read} read, the rest unchanged since the last scan)",
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

/// A candidate file: its path in the index, its full guest path and the
/// stamp of the file it is or leads to.
struct File {
    relative: String,
    full: String,
    stamp: Stamp,
}

/// Every candidate file under the roots, sorted by path in the index, and
/// how many directories were too deep to enter.
fn walk_roots(roots: &[String], index_file: &str) -> Result<(Vec<File>, usize), Failure> {
    let single = roots.len() == 1;
    let mut files = Vec::new();
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
        for candidate in found.files {
            let full = format!("{}/{}", root.trim_end_matches('/'), candidate.relative);
            files.push(File {
                relative: if single {
                    candidate.relative
                } else {
                    full.clone()
                },
                full,
                stamp: candidate.stamp,
            });
        }
    }
    files.sort_by(|a, b| (&a.relative, &a.full).cmp(&(&b.relative, &b.full)));
    files.dedup_by(|a, b| a.relative == b.relative && a.full == b.full);
    Ok((files, too_deep))
}

/// The definitions found, and what each file held, for the state.
struct Parsed {
    definitions: BTreeSet<Definition>,
    /// `(full path, stamp, encoded definitions)` of each file.
    held: Vec<(String, Stamp, String)>,
    /// Files read this scan; the others were provably unchanged.
    read: usize,
}

/// Collects the definitions of each candidate file: what it held at the
/// last scan if `known` vouches for it, else read and parsed now.
fn parse_all(files: &[File], known: &Known) -> Result<Parsed, Failure> {
    let mut parsed = Parsed {
        definitions: BTreeSet::new(),
        held: Vec::new(),
        read: 0,
    };
    let total = files.len() as u64;
    for (done, file) in (1..).zip(files) {
        let reused = known.get(&file.full, file.stamp).and_then(memo::decode);
        let held = match reused {
            Some(held) => held,
            None => {
                parsed.read += 1;
                read_definitions(file)?
            }
        };
        progress(done, total);
        if let Some(value) = memo::encode(&held) {
            parsed.held.push((file.full.clone(), file.stamp, value));
        }
        if let Some((shell, commands)) = held {
            // A TAB or newline in the path would corrupt the index line.
            if file.relative.contains(['\t', '\n']) {
                let warning = format!("{}: name unfit for the index, skipped", file.full);
                log(Level::Warn, &warning);
                continue;
            }
            parsed
                .definitions
                .extend(commands.into_iter().map(|command| Definition {
                    command,
                    shell,
                    path: file.relative.clone(),
                }));
        }
    }
    Ok(parsed)
}

/// What one candidate defines, read from it now.
fn read_definitions(file: &File) -> Result<memo::Held, Failure> {
    let path = Path::new(&file.full);
    let Some(text) = read_candidate(path)? else {
        return Ok(None);
    };
    let file_name = file.relative.rsplit('/').next().unwrap_or(&file.relative);
    Ok(shells::scan(file_name, &text))
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
