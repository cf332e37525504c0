//! zsh's `$fpath` and version, for the completion dump `compinit` loads.
//! Unlike the completion scan, the dump needs every directory in order
//! (the first file of a name wins), nested ones included.

use std::path::PathBuf;

use super::completions::ask_lines;

pub struct ZshFpath {
    /// `$ZSH_VERSION`: `compinit` without `-C` rebuilds a dump of another.
    pub version: String,
    /// The directories of `$fpath` that exist, in order.
    pub dirs: Vec<PathBuf>,
}

/// zsh's own (compiled-in) `$fpath`: `-f` reads no start-up files.
pub fn zsh_fpath() -> Option<ZshFpath> {
    let lines = ask_lines(
        "zsh",
        &["-fc", "print -r -- $ZSH_VERSION; print -rl -- $fpath"],
    );
    let (version, dirs) = lines.split_first()?;
    let version = version.trim();
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    Some(ZshFpath {
        version: version.to_string(),
        dirs: dirs
            .iter()
            .map(PathBuf::from)
            .filter(|dir| dir.is_absolute() && dir.is_dir())
            .collect(),
    })
}
