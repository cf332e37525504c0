//! `corral:task/files` and `corral:task/incremental` for Rust tasks: full
//! `lstat` data, directory listings and native digests on descriptors the
//! task holds; the change feed and the private state directory.
//!
//! A task keeps exporting the plain `task` world with its own bindings and
//! adds this crate for the imports: the component then imports
//! `corral:task/files@0.1.3` (and `corral:task/incremental@0.1.3` if it
//! calls [`cursor`], [`changes_since`], [`state_dir`] or the state file
//! helpers) beside `corral:task/host`, and
//! the WASI types
//! are the `wasip2` crate's, so a [`Descriptor`] from [`open_dir`] (or any
//! other `wasip2` call) can be passed.

wit_bindgen::generate!({
    inline: "
        package corral:task-files-client;

        world client {
            import corral:task/files@0.1.3;
            import corral:task/incremental@0.1.3;
        }
    ",
    path: "../../wit",
    world: "corral:task-files-client/client",
    with: {
        "corral:task/files@0.1.3": generate,
        "corral:task/incremental@0.1.3": generate,
        "wasi:filesystem/types@0.2.12": wasip2::filesystem::types,
        "wasi:io/error@0.2.12": wasip2::io::error,
        "wasi:io/poll@0.2.12": wasip2::io::poll,
        "wasi:io/streams@0.2.12": wasip2::io::streams,
        "wasi:clocks/wall-clock@0.2.12": wasip2::clocks::wall_clock,
    },
});

pub mod known;

pub use corral::task::files::{
    Descend, DigestAlgorithm, DirEntry, FileStat, WalkError, digest, digest_names, list_dir,
    stat_names, walk_tree,
};
pub use corral::task::incremental::{Changes, changes_since, cursor, state_dir};
pub use wasip2::clocks::wall_clock::Datetime;
pub use wasip2::filesystem::types::{Descriptor, DescriptorType, ErrorCode};

use wasip2::filesystem::preopens::get_directories;
use wasip2::filesystem::types::{DescriptorFlags, OpenFlags, PathFlags};

/// The directory at guest path `path`, opened read-only under the granted
/// directory that is its longest prefix (`None` if none is, or it cannot
/// be opened as a directory). Symlinks inside the grant are followed on
/// the way, as WASI resolves them: never out of the grant.
pub fn open_dir(path: &str) -> Option<Descriptor> {
    let path = path.trim_end_matches('/');
    let (preopen, rest) = get_directories()
        .into_iter()
        .filter_map(|(descriptor, root)| {
            let root = root.trim_end_matches('/');
            let rest = path.strip_prefix(root)?;
            (rest.is_empty() || rest.starts_with('/')).then(|| {
                (
                    descriptor,
                    root.len(),
                    rest.trim_start_matches('/').to_owned(),
                )
            })
        })
        .max_by_key(|(_, len, _)| *len)
        .map(|(descriptor, _, rest)| (descriptor, rest))?;
    if rest.is_empty() {
        return Some(preopen);
    }
    preopen
        .open_at(
            PathFlags::SYMLINK_FOLLOW,
            &rest,
            OpenFlags::DIRECTORY,
            DescriptorFlags::READ,
        )
        .ok()
}

/// Every entry under `root`, its path relative to `root` (`/`-separated)
/// with its `lstat` data, sorted by path: directories are descended (never
/// through a symlink) and listed themselves too. One host `walk-tree`
/// call; a tree too large for one falls back to [`walk_where`]'s
/// `list-dir` per directory. On failure, the relative path of the
/// directory that failed.
pub fn walk(root: &Descriptor) -> Result<Vec<(String, FileStat)>, (String, ErrorCode)> {
    match walk_tree(root, &Descend::All) {
        Ok(entries) => Ok(entries
            .into_iter()
            .map(|entry| (entry.name, entry.stat))
            .collect()),
        Err(WalkError {
            code: ErrorCode::Overflow,
            ..
        }) => {
            let mut found = walk_where(root, |_, _| true)?;
            found.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            Ok(found)
        }
        Err(WalkError { path, code }) => Err((path, code)),
    }
}

/// [`walk`], leaving out (and not descending into) every entry for which
/// `keep(relative path, lstat data)` says no.
pub fn walk_where(
    root: &Descriptor,
    mut keep: impl FnMut(&str, &FileStat) -> bool,
) -> Result<Vec<(String, FileStat)>, (String, ErrorCode)> {
    let mut found = Vec::new();
    let mut pending: Vec<(String, Option<Descriptor>)> = vec![(String::new(), None)];
    while let Some((relative, descriptor)) = pending.pop() {
        let dir = descriptor.as_ref().unwrap_or(root);
        let entries = list_dir(dir).map_err(|code| (relative.clone(), code))?;
        for entry in entries {
            let path = match relative.as_str() {
                "" => entry.name.clone(),
                parent => format!("{parent}/{}", entry.name),
            };
            if !keep(&path, &entry.stat) {
                continue;
            }
            if entry.stat.type_ == DescriptorType::Directory {
                let sub = dir
                    .open_at(
                        PathFlags::empty(),
                        &entry.name,
                        OpenFlags::DIRECTORY,
                        DescriptorFlags::READ,
                    )
                    .map_err(|code| (path.clone(), code))?;
                pending.push((path.clone(), Some(sub)));
            }
            found.push((path, entry.stat));
        }
    }
    Ok(found)
}

/// The private state file `name`, if it is there and readable. What it
/// holds is a hint: the task must check it before trusting it.
pub fn read_state(name: &str) -> Option<Vec<u8>> {
    std::fs::read(format!("{}/{name}", state_dir())).ok()
}

/// Replaces the private state file `name` whole: written beside it, then
/// renamed over it, so a task that dies half-way leaves the old file.
pub fn write_state(name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let dir = state_dir();
    let temporary = format!("{dir}/.{name}.tmp");
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, format!("{dir}/{name}"))
}

/// Removes the private state file `name`, as a run must that cannot
/// bring it up to date with its cursor.
pub fn remove_state(name: &str) {
    let _ = std::fs::remove_file(format!("{}/{name}", state_dir()));
}
