//! `integrity_scan`: compares the sha256 of every file under a root with a
//! recorded baseline and reports what was added, removed or changed.
//!
//! Hashing a whole tree costs far more than a prompt can afford, yet drift
//! in dotfiles or plugin directories is worth noticing every session. A shell
//! defers the scan and shows its report once it is ready.
//!
//! Args: `[--rebaseline] ROOT... BASELINE_FILE`. Each `ROOT` is a directory
//! (every regular file under it is watched; symlinks are not followed) or a
//! single file. With one directory root, paths are relative to it; otherwise
//! each path is the file's full guest path (`ROOT/relative`, or `ROOT` for a
//! file root), so several roots never collide.
//!
//! Without a baseline the task records one (`baseline=created files=<n>`);
//! with one it never rewrites it, because a tamper check must not quietly
//! accept what it found. Result: `files=<n> added=<a> removed=<r>
//! changed=<c>`, then one `<change> <path>` line per difference, sorted by
//! path.
//!
//! Files whose full `lstat` data is unchanged since the last scan keep
//! the digest that scan computed (see `corral_task_files::known`); the rest are hashed
//! natively by the host.
//!
//! `--rebaseline` accepts the current state: the baseline is rewritten and
//! the result is `baseline=rebased files=<n> added=<a> removed=<r>
//! changed=<c>` with the accepted differences listed the same way. The host
//! passes it only for `corral rebaseline ID`; it is not meant for a
//! manifest's `args`.

mod baseline;
mod walk;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, ErrorKind, Write};
use std::path::Path;
use std::rc::Rc;

use baseline::{Change, Digests};
use corral::task::host::{Level, log, progress, segment_end, segment_start};
use corral_task_files::DigestAlgorithm;
use corral_task_files::known::{self, Known, Stamp};

/// The private state file of digests, and its format's tag.
const STATE_FILE: &str = "digests";
const STATE_TAG: &str = "integrity-scan digests v2";

wit_bindgen::generate!({ path: "../../wit", world: "task" });

struct Component;

impl Guest for Component {
    fn run(call: Invocation) -> Result<String, Failure> {
        let (rebaseline, args) = match call.args.split_first() {
            Some((flag, rest)) if flag == "--rebaseline" => (true, rest),
            _ => (false, call.args.as_slice()),
        };
        let [roots @ .., baseline_file] = args else {
            return Err(usage(&call.args));
        };
        if roots.is_empty() {
            return Err(usage(&call.args));
        }

        // Before any file is looked at: what changes from now on is seen
        // by the next scan.
        let started_ns = known::now_ns();
        segment_start("walk");
        let watched = watched_files(roots, baseline_file);
        segment_end("walk");
        let watched = watched?;

        segment_start("hash");
        let known = Known::load(STATE_FILE, STATE_TAG);
        let current = hash_all(&watched, &known);
        segment_end("hash");
        let (current, hashed) = current?;

        segment_start("compare");
        let report = if rebaseline {
            rebase(baseline_file, &current)
        } else {
            compare(baseline_file, &current)
        };
        segment_end("compare");
        let report = report?;
        if worth_storing(hashed, watched.len(), known.len()) {
            known::store(
                STATE_FILE,
                STATE_TAG,
                started_ns,
                watched
                    .iter()
                    .zip(&current)
                    .map(|(file, (_, digest))| (file.reported.as_str(), file.stamp, &**digest)),
            );
        }
        Ok(report)
    }
}

/// Whether this run's digests are written back: when the set of files
/// changed, or more than one in 64 were hashed. Below that the next run
/// hashes the same few files again (natively, microseconds each) rather
/// than every run after an edit rewriting the digests of a whole tree;
/// the kept state only ever vouches for what it recorded.
fn worth_storing(hashed: usize, files: usize, known: usize) -> bool {
    known != files || hashed * 64 > files
}

fn usage(args: &[String]) -> Failure {
    Failure::InvalidInput(format!(
        "expected args [--rebaseline] ROOT... BASELINE_FILE, got {args:?}"
    ))
}

/// A watched file: the path it is reported as, and where to read it (a
/// directory and the path under it).
struct Watched {
    reported: String,
    dir: Rc<str>,
    relative: String,
    stamp: Stamp,
}

/// Every watched file, sorted by reported path and without duplicates.
fn watched_files(roots: &[String], baseline_file: &str) -> Result<Vec<Watched>, Failure> {
    let single_dir = roots.len() == 1;
    let mut files: Vec<Watched> = Vec::new();
    let (mut symlinks, mut special) = (0, 0);
    for root in roots {
        let root_path = Path::new(root);
        let metadata = fs::metadata(root_path).map_err(|e| {
            let message = format!("{root}: {e}");
            match e.kind() {
                ErrorKind::NotFound => Failure::InvalidInput(message),
                _ => Failure::Error(message),
            }
        })?;
        if metadata.is_file() {
            let (Some(dir), Some(name)) = (
                root_path.parent().and_then(Path::to_str),
                root_path.file_name().and_then(|name| name.to_str()),
            ) else {
                return Err(Failure::InvalidInput(format!("{root}: not a file path")));
            };
            let stat = corral_task_files::open_dir(dir)
                .and_then(|descriptor| {
                    corral_task_files::stat_names(&descriptor, &[name.to_owned()]).ok()
                })
                .and_then(|mut stats| stats.pop()?.ok())
                .ok_or_else(|| Failure::Error(format!("{root}: cannot stat")))?;
            files.push(Watched {
                reported: root.clone(),
                dir: dir.into(),
                relative: name.to_owned(),
                stamp: Stamp::of(&stat),
            });
            continue;
        }
        // A baseline kept inside the tree must not be part of what it records.
        let own = Path::new(baseline_file)
            .strip_prefix(root_path)
            .ok()
            .and_then(Path::to_str)
            .map(|own| [own.to_owned()]);
        let exclude: Vec<&str> = own.iter().flatten().map(String::as_str).collect();
        let tree = walk::walk(root_path, &exclude)?;
        symlinks += tree.symlinks;
        special += tree.special;
        let dir: Rc<str> = root.as_str().into();
        for (relative, stat) in tree.files {
            let reported = if single_dir {
                relative.clone()
            } else {
                format!("{}/{relative}", root.trim_end_matches('/'))
            };
            files.push(Watched {
                reported,
                dir: Rc::clone(&dir),
                relative,
                stamp: Stamp::of(&stat),
            });
        }
    }
    if symlinks + special > 0 {
        log(
            Level::Info,
            &format!("skipped {symlinks} symlinks and {special} special files"),
        );
    }
    // One directory's walk is sorted already; several roots are merged,
    // and a file two overlapping roots reach is kept once.
    if !files.is_sorted_by(|a, b| a.reported < b.reported) {
        files.sort_by(|a, b| a.reported.cmp(&b.reported));
        files.dedup_by(|later, first| later.reported == first.reported);
    }
    Ok(files)
}

export!(Component);

/// Paths hashed per host call (the host's own cap).
const BATCH: usize = 4096;

/// The digest of every file: the last scan's where `known` vouches for
/// it, otherwise hashed natively through the host (`corral:task/files`),
/// up to 4096 per call under each root, reporting progress as it goes.
/// Each file is opened without following a symlink: one that replaced a
/// file after the walk is an error, never its target's digest.
fn hash_all<'a>(files: &'a [Watched], known: &'a Known) -> Result<(Digests<'a>, usize), Failure> {
    let total = files.len() as u64;
    if let Some(file) = files
        .iter()
        .find(|file| file.reported.contains(['\n', '\r']))
    {
        // The baseline is line-based; such a name could not be recorded.
        return Err(Failure::InvalidInput(format!(
            "{:?}: a line break in a file name cannot be recorded",
            file.reported
        )));
    }
    // Each file's digest, in the files' order: reused, or filled in below.
    let mut digests: Vec<Option<Cow<'a, str>>> = files
        .iter()
        .map(|file| {
            // A digest that is not 64 hex digits is foreign state, not ours.
            known
                .get(&file.reported, file.stamp)
                .filter(|digest| {
                    digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit())
                })
                .map(Cow::Borrowed)
        })
        .collect();
    let mut by_dir: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (index, file) in files.iter().enumerate() {
        if digests[index].is_none() {
            by_dir.entry(&file.dir).or_default().push(index);
        }
    }
    let hashed = by_dir.values().map(Vec::len).sum();
    log(
        Level::Debug,
        &format!("{hashed} of {total} files hashed; the rest are unchanged since the last scan"),
    );
    let mut done = total - hashed as u64;
    for (dir, indexes) in by_dir {
        let failed = |why: String| Failure::Error(format!("{dir}: {why}"));
        let descriptor =
            corral_task_files::open_dir(dir).ok_or_else(|| failed("cannot be opened".into()))?;
        for batch in indexes.chunks(BATCH) {
            let paths: Vec<String> = batch
                .iter()
                .map(|&index| files[index].relative.clone())
                .collect();
            let answers =
                corral_task_files::digest_names(&descriptor, &paths, DigestAlgorithm::Sha256)
                    .map_err(|code| failed(code.name().to_string()))?;
            for (&index, answer) in batch.iter().zip(answers) {
                let digest = answer.map_err(|code| {
                    failed(format!("{}: {}", files[index].relative, code.name()))
                })?;
                let hex = digest.iter().fold(String::with_capacity(64), |mut hex, b| {
                    let _ = write!(hex, "{b:02x}");
                    hex
                });
                digests[index] = Some(Cow::Owned(hex));
            }
            done += batch.len() as u64;
            progress(done, total);
        }
    }
    let digests = files
        .iter()
        .zip(digests)
        .filter_map(|(file, digest)| Some((file.reported.as_str(), digest?)))
        .collect();
    Ok((digests, hashed))
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
    if !changes.is_empty() {
        log(
            Level::Warn,
            &format!("{} files differ from {baseline_file}", changes.len()),
        );
    }
    Ok(summary(String::new(), current, &changes))
}

/// Accepts the current state as the new baseline, listing what it accepted.
fn rebase(baseline_file: &str, current: &Digests) -> Result<String, Failure> {
    let text = match fs::read_to_string(baseline_file) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Failure::Error(format!("{baseline_file}: {e}"))),
    };
    // An unreadable old baseline is replaced: accepting is the point.
    let recorded = baseline::parse(&text).unwrap_or_default();
    let changes = baseline::diff(&recorded, current);
    write_atomically(baseline_file, &baseline::render(current))?;
    log(
        Level::Info,
        &format!(
            "accepted {} differences; baseline of {} files",
            changes.len(),
            current.len()
        ),
    );
    Ok(summary("baseline=rebased ".to_string(), current, &changes))
}

/// `<prefix>files=<n> added=<a> removed=<r> changed=<c>`, then one
/// `<change> <path>` line per difference.
fn summary(prefix: String, current: &Digests, changes: &[(&str, Change)]) -> String {
    let count = |kind| changes.iter().filter(|(_, c)| *c == kind).count();
    let mut report = format!(
        "{prefix}files={} added={} removed={} changed={}",
        current.len(),
        count(Change::Added),
        count(Change::Removed),
        count(Change::Changed)
    );
    for (path, change) in changes {
        report.push_str(&format!("\n{change} {path}"));
    }
    report
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
