//! Digests of a file the task opened: SHA-1 (with git's collision
//! detection), SHA-256 and git's blob ids, read in bounded chunks and
//! refused (`busy`) when the file is not the size the task was shown.

use std::os::unix::fs::FileExt;
use std::time::Instant;

use sha2::Digest;
use wasmtime_wasi::p2::bindings::filesystem::types::ErrorCode;

use super::error_code;
use crate::sandbox::bindings::corral::task::files::DigestAlgorithm;

/// Bytes read between checks of the attempt's deadline.
const CHUNK: usize = 1 << 20;

/// Hashes exactly `size` bytes of `file` from offset 0; `busy` if the file
/// is longer or shorter than that by the time it is read.
pub(super) fn hash(
    file: &std::fs::File,
    size: u64,
    algorithm: DigestAlgorithm,
    deadline: Instant,
    buf: &mut Vec<u8>,
) -> Result<Vec<u8>, ErrorCode> {
    let mut hasher = Hasher::new(algorithm);
    if matches!(
        algorithm,
        DigestAlgorithm::GitBlobSha1 | DigestAlgorithm::GitBlobSha256
    ) {
        hasher.update(format!("blob {size}\0").as_bytes());
    }
    // One byte more than expected, to see a file that grew; the buffer is
    // reused across files (zeroing a fresh megabyte per small file would
    // cost more than hashing it).
    let want = (size as usize).saturating_add(1).min(CHUNK);
    if buf.len() < want {
        buf.resize(want, 0);
    }
    let buf = &mut buf[..want];
    let mut offset = 0u64;
    loop {
        if Instant::now() >= deadline {
            return Err(ErrorCode::Busy);
        }
        let read = file.read_at(buf, offset).map_err(error_code)?;
        if read == 0 {
            break;
        }
        offset += read as u64;
        if offset > size {
            return Err(ErrorCode::Busy);
        }
        hasher.update(&buf[..read]);
    }
    if offset != size {
        return Err(ErrorCode::Busy);
    }
    hasher.finish()
}

enum Hasher {
    Sha1(gix_hash::Hasher),
    Sha256(sha2::Sha256),
}

impl Hasher {
    fn new(algorithm: DigestAlgorithm) -> Self {
        match algorithm {
            DigestAlgorithm::Sha1 | DigestAlgorithm::GitBlobSha1 => {
                Hasher::Sha1(gix_hash::hasher(gix_hash::Kind::Sha1))
            }
            DigestAlgorithm::Sha256 | DigestAlgorithm::GitBlobSha256 => {
                Hasher::Sha256(sha2::Sha256::new())
            }
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha1(hasher) => hasher.update(bytes),
            Hasher::Sha256(hasher) => hasher.update(bytes),
        }
    }

    /// SHA-1 with collision detection, as git computes it: a file built to
    /// collide is refused rather than given a forged id.
    fn finish(self) -> Result<Vec<u8>, ErrorCode> {
        match self {
            Hasher::Sha1(hasher) => hasher
                .try_finalize()
                .map(|id| id.as_bytes().to_vec())
                .map_err(|_| ErrorCode::Invalid),
            Hasher::Sha256(hasher) => Ok(hasher.finalize().to_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_blob_digest_is_gits_object_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"hello\n").unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let far = Instant::now() + std::time::Duration::from_secs(60);
        let buf = &mut Vec::new();
        let id = hash(&file, 6, DigestAlgorithm::GitBlobSha1, far, buf).unwrap();
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            gix_hash::ObjectId::from_bytes_or_panic(&id).to_string(),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        let sha256 = hash(&file, 6, DigestAlgorithm::Sha256, far, buf).unwrap();
        let expected = sha2::Sha256::digest(b"hello\n").to_vec();
        assert_eq!(sha256, expected);
        // The file is not the size the caller saw: refused, not misreported.
        assert_eq!(
            hash(&file, 5, DigestAlgorithm::GitBlobSha1, far, buf),
            Err(ErrorCode::Busy)
        );
        assert_eq!(
            hash(&file, 7, DigestAlgorithm::GitBlobSha1, far, buf),
            Err(ErrorCode::Busy)
        );
    }
}
