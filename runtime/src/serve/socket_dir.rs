//! Where the server's socket lives: `$XDG_RUNTIME_DIR/corral/`, else
//! `${TMPDIR:-/tmp}/corral-$UID/`. The directory must be a real directory
//! (not a link), owned by the user, with no access for anyone else, as
//! ssh-agent, watchman and atuin require of theirs: anyone who could
//! replace the socket could answer for the server.

use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The socket's name in the directory.
const SOCKET: &str = "serve.sock";
/// The lock the one server holds for its whole life.
const LOCK: &str = "serve.lock";

/// The server's directory, checked.
#[derive(Clone, Debug)]
pub struct SocketDir {
    path: PathBuf,
}

/// The directory is unusable, and why.
#[derive(Debug, thiserror::Error)]
pub enum SocketDirError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{path} is not safe for the server's socket: {why}\n  help: remove it (or fix it) and try again; corral recreates it as a 0700 directory of your own"
    )]
    Unsafe { path: PathBuf, why: String },
}

impl SocketDir {
    /// The directory for this user, from the environment (not yet made).
    pub fn locate(env: impl Fn(&str) -> Option<String>) -> PathBuf {
        let set = |name: &str| env(name).filter(|value| !value.is_empty());
        match set("XDG_RUNTIME_DIR") {
            Some(runtime) => Path::new(&runtime).join("corral"),
            None => {
                let tmp = set("TMPDIR").unwrap_or_else(|| "/tmp".to_string());
                Path::new(&tmp).join(format!("corral-{}", rustix::process::geteuid().as_raw()))
            }
        }
    }

    /// Creates the directory (0700) if missing, then checks it.
    pub fn create(path: &Path) -> Result<SocketDir, SocketDirError> {
        match std::fs::DirBuilder::new().mode(0o700).create(path) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                // A missing $XDG_RUNTIME_DIR or $TMPDIR: made as the user's.
                std::fs::DirBuilder::new()
                    .mode(0o700)
                    .recursive(true)
                    .create(path)
                    .map_err(|source| SocketDirError::Io {
                        path: path.to_path_buf(),
                        source,
                    })?;
            }
            Err(source) => {
                return Err(SocketDirError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
        SocketDir::existing(path)
    }

    /// Checks an existing directory without creating anything.
    pub fn existing(path: &Path) -> Result<SocketDir, SocketDirError> {
        let meta = std::fs::symlink_metadata(path).map_err(|source| SocketDirError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let unsafe_because = |why: String| SocketDirError::Unsafe {
            path: path.to_path_buf(),
            why,
        };
        if meta.file_type().is_symlink() {
            return Err(unsafe_because("it is a symbolic link".into()));
        }
        if !meta.is_dir() {
            return Err(unsafe_because("it is not a directory".into()));
        }
        let uid = rustix::process::geteuid().as_raw();
        if meta.uid() != uid {
            return Err(unsafe_because(format!(
                "it is owned by uid {}, not by you (uid {uid})",
                meta.uid()
            )));
        }
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(unsafe_because(format!(
                "its mode is {mode:o}; others must have no access (0700)"
            )));
        }
        Ok(SocketDir {
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn socket(&self) -> PathBuf {
        self.path.join(SOCKET)
    }

    pub fn lock(&self) -> PathBuf {
        self.path.join(LOCK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_links_open_modes_and_files() {
        let root = tempfile::tempdir().unwrap();
        let good = root.path().join("corral");
        let dir = SocketDir::create(&good).unwrap();
        assert_eq!(dir.socket(), good.join("serve.sock"));
        let mode = std::fs::metadata(&good).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);

        let link = root.path().join("link");
        std::os::unix::fs::symlink(&good, &link).unwrap();
        let error = SocketDir::create(&link).unwrap_err().to_string();
        assert!(error.contains("symbolic link"), "{error}");

        let open = root.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
        let error = SocketDir::create(&open).unwrap_err().to_string();
        assert!(error.contains("0700"), "{error}");

        let file = root.path().join("file");
        std::fs::write(&file, "").unwrap();
        assert!(SocketDir::create(&file).is_err());
    }

    #[test]
    fn locates_under_the_runtime_dir_else_tmp() {
        let env = |runtime: Option<&str>| {
            let runtime = runtime.map(str::to_string);
            move |name: &str| match name {
                "XDG_RUNTIME_DIR" => runtime.clone(),
                "TMPDIR" => Some("/var/tmp".to_string()),
                _ => None,
            }
        };
        assert_eq!(
            SocketDir::locate(env(Some("/run/user/7"))),
            Path::new("/run/user/7/corral")
        );
        let uid = rustix::process::geteuid().as_raw();
        assert_eq!(
            SocketDir::locate(env(None)),
            PathBuf::from(format!("/var/tmp/corral-{uid}"))
        );
    }
}
