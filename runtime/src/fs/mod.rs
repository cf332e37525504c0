//! Files corral writes for itself, and files a user names on the command
//! line. Below every stage; it imports nothing of corral.
//!
//! - `durable`: replace a file so readers see the old or the new, never half.
//! - `private_dir`: corral's own directories (state, results, locks, runs),
//!   opened once and used through their descriptor, never through a
//!   symbolic link, whatever a guest with a grant there may plant.
//! - `named`: a path the user named (a manifest, `--events`): a regular
//!   file, or a FIFO or device only where asked for, opened within a time
//!   limit and read within a size limit.
//! - `system_tree`: `/proc`, `/sys`, `/dev`, never granted.

pub mod durable;
pub mod named;
pub mod private_dir;
pub mod system_tree;
