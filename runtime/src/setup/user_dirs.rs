//! Where a user's corral lives, by the XDG base directory convention: the
//! manifest under `$XDG_CONFIG_HOME`, installed components under
//! `$XDG_DATA_HOME`, results and baselines under `$XDG_STATE_HOME`.
//! These are where the user expects configuration, data and state to be,
//! and what `corral run` without `--manifest` already looks for.

use std::path::{Path, PathBuf};

/// The user's corral directories, all absolute.
#[derive(Clone, Debug)]
pub struct UserDirs {
    pub home: PathBuf,
    /// `$XDG_CONFIG_HOME/corral` (default `~/.config/corral`).
    pub config: PathBuf,
    /// `$XDG_DATA_HOME/corral` (default `~/.local/share/corral`).
    pub data: PathBuf,
    /// `$XDG_STATE_HOME/corral` (default `~/.local/state/corral`).
    pub state: PathBuf,
    /// `$XDG_DATA_HOME` itself: bash-completion looks there too.
    pub data_home: PathBuf,
    /// `$XDG_CONFIG_HOME` itself: fish's config lives there.
    pub config_home: PathBuf,
}

impl UserDirs {
    /// From `env` (the process environment in practice). A relative XDG
    /// value is ignored, as the specification says.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<UserDirs, String> {
        let home = env("HOME")
            .filter(|home| Path::new(home).is_absolute())
            .map(PathBuf::from)
            .ok_or("HOME is not set to an absolute path")?;
        let xdg = |name: &str, default: &str| {
            env(name)
                .map(PathBuf::from)
                .filter(|path| path.is_absolute())
                .unwrap_or_else(|| home.join(default))
        };
        let config_home = xdg("XDG_CONFIG_HOME", ".config");
        let data_home = xdg("XDG_DATA_HOME", ".local/share");
        let state_home = xdg("XDG_STATE_HOME", ".local/state");
        Ok(UserDirs {
            config: config_home.join("corral"),
            data: data_home.join("corral"),
            state: state_home.join("corral"),
            data_home,
            config_home,
            home,
        })
    }

    pub fn manifest(&self) -> PathBuf {
        self.config.join("manifest.toml")
    }

    pub fn components(&self) -> PathBuf {
        self.data.join("components")
    }

    /// `path` as the manifest writes it: `~/rest` under the home directory
    /// (the manifest expands `~`), else as it is.
    pub fn manifest_path(&self, path: &Path) -> String {
        match path.strip_prefix(&self.home) {
            Ok(rest) if rest.as_os_str().is_empty() => "~".to_string(),
            Ok(rest) => format!("~/{}", rest.display()),
            Err(_) => path.display().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_home_and_relative_values_are_ignored() {
        let dirs = UserDirs::from_env(|name| match name {
            "HOME" => Some("/h".into()),
            "XDG_STATE_HOME" => Some("relative".into()),
            "XDG_DATA_HOME" => Some("/data".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(dirs.config, Path::new("/h/.config/corral"));
        assert_eq!(dirs.state, Path::new("/h/.local/state/corral"));
        assert_eq!(dirs.components(), Path::new("/data/corral/components"));
        assert_eq!(dirs.manifest_path(Path::new("/h/.zshrc")), "~/.zshrc");
        assert_eq!(dirs.manifest_path(Path::new("/data/x")), "/data/x");
        assert!(UserDirs::from_env(|_| None).is_err());
    }
}
