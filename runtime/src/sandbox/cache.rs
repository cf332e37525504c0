//! The precompiled-component cache.
//!
//! A precompiled component is native code that wasmtime maps and runs
//! without checks, so the cache is trusted only as far as it can be: it lives
//! in a directory that only this user can write (created 0700, refused if
//! group- or world-writable or owned by someone else), each artifact is keyed
//! by the component's sha256 and the engine's compatibility hash, and each
//! is accompanied by its own sha256 and the identity of the file it was
//! written as (device, inode, size, modification time). A load whose file
//! still has that identity trusts the checksum taken when it was stored,
//! instead of reading and hashing megabytes at every shell start; any other
//! file is hashed whole first. A missing, corrupt or foreign artifact is
//! ignored and rebuilt, never trusted.
//!
//! The cache also remembers each component file's sha256 by the file's
//! settled stamp ([`FileStamp`]: device, inode, size, mtime and ctime), so
//! a run need not read and hash megabytes of an unchanged component to
//! find its artifact and check its pin: a write changes the ctime, which
//! only the kernel sets, and a stamp younger than the tick a same-size
//! rewrite could hide in is never remembered.

use std::hash::{Hash, Hasher};
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::digest::{hex, sha256_hex};
use crate::fs::durable::{create_private_dir, write_atomically};
use crate::sandbox::warm::FileStamp;

/// Where compiled components are kept between runs.
pub struct ArtifactCache {
    dir: PathBuf,
    engine_key: String,
}

impl ArtifactCache {
    /// Opens the cache in `CORRAL_CACHE_DIR`, else `$XDG_CACHE_HOME/corral`,
    /// else `~/.cache/corral`. Returns `None` (with a warning) if there is no
    /// such directory or it is not private to this user: corral then compiles
    /// every run, which is slower but safe.
    pub fn open(engine: &Engine) -> Option<ArtifactCache> {
        ArtifactCache::open_in(&default_dir()?, engine)
    }

    /// Opens the cache in `dir`, or returns `None` (with a warning) if it
    /// cannot be made private to this user.
    pub fn open_in(dir: &Path, engine: &Engine) -> Option<ArtifactCache> {
        match ensure_private(dir) {
            Ok(()) => Some(ArtifactCache {
                dir: dir.to_path_buf(),
                engine_key: engine_key(engine),
            }),
            Err(error) => {
                tracing::warn!(dir = %dir.display(), %error, "not using the component cache");
                None
            }
        }
    }

    /// The sha256 remembered for the component at `path` while it has
    /// `stamp`.
    pub fn source_digest(&self, path: &Path, stamp: &FileStamp) -> Option<String> {
        let record = std::fs::read_to_string(self.source_record(path)).ok()?;
        remembered(&record, &stamp.key())
    }

    /// Remembers `sha256` for the component at `path` while it has
    /// `stamp`; failing to only costs the next run a read.
    pub fn remember_source_digest(&self, path: &Path, stamp: &FileStamp, sha256: &str) {
        let record = format!("{} {sha256}\n", stamp.key());
        let _ = create_private_dir(&self.dir.join("sources"))
            .and_then(|()| write_atomically(&self.source_record(path), record.as_bytes()));
    }

    /// One small file per component path.
    fn source_record(&self, path: &Path) -> PathBuf {
        use std::os::unix::ffi::OsStrExt;
        let name = sha256_hex(
            std::path::absolute(path)
                .unwrap_or_default()
                .as_os_str()
                .as_bytes(),
        );
        self.dir.join("sources").join(&name[..32])
    }

    fn artifact_path(&self, component_sha256: &str) -> PathBuf {
        self.dir
            .join(format!("{component_sha256}-{}.cwasm", self.engine_key))
    }

    /// The cached compilation of the component with this sha256, if there is
    /// one and it is intact.
    pub fn load(&self, engine: &Engine, component_sha256: &str) -> Option<Component> {
        let path = self.artifact_path(component_sha256);
        let record = std::fs::read_to_string(path.with_extension("sha256")).ok()?;
        let (expected, identity) = record.trim().split_once(' ').unwrap_or((record.trim(), ""));
        let metadata = std::fs::symlink_metadata(&path).ok()?;
        let unchanged = !identity.is_empty() && identity == file_identity(&metadata);
        if !unchanged && sha256_hex(std::fs::read(&path).ok()?) != expected {
            tracing::warn!(path = %path.display(), "ignoring a cached artifact that fails its checksum");
            return None;
        }
        // SAFETY: the artifact was produced by `Engine::precompile_component`
        // of an engine with this compatibility hash, lives in a directory only
        // this user can write, and matches the checksum recorded beside it.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => {
                tracing::debug!(path = %path.display(), "loaded precompiled component");
                Some(component)
            }
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "ignoring an unusable cached artifact");
                None
            }
        }
    }

    /// Stores a freshly compiled artifact: the artifact first, then its
    /// checksum and file identity, so a crash in between leaves an artifact
    /// that is never used.
    pub fn store(&self, component_sha256: &str, artifact: &[u8]) -> io::Result<()> {
        let path = self.artifact_path(component_sha256);
        write_atomically(&path, artifact)?;
        let identity = file_identity(&std::fs::symlink_metadata(&path)?);
        let record = format!("{} {identity}", sha256_hex(artifact));
        write_atomically(&path.with_extension("sha256"), record.as_bytes())
    }
}

/// The sha256 in `record` if it was remembered for the stamp `key`.
fn remembered(record: &str, key: &str) -> Option<String> {
    let (stamp, sha256) = record.trim_end().split_once(' ')?;
    let valid = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
    (stamp == key && valid).then(|| sha256.to_string())
}

/// What changes whenever a file is replaced or written: device, inode,
/// size and modification time to the nanosecond.
fn file_identity(metadata: &std::fs::Metadata) -> String {
    format!(
        "{}:{}:{}:{}.{:09}",
        metadata.dev(),
        metadata.ino(),
        metadata.size(),
        metadata.mtime(),
        metadata.mtime_nsec()
    )
}

fn default_dir() -> Option<PathBuf> {
    let from_env = |name: &str| {
        std::env::var_os(name)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
    };
    from_env("CORRAL_CACHE_DIR")
        .or_else(|| from_env("XDG_CACHE_HOME").map(|dir| dir.join("corral")))
        .or_else(|| from_env("HOME").map(|home| home.join(".cache/corral")))
}

/// Creates the directory 0700 if needed and checks that only this user can
/// write it.
fn ensure_private(dir: &Path) -> io::Result<()> {
    create_private_dir(dir)?;
    let metadata = std::fs::metadata(dir)?;
    if metadata.uid() != rustix::process::geteuid().as_raw() {
        return Err(io::Error::other("owned by another user"));
    }
    if metadata.permissions().mode() & 0o022 != 0 {
        return Err(io::Error::other("writable by group or others"));
    }
    Ok(())
}

/// A stable digest of everything that makes an artifact usable by this
/// engine: wasmtime version, target, and compilation settings.
fn engine_key(engine: &Engine) -> String {
    struct Sha256Hasher(Sha256);
    impl Hasher for Sha256Hasher {
        /// Unused: the full digest is read from the inner state instead.
        fn finish(&self) -> u64 {
            0
        }
        fn write(&mut self, bytes: &[u8]) {
            self.0.update(bytes);
        }
    }
    let mut hasher = Sha256Hasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hex(&hasher.0.finalize()[..8])
}

#[cfg(test)]
mod tests {
    use super::remembered;

    #[test]
    fn a_remembered_digest_holds_for_its_stamp_only() {
        let sha = "ab".repeat(32);
        let record = format!("1:2:3:4:5 {sha}\n");
        assert_eq!(remembered(&record, "1:2:3:4:5"), Some(sha.clone()));
        assert_eq!(remembered(&record, "1:2:3:4:6"), None);
        assert_eq!(remembered("1:2:3:4:5 not-a-digest\n", "1:2:3:4:5"), None);
        assert_eq!(remembered("", "1:2:3:4:5"), None);
    }
}
