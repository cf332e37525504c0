//! SHA-256 as lowercase hex: component pins, the compiled-artifact cache and
//! the manifest checksum all name content this way.

use sha2::{Digest, Sha256};

/// The sha256 of `bytes`, as 64 lowercase hex digits.
pub fn sha256_hex(bytes: impl AsRef<[u8]>) -> String {
    hex(&Sha256::digest(bytes))
}

/// The name of a repository's own state: its results directory, its
/// task locks and its tasks' private state.
pub fn repo_key(repo: &std::path::Path) -> String {
    sha256_hex(repo.as_os_str().as_encoded_bytes())[..16].to_string()
}

/// Lowercase hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
