//! Whether a granted directory lives on a local filesystem, where a file
//! call finishes in bounded time. Only then may guest file calls run inline
//! on the executor thread (wasmtime-wasi's `allow_blocking_current_thread`)
//! instead of a hand-off to tokio's blocking pool for every call: a hung
//! network or FUSE filesystem would hold the executor thread where no
//! timeout could end the task.

use std::path::Path;

/// `statfs` magic numbers of filesystems backed by local storage or memory
/// (linux/magic.h).
const LOCAL: &[u32] = &[
    0xEF53,      // ext2/3/4
    0x5846_5342, // xfs
    0x9123_683E, // btrfs
    0x0102_1994, // tmpfs
    0x794C_7630, // overlayfs
    0xF2F5_2010, // f2fs
    0x2FC1_2FC1, // zfs
    0x4D44,      // vfat
    0x5346_544E, // ntfs3
    0x2011_BAB0, // exfat
    0x8584_58F6, // ramfs
];

/// Whether `path` is on a local filesystem; anything unknown is not.
pub fn is_local(path: &Path) -> bool {
    rustix::fs::statfs(path).is_ok_and(|stat| LOCAL.contains(&(stat.f_type as u32)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temporary_directory_is_local_and_proc_is_not() {
        assert!(is_local(&std::env::temp_dir()));
        assert!(!is_local(Path::new("/proc")));
        assert!(!is_local(Path::new("/no/such/directory")));
    }
}
