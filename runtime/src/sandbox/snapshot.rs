//! File grants (`[[task.file]]`) made real: a read-only snapshot directory
//! per guest directory, holding copies of exactly the granted files.
//!
//! WASI 0.2 grants directories, not files. Preopening the directory a file
//! lives in would expose its neighbours (`~/.ssh` beside `~/.zshrc`), so the
//! granted files are copied into a fresh private directory that is preopened
//! read-only in their place, and removed when the attempt ends.
//!
//! A granted path that is a symlink is followed: the user named it (dotfile
//! managers link `~/.zshrc` into a checkout). Nothing else is followed or
//! copied; a file that is not a regular file (a FIFO included: it is
//! opened without blocking), or is larger than
//! [`MAX_FILE_BYTES`], is refused, and the copies together are bounded by
//! [`MAX_TOTAL_BYTES`].

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use tempfile::TempDir;

use crate::events::{FailReason, Failure};
use crate::manifest::Task;

/// Larger granted files are refused: start-up files and key lists are small.
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// The bound on all of a task's granted files together.
pub const MAX_TOTAL_BYTES: u64 = 16 << 20;

/// One snapshot directory and the guest directory it appears as.
pub struct Snapshot {
    pub dir: TempDir,
    pub guest: String,
}

/// Copies `task`'s granted files into snapshot directories, one per guest
/// directory. Blocking: call it off the executor.
pub fn stage(task: &Task) -> Result<Vec<Snapshot>, Failure> {
    let mut by_dir: BTreeMap<&str, Vec<(&str, &Path)>> = BTreeMap::new();
    for file in &task.files {
        let (parent, name) = file.guest_parts();
        by_dir
            .entry(parent)
            .or_default()
            .push((name, &file.host_path));
    }
    let mut total = 0;
    let mut snapshots = Vec::with_capacity(by_dir.len());
    for (guest, files) in by_dir {
        let denied = |message: String| Failure::new(FailReason::Denied, message);
        // tempfile creates the directory readable only by the user.
        let dir = tempfile::Builder::new()
            .prefix("corral-files-")
            .tempdir()
            .map_err(|error| denied(format!("cannot stage files for {guest}: {error}")))?;
        for (name, host) in files {
            let bytes = read_granted(host, &mut total)
                .map_err(|why| denied(format!("granted file {}: {why}", host.display())))?;
            std::fs::write(dir.path().join(name), bytes)
                .map_err(|error| denied(format!("cannot stage {}: {error}", host.display())))?;
        }
        snapshots.push(Snapshot {
            dir,
            guest: guest.to_string(),
        });
    }
    Ok(snapshots)
}

/// The contents of one granted regular file, within the size bounds.
fn read_granted(host: &Path, total: &mut u64) -> Result<Vec<u8>, String> {
    // Non-blocking, so that a FIFO swapped in for the file cannot hang the
    // open; it is then refused as not a regular file.
    let file = File::options()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(host)
        .map_err(|error| error.to_string())?;
    // Checked on the open file, so a swap after the check cannot matter.
    let metadata = file.metadata().map_err(|error| error.to_string())?;
    if !metadata.is_file() {
        return Err("not a regular file".into());
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| error.to_string())?;
    let size = bytes.len() as u64;
    if size > MAX_FILE_BYTES {
        return Err(format!("larger than {MAX_FILE_BYTES} bytes"));
    }
    *total += size;
    if *total > MAX_TOTAL_BYTES {
        return Err(format!(
            "the task's granted files exceed {MAX_TOTAL_BYTES} bytes together"
        ));
    }
    Ok(bytes)
}
