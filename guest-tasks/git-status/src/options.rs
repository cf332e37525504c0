//! Knobs of one status computation, and how the environment sets them.

use crate::Error;

/// The environment variable that caps the index size we are willing to scan.
pub const MAX_INDEX_ENTRIES_VAR: &str = "GIT_STATUS_MAX_INDEX_ENTRIES";

/// Above this many index entries a prompt would wait too long for a full
/// scan (gitstatusd's `-m` has the same purpose), so counts become unknown.
pub const DEFAULT_MAX_INDEX_ENTRIES: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Index entries (all stages) above which counts are reported as `-1`.
    pub max_index_entries: usize,
    /// gix-status's own `lstat` has no inode, device, uid, gid nor
    /// permission bits, and perhaps not git's ctime (WASI's stat): its pass
    /// decides from whole-second mtime and size only and does not compare
    /// the executable bit (git's `core.checkStat=minimal`,
    /// `core.trustctime=false`, `core.fileMode=false`). Without this, every
    /// entry it sees would fail the stat comparison and every executable
    /// file would look changed. `uptodate.rs` runs first with full stat data
    /// and the repository's real settings, so only entries it could not
    /// decide reach that pass.
    pub limited_metadata: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_index_entries: DEFAULT_MAX_INDEX_ENTRIES,
            limited_metadata: false,
        }
    }
}

/// Parses the value of [`MAX_INDEX_ENTRIES_VAR`]; unset means the default.
pub fn parse_max_index_entries(value: Option<&str>) -> Result<usize, Error> {
    let Some(value) = value else {
        return Ok(DEFAULT_MAX_INDEX_ENTRIES);
    };
    value.trim().parse().map_err(|_| {
        Error::InvalidInput(format!(
            "{MAX_INDEX_ENTRIES_VAR}={value:?}: expected a non-negative integer"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_index_entries_from_env_value() {
        assert_eq!(parse_max_index_entries(None), Ok(DEFAULT_MAX_INDEX_ENTRIES));
        assert_eq!(parse_max_index_entries(Some("25")), Ok(25));
        assert_eq!(parse_max_index_entries(Some(" 0 ")), Ok(0));
        for bad in ["", "-1", "ten", "1e5"] {
            assert!(
                matches!(
                    parse_max_index_entries(Some(bad)),
                    Err(Error::InvalidInput(_))
                ),
                "{bad:?}"
            );
        }
    }
}
