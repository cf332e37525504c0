//! `{{name}}`: a corral task. Args: `[DIR]`, a directory granted with
//! `[[task.dir]]` at guest path DIR. Result: `files=<n> first=<name> bytes=<m>`,
//! the number of regular files in DIR, the first by name and its size.
//!
//! It lists DIR with `corral:task/files` (names and `lstat` data in one
//! host call) and keeps its run count and change-feed cursor in its private
//! state (`corral:task/incremental`), logging what changed since its last
//! run: the pattern of a task that redoes only what changed.

use std::fs;

use corral::task::files::list_dir;
use corral::task::host::{Level, log, segment_end, segment_start};
use corral::task::incremental::{Changes, changes_since, cursor, state_dir};
use wasi::filesystem::preopens::get_directories;
use wasi::filesystem::types::{Descriptor, DescriptorFlags, DescriptorType, OpenFlags, PathFlags};

// `task-dirs` (wit/task-dirs.wit): the task world, `corral:task/files` and
// `corral:task/incremental`, and the granted directories as descriptors.
wit_bindgen::generate!({ path: "wit", world: "task-dirs", generate_all });

struct Component;

impl Guest for Component {
    fn run(call: Invocation) -> Result<String, Failure> {
        // InvalidInput is never retried: use it for what a retry cannot fix.
        let dir = match call.args.first().map(String::as_str) {
            None | Some("--invalid") => {
                return Err(Failure::InvalidInput(format!(
                    "expected args [DIR] (a granted guest directory), got {:?}",
                    call.args
                )));
            }
            Some(dir) => dir,
        };
        // Taken before the task looks at anything: what changes from now
        // on is in the next run's feed.
        let now = cursor();

        segment_start("scan");
        let scanned = scan(dir);
        segment_end("scan");
        let (files, first, bytes) = scanned?;

        let (runs, changes) = remember(&now);
        log(
            Level::Info,
            &format!("{dir}: {files} files; run {runs} with this state; changes: {changes}"),
        );
        Ok(format!("files={files} first={first} bytes={bytes}"))
    }
}

export!(Component);

/// Counts the regular files in `dir` and reads the first one by name.
fn scan(dir: &str) -> Result<(usize, String, usize), Failure> {
    let descriptor = granted_dir(dir)?;
    let entries = list_dir(&descriptor).map_err(|code| Failure::Error(format!("{dir}: {code}")))?;
    let files: Vec<String> = entries
        .into_iter()
        .filter(|entry| entry.stat.type_ == DescriptorType::RegularFile)
        .map(|entry| entry.name)
        .collect();
    let Some(first) = files.first() else {
        return Ok((0, "-".to_owned(), 0));
    };
    // std sees the granted directories at their guest paths too.
    let path = format!("{}/{first}", dir.trim_end_matches('/'));
    let bytes = fs::read(&path).map_err(|e| Failure::Error(format!("{path}: {e}")))?;
    Ok((files.len(), first.clone(), bytes.len()))
}

/// The directory granted at guest path `dir` (or under one) as a
/// descriptor, for `corral:task/files`.
fn granted_dir(dir: &str) -> Result<Descriptor, Failure> {
    let not_granted = || Failure::InvalidInput(format!("{dir} is not a granted directory"));
    let path = dir.trim_end_matches('/');
    let (preopen, rest) = get_directories()
        .into_iter()
        .filter_map(|(descriptor, root)| {
            let rest = path.strip_prefix(root.trim_end_matches('/'))?;
            (rest.is_empty() || rest.starts_with('/'))
                .then(|| (descriptor, root.len(), rest.trim_start_matches('/').to_owned()))
        })
        .max_by_key(|(_, len, _)| *len)
        .map(|(descriptor, _, rest)| (descriptor, rest))
        .ok_or_else(not_granted)?;
    if rest.is_empty() {
        return Ok(preopen);
    }
    preopen
        .open_at(PathFlags::empty(), &rest, OpenFlags::DIRECTORY, DescriptorFlags::READ)
        .map_err(|_| not_granted())
}

/// This run's number and what changed since the last run, from the private
/// state (a file `last`: `<runs> <cursor>`), which then records this run.
/// State is a hint: anything missing or unreadable counts as no earlier run.
fn remember(now: &str) -> (u64, String) {
    let path = format!("{}/last", state_dir());
    let last = fs::read_to_string(&path).unwrap_or_default();
    let earlier = last
        .split_once(' ')
        .and_then(|(runs, cursor)| Some((runs.parse::<u64>().ok()?, cursor)));
    let (runs, changes) = match earlier {
        None => (1, "unknown (no earlier run)".to_owned()),
        Some((runs, cursor)) => match changes_since(cursor) {
            Changes::Unknown(why) => (runs + 1, format!("unknown ({why})")),
            Changes::Known(paths) => (runs + 1, format!("{} paths", paths.len())),
        },
    };
    // Written beside and renamed over: a run that dies half-way leaves the
    // old state, never a torn one.
    let temporary = format!("{path}.tmp");
    let written = fs::write(&temporary, format!("{runs} {now}"))
        .and_then(|()| fs::rename(&temporary, &path));
    if written.is_err() {
        let _ = fs::remove_file(&path);
    }
    (runs, changes)
}
