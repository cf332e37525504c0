//! Paths the user names on the command line or in `CORRAL_MANIFEST`.
//!
//! A named path may be a symbolic link the user made, but what corral
//! writes it never writes through a link; it reads only regular files, and
//! writes to a FIFO or a device only when the user named one, opening it
//! within a time limit so that a FIFO nobody reads cannot hang a run.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::time::{Duration, Instant};

use rustix::fs::{Mode, OFlags};

/// How long opening a named FIFO waits for its reader.
pub const FIFO_OPEN_TIMEOUT: Duration = Duration::from_secs(2);

/// Reads a regular file of at most `max_bytes`, refusing a FIFO, a device
/// or a directory without blocking on it.
pub fn read_regular_file(path: &Path, max_bytes: u64) -> io::Result<String> {
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let file = File::from(fd);
    let kind = file.metadata()?.file_type();
    if !kind.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("is a {}, not a regular file", describe(kind)),
        ));
    }
    let mut text = String::new();
    file.take(max_bytes + 1).read_to_string(&mut text)?;
    if text.len() as u64 > max_bytes {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("is larger than {max_bytes} bytes"),
        ));
    }
    Ok(text)
}

/// Opens a named file for writing events: a regular file is created or
/// truncated, never through a symbolic link; a FIFO or a character device
/// is opened only once a reader is there, waiting at most `timeout`.
pub fn open_for_writing(path: &Path, timeout: Duration) -> io::Result<File> {
    let kind = match std::fs::symlink_metadata(path) {
        Ok(metadata) => Some(metadata.file_type()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => None,
        Err(error) => return Err(error),
    };
    match kind {
        Some(kind) if kind.is_symlink() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "is a symbolic link; corral does not write through links (name its target)",
        )),
        Some(kind) if kind.is_fifo() || kind.is_char_device() => open_pipe(path, timeout),
        Some(kind) if !kind.is_file() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("is a {}, not a file", describe(kind)),
        )),
        _ => rustix::fs::open(
            path,
            OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )
        .map(File::from)
        .map_err(Into::into),
    }
}

/// Opens a FIFO or device without blocking, retrying while it has no
/// reader, then makes it blocking again for the writer thread.
fn open_pipe(path: &Path, timeout: Duration) -> io::Result<File> {
    let deadline = Instant::now() + timeout;
    loop {
        match rustix::fs::open(
            path,
            OFlags::WRONLY | OFlags::NONBLOCK | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => {
                let flags = rustix::fs::fcntl_getfl(&fd)?;
                rustix::fs::fcntl_setfl(&fd, flags - OFlags::NONBLOCK)?;
                return Ok(File::from(fd));
            }
            Err(rustix::io::Errno::NXIO) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(rustix::io::Errno::NXIO) => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("is a FIFO with no reader after {} ms", timeout.as_millis()),
                ));
            }
            Err(errno) => return Err(errno.into()),
        }
    }
}

fn describe(kind: std::fs::FileType) -> &'static str {
    if kind.is_dir() {
        "directory"
    } else if kind.is_fifo() {
        "FIFO"
    } else if kind.is_char_device() || kind.is_block_device() {
        "device"
    } else if kind.is_socket() {
        "socket"
    } else {
        "special file"
    }
}
