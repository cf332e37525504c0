//! Setting corral up for the machine it runs on (`corral init`): where the
//! user's files go, which shell completion directories and start-up files
//! this machine has, the components the binary carries, and the manifest
//! that grants exactly those places.
//!
//! Probing asks the shells themselves where they look (zsh's `$fpath`,
//! fish's `$fish_complete_path`) rather than guessing, because distributions
//! and plugin managers move these directories. This stage writes files and
//! runs the shells' own commands; it must not import the run or the views,
//! and reads of the sandbox only the file-size bound its grants must keep. The manifest it writes is checked by `manifest` like any other.

mod completions;
mod components;
mod startup_files;
pub mod task_ids;
mod user_dirs;
mod user_manifest;
mod zsh_fpath;

pub use completions::completion_dirs;
pub use components::install_components;
pub use startup_files::startup_files;
pub use user_dirs::UserDirs;
pub use user_manifest::{DEFAULT_THEME, Machine, render_manifest};
pub use zsh_fpath::zsh_fpath;
