//! `integrity_scan`: compares the sha256 of every file under a root with a
//! recorded baseline and reports what was added, removed or changed.
//!
//! Hashing a whole tree costs far more than a prompt can afford, yet drift
//! in dotfiles or plugin directories is worth noticing every session. A shell
//! defers the scan and shows its report once it is ready.
//!
//! Args: `[ROOT, BASELINE_FILE]`. Without a baseline the task records one
//! (`baseline=created files=<n>`); with one it never rewrites it, because a
//! tamper check must not quietly accept what it found. Result:
//! `files=<n> added=<a> removed=<r> changed=<c>`, then one `<change> <path>`
//! line per difference, sorted by path.

mod baseline;
mod walk;

use std::fs::{self, File};
use std::io::{self, ErrorKind, Write};
use std::path::Path;

use baseline::{Change, Digests};
use corral::task::host::{Level, log, progress, segment_end, segment_start};
use sha2::{Digest, Sha256};

wit_bindgen::generate!({ path: "../../wit", world: "task" });

struct Component;

impl Guest for Component {
    fn run(call: Invocation) -> Result<String, Failure> {
        let [root, baseline_file] = call.args.as_slice() else {
            return Err(Failure::InvalidInput(format!(
                "expected args [ROOT, BASELINE_FILE], got {:?}",
                call.args
            )));
        };
        let root = Path::new(root);

        segment_start("walk");
        // A baseline kept inside the tree must not be part of what it records.
        let own = Path::new(baseline_file)
            .strip_prefix(root)
            .ok()
            .and_then(Path::to_str)
            .map(|own| [own.to_owned()]);
        let exclude: Vec<&str> = own.iter().flatten().map(String::as_str).collect();
        let tree = walk::walk(root, &exclude);
        segment_end("walk");
        let tree = tree?;
        if tree.symlinks + tree.special > 0 {
            log(
                Level::Info,
                &format!(
                    "skipped {} symlinks and {} special files",
                    tree.symlinks, tree.special
                ),
            );
        }

        segment_start("hash");
        let current = hash_all(root, &tree.files);
        segment_end("hash");
        let current = current?;

        segment_start("compare");
        let report = compare(baseline_file, &current);
        segment_end("compare");
        report
    }
}

export!(Component);

/// Hashes every file, reporting progress as it goes.
fn hash_all(root: &Path, files: &[String]) -> Result<Digests, Failure> {
    let total = files.len() as u64;
    let mut digests = Digests::new();
    for (done, relative) in (1..).zip(files) {
        // The baseline is line-based; such a name could not be recorded.
        if relative.contains(['\n', '\r']) {
            return Err(Failure::InvalidInput(format!(
                "{relative:?}: a line break in a file name cannot be recorded"
            )));
        }
        let path = root.join(relative);
        let hex =
            sha256_file(&path).map_err(|e| Failure::Error(format!("{}: {e}", path.display())))?;
        digests.insert(relative.clone(), hex);
        progress(done, total);
    }
    Ok(digests)
}

fn sha256_file(path: &Path) -> io::Result<String> {
    let mut hasher = Sha256::new();
    io::copy(&mut File::open(path)?, &mut hasher)?;
    Ok(format!("{:x}", hasher.finalize()))
}

/// Reports against the baseline, or records it when there is none yet.
fn compare(baseline_file: &str, current: &Digests) -> Result<String, Failure> {
    let text = match fs::read_to_string(baseline_file) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            write_atomically(baseline_file, &baseline::render(current))?;
            log(
                Level::Info,
                &format!("recorded a baseline of {} files", current.len()),
            );
            return Ok(format!("baseline=created files={}", current.len()));
        }
        Err(e) => return Err(Failure::Error(format!("{baseline_file}: {e}"))),
    };
    let recorded = baseline::parse(&text)
        .map_err(|why| Failure::InvalidInput(format!("{baseline_file}: {why}")))?;
    let changes = baseline::diff(&recorded, current);
    let count = |kind| changes.iter().filter(|(_, c)| *c == kind).count();
    let mut report = format!(
        "files={} added={} removed={} changed={}",
        current.len(),
        count(Change::Added),
        count(Change::Removed),
        count(Change::Changed)
    );
    if !changes.is_empty() {
        log(
            Level::Warn,
            &format!("{} files differ from {baseline_file}", changes.len()),
        );
    }
    for (path, change) in changes {
        report.push_str(&format!("\n{change} {path}"));
    }
    Ok(report)
}

/// Writes `path.tmp-<unique>` and renames it over `path`, so a reader
/// never sees a partial baseline and two writers never share a temporary.
fn write_atomically(path: &str, contents: &str) -> Result<(), Failure> {
    let tmp = format!("{path}.tmp-{}", unique_suffix());
    let write = || -> io::Result<()> {
        let mut file = File::create_new(&tmp)?;
        file.write_all(contents.as_bytes())?;
        file.sync_all()
    };
    write().map_err(|e| Failure::Error(format!("{tmp}: {e}")))?;
    fs::rename(&tmp, path).map_err(|e| Failure::Error(format!("{tmp} -> {path}: {e}")))
}

/// Nanoseconds of the wall clock: distinct for writers that are not
/// running at the same nanosecond (and `create_new` refuses a clash).
fn unique_suffix() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{:x}", now.as_nanos())
}
