//! `zsh_compdump`: writes the completion dump zsh's `compinit` would write,
//! off the prompt path, so that a shell's start-up can run `compinit -C -d
//! DUMP` and load it without opening the ~1,000 files on `$fpath` (and
//! without `compaudit`'s checks of every directory).
//!
//! Args: `[DUMP_FILE, ZSH_VERSION, FPATH_DIR...]`, the directories in
//! `$fpath` order (the first file of a name wins, as in `compinit`).
//! `ZSH_VERSION` goes into the dump's header, which `compinit` without `-C`
//! compares with the running zsh. Writes `DUMP_FILE` atomically. Result:
//! `files=<n> functions=<n> commands=<n> dump=<DUMP_FILE>`.
//!
//! What `compinit` does with each file's first line is mirrored in
//! `compdef.rs`, the format of `compdump` in `dump.rs`. One difference: key
//! bindings that `compdef -n` makes only when a key is unbound are written
//! unconditionally; zsh's default keymaps bind none of the keys the
//! distributed functions name.
//!
//! Incremental: each file's first line is kept in the task's private state
//! with the file's stat (`scan.rs`), so a scan reads only the files whose
//! stat changed.

mod compdef;
mod dump;
mod scan;

use std::fs::{self, File};
use std::io::{ErrorKind, Write};

use corral::task::host::{Level, log, segment_end, segment_start};
use corral_task_files::known::{self, Known};

wit_bindgen::generate!({ path: "../../wit", world: "task" });

struct Component;

impl Guest for Component {
    fn run(call: Invocation) -> Result<String, Failure> {
        let [dump_file, version, fpath @ ..] = call.args.as_slice() else {
            return Err(Failure::InvalidInput(format!(
                "expected args [DUMP_FILE, ZSH_VERSION, FPATH_DIR...], got {:?}",
                call.args
            )));
        };
        // Before any file is looked at: what changes from now on is read
        // by the next scan.
        let started_ns = known::now_ns();
        segment_start("scan");
        let known = Known::load(scan::STATE_FILE, scan::STATE_TAG);
        let found = scan::scan(fpath, &known);
        segment_end("scan");
        log(
            Level::Debug,
            &format!(
                "{} of {} files read; the rest are unchanged since the last scan",
                found.read,
                found.files.len() + found.unreadable.len()
            ),
        );
        // Unchanged when every file's first line was reused.
        if found.read > 0 || known.len() != found.first_lines.len() {
            let lines = found.first_lines.iter();
            known::store(
                scan::STATE_FILE,
                scan::STATE_TAG,
                started_ns,
                lines.map(|(path, stamp, words)| (path.as_str(), *stamp, words.as_str())),
            );
        }
        for (path, error) in &found.unreadable {
            log(Level::Warn, &format!("{path}: {error}"));
        }
        for path in &found.unsafe_names {
            log(
                Level::Warn,
                &format!("{path}: left out: its name cannot be written into the dump safely"),
            );
        }
        let definitions = compdef::Definitions::from_files(&found.files);
        segment_start("write");
        let text = dump::render(&definitions, found.count, version);
        // An unchanged dump keeps its mtime, so the shell's compiled copy
        // (`zcompile`) stays newer than it and is what zsh loads.
        if fs::read_to_string(dump_file).ok().as_deref() != Some(text.as_str()) {
            write_atomically(dump_file, &text)?;
        }
        segment_end("write");
        Ok(format!(
            "files={} functions={} commands={} dump={dump_file}",
            found.count,
            found.files.len(),
            definitions.comps.len()
        ))
    }
}

export!(Component);

/// Replaces `path` by rename, so a shell starting meanwhile reads the old
/// dump or the new one, whole; the temporary's name is unique to this run.
fn write_atomically(path: &str, contents: &str) -> Result<(), Failure> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let tmp = format!("{path}.tmp-{:x}", now.as_nanos());
    let write = || -> std::io::Result<()> {
        let mut file = File::create_new(&tmp)?;
        file.write_all(contents.as_bytes())?;
        file.sync_all()
    };
    let failed = |e: std::io::Error| match e.kind() {
        ErrorKind::NotFound | ErrorKind::PermissionDenied => {
            Failure::InvalidInput(format!("{tmp}: {e}"))
        }
        _ => Failure::Error(format!("{tmp}: {e}")),
    };
    write().map_err(failed)?;
    fs::rename(&tmp, path).map_err(|e| Failure::Error(format!("{tmp} -> {path}: {e}")))
}
