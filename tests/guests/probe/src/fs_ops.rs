//! Filesystem operations through WASI preopens.
//!
//! Each returns `Ok` with `"ok"` (or what it read) and turns any I/O error
//! into `Failure::Error` carrying the error's text, so tests can tell a
//! refused capability from a missing file.

use std::fs::{self, OpenOptions};
use std::io;

use crate::Failure;
use crate::Outcome;

fn done(result: io::Result<()>) -> Outcome {
    result.map(|()| "ok".into()).map_err(io_failure)
}

fn io_failure(error: io::Error) -> Failure {
    Failure::Error(error.to_string())
}

pub fn read(path: &str) -> Outcome {
    fs::read_to_string(path).map_err(io_failure)
}

/// Reads a file to the end in 64 KiB chunks and returns its length: file
/// throughput without holding the file in memory.
pub fn count_bytes(path: &str) -> Outcome {
    use std::io::Read;
    let mut file = fs::File::open(path).map_err(io_failure)?;
    let mut buffer = vec![0_u8; 64 * 1024];
    let mut total = 0_u64;
    loop {
        match file.read(&mut buffer).map_err(io_failure)? {
            0 => return Ok(total.to_string()),
            n => total += n as u64,
        }
    }
}

/// Lists and stats every entry below `path` (symlinks not followed), as a
/// scan of a tree must: `files=N dirs=N bytes=N`.
pub fn walk(path: &str) -> Outcome {
    let (mut files, mut dirs, mut bytes) = (0_u64, 0_u64, 0_u64);
    let mut pending = vec![std::path::PathBuf::from(path)];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).map_err(io_failure)? {
            let entry = entry.map_err(io_failure)?;
            let metadata = fs::symlink_metadata(entry.path()).map_err(io_failure)?;
            if metadata.is_dir() {
                dirs += 1;
                pending.push(entry.path());
            } else {
                files += 1;
                bytes += metadata.len();
            }
        }
    }
    Ok(format!("files={files} dirs={dirs} bytes={bytes}"))
}

pub fn write(path: &str, text: &str) -> Outcome {
    done(fs::write(path, text))
}

pub fn create(path: &str) -> Outcome {
    done(
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map(drop),
    )
}

/// Opens for writing with truncation and writes nothing.
pub fn truncate(path: &str) -> Outcome {
    done(
        OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(path)
            .map(drop),
    )
}

pub fn set_size(path: &str, size: u64) -> Outcome {
    done(
        OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|file| file.set_len(size)),
    )
}

pub fn unlink(path: &str) -> Outcome {
    done(fs::remove_file(path))
}

pub fn rename(from: &str, to: &str) -> Outcome {
    done(fs::rename(from, to))
}

pub fn hardlink(from: &str, to: &str) -> Outcome {
    done(fs::hard_link(from, to))
}

pub fn symlink(target: &str, link: &str) -> Outcome {
    done(make_symlink(target, link))
}

/// `std::os::wasi::fs::symlink_path` is still unstable, so call wasi-libc's
/// `symlink`, which resolves `link` against the preopens as std does.
#[cfg(target_os = "wasi")]
fn make_symlink(target: &str, link: &str) -> io::Result<()> {
    use std::ffi::{CString, c_char, c_int};

    unsafe extern "C" {
        fn symlink(target: *const c_char, link: *const c_char) -> c_int;
    }

    let nul = |_| io::Error::from(io::ErrorKind::InvalidInput);
    let target = CString::new(target).map_err(nul)?;
    let link = CString::new(link).map_err(nul)?;
    // SAFETY: both are valid NUL-terminated strings that outlive the call.
    if unsafe { symlink(target.as_ptr(), link.as_ptr()) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(unix)]
fn make_symlink(target: &str, link: &str) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(any(target_os = "wasi", unix)))]
fn make_symlink(_target: &str, _link: &str) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

pub fn mkdir(path: &str) -> Outcome {
    done(fs::create_dir(path))
}

/// The entries' names, sorted, one per line.
pub fn readdir(path: &str) -> Outcome {
    let mut names = fs::read_dir(path)
        .and_then(|entries| {
            entries
                .map(|entry| entry.map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect::<io::Result<Vec<_>>>()
        })
        .map_err(io_failure)?;
    names.sort();
    Ok(names.join("\n"))
}
