//! `corral:task/files` for Rust tasks: full `lstat` data, directory
//! listings and native digests on descriptors the task holds.
//!
//! A task keeps exporting the plain `task` world with its own bindings and
//! adds this crate for the imports: the component then imports
//! `corral:task/files@0.1.1` beside `corral:task/host`, and the WASI types
//! are the `wasip2` crate's, so a [`Descriptor`] from [`open_dir`] (or any
//! other `wasip2` call) can be passed.

wit_bindgen::generate!({
    inline: "
        package corral:task-files-client;

        world client {
            import corral:task/files@0.1.1;
        }
    ",
    path: "../../wit",
    world: "corral:task-files-client/client",
    with: {
        "corral:task/files@0.1.1": generate,
        "wasi:filesystem/types@0.2.12": wasip2::filesystem::types,
        "wasi:io/error@0.2.12": wasip2::io::error,
        "wasi:io/poll@0.2.12": wasip2::io::poll,
        "wasi:io/streams@0.2.12": wasip2::io::streams,
        "wasi:clocks/wall-clock@0.2.12": wasip2::clocks::wall_clock,
    },
});

pub use corral::task::files::{
    DigestAlgorithm, DirEntry, FileStat, digest, digest_names, list_dir, stat_names,
};
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
