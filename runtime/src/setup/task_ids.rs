//! The ids of the shipped tasks, stated once. `corral init` writes the
//! tasks under these ids (each the lib name of the component it runs), and
//! the shell wiring (`cli::shell_wiring`) finds the zsh dump, the
//! completion index and the integrity alert by them.

/// Indexes the shell completion directories: `command<TAB>shell<TAB>path`
/// lines.
pub const COMPLETION_INDEX: &str = "completion_cache_scan";
/// The status of the shell's repository, bound to it (`context = "repo"`).
pub const GIT_STATUS: &str = "git_status";
/// Watches start-up files; its reported changes raise the prompt's alert.
pub const INTEGRITY: &str = "integrity_scan";
/// Converts the prompt theme into 256-colour indexes.
pub const THEME_PALETTE: &str = "theme_palette";
/// Writes the dump `compinit -C -d` loads.
pub const ZSH_COMPDUMP: &str = "zsh_compdump";
