//! A test guest for `corral:task/files`: its first argument names the call,
//! the next the directory (a guest path under a grant), and it prints one
//! line per answer, for tests to compare with `stat`, `find`, `sha256sum`
//! and `git hash-object`.
//!
//! - `stat DIR NAME...`: `NAME type mode size mtime ctime ino dev uid gid nlink`
//! - `list DIR`: the same line per entry
//! - `digest ALG DIR NAME...`: `NAME HEX` (`digest-names`)
//! - `digest-open ALG DIR NAME`: `NAME HEX` (`digest` of a file it opened)
//! - `tree DIR [except|only PATH...]`: the line of every entry under DIR,
//!   by relative path (`walk-tree`, entering directories as it says)
//! - `walk DIR`: `files=N dirs=M bytes=B` for the whole tree, from the
//!   guest library's walk (one `walk-tree` call); `walk-dirs DIR` the same
//!   from one `list-dir` per directory (the probe's `walk` does it through
//!   std)
//!
//! An error prints as `NAME error=CODE`; a failed call as the task's failure.

wit_bindgen::generate!({ path: "../../../wit", world: "task" });

use corral_task_files::{self as files, Descriptor, DigestAlgorithm, ErrorCode, FileStat};
use wasip2::filesystem::types::{DescriptorFlags, OpenFlags, PathFlags};

struct Component;

impl Guest for Component {
    fn run(call: Invocation) -> Result<String, Failure> {
        let args: Vec<&str> = call.args.iter().map(String::as_str).collect();
        let lines = match args.as_slice() {
            ["stat", dir, names @ ..] => {
                let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
                let stats = files::stat_names(&open_dir(dir)?, &names).map_err(failed)?;
                names
                    .iter()
                    .zip(stats)
                    .map(|(name, stat)| match stat {
                        Ok(stat) => line(name, &stat),
                        Err(code) => format!("{name} error={}", code.name()),
                    })
                    .collect()
            }
            ["list", dir] => files::list_dir(&open_dir(dir)?)
                .map_err(failed)?
                .iter()
                .map(|entry| line(&entry.name, &entry.stat))
                .collect(),
            ["digest", algorithm, dir, names @ ..] => {
                let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
                let digests = files::digest_names(&open_dir(dir)?, &names, parse(algorithm)?)
                    .map_err(failed)?;
                names
                    .iter()
                    .zip(digests)
                    .map(|(name, digest)| match digest {
                        Ok(digest) => format!("{name} {}", hex(&digest)),
                        Err(code) => format!("{name} error={}", code.name()),
                    })
                    .collect()
            }
            ["digest-open", algorithm, dir, name] => {
                let file = open_dir(dir)?
                    .open_at(
                        PathFlags::empty(),
                        name,
                        OpenFlags::empty(),
                        DescriptorFlags::READ,
                    )
                    .map_err(failed)?;
                match files::digest(&file, parse(algorithm)?) {
                    Ok(digest) => vec![format!("{name} {}", hex(&digest))],
                    Err(code) => vec![format!("{name} error={}", code.name())],
                }
            }
            ["tree", dir, descend @ ..] => {
                let paths = |paths: &[&str]| paths.iter().map(|path| path.to_string()).collect();
                let descend = match descend {
                    [] => files::Descend::All,
                    ["except", except @ ..] => files::Descend::Except(paths(except)),
                    ["only", only @ ..] => files::Descend::Only(paths(only)),
                    other => return Err(Failure::InvalidInput(format!("descend {other:?}"))),
                };
                files::walk_tree(&open_dir(dir)?, &descend)
                    .map_err(|error| {
                        Failure::Error(format!("{}: {}", error.path, error.code.name()))
                    })?
                    .iter()
                    .map(|entry| line(&entry.name, &entry.stat))
                    .collect()
            }
            ["walk", dir] => vec![count(files::walk(&open_dir(dir)?))?],
            ["walk-dirs", dir] => vec![count(files::walk_where(&open_dir(dir)?, |_, _| true))?],
            _ => return Err(Failure::InvalidInput(format!("unknown call {args:?}"))),
        };
        Ok(lines.join("\n"))
    }
}

export!(Component);

fn open_dir(dir: &str) -> Result<Descriptor, Failure> {
    files::open_dir(dir).ok_or_else(|| Failure::InvalidInput(format!("{dir} is not granted")))
}

/// Counts what a walk found.
fn count(walked: Result<Vec<(String, FileStat)>, (String, ErrorCode)>) -> Result<String, Failure> {
    let (mut files, mut dirs, mut bytes) = (0_u64, 0_u64, 0_u64);
    for (_, stat) in walked.map_err(|(_, code)| failed(code))? {
        if stat.type_ == files::DescriptorType::Directory {
            dirs += 1;
        } else {
            files += 1;
            bytes += stat.size;
        }
    }
    Ok(format!("files={files} dirs={dirs} bytes={bytes}"))
}

fn line(name: &str, stat: &FileStat) -> String {
    format!(
        "{name} {:?} {:o} {} {}.{:09} {}.{:09} {} {} {} {} {}",
        stat.type_,
        stat.mode,
        stat.size,
        stat.mtime.seconds,
        stat.mtime.nanoseconds,
        stat.ctime.seconds,
        stat.ctime.nanoseconds,
        stat.ino,
        stat.dev,
        stat.uid,
        stat.gid,
        stat.nlink,
    )
}

fn parse(algorithm: &str) -> Result<DigestAlgorithm, Failure> {
    Ok(match algorithm {
        "sha1" => DigestAlgorithm::Sha1,
        "sha256" => DigestAlgorithm::Sha256,
        "git-blob-sha1" => DigestAlgorithm::GitBlobSha1,
        "git-blob-sha256" => DigestAlgorithm::GitBlobSha256,
        other => return Err(Failure::InvalidInput(format!("unknown algorithm {other}"))),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn failed(code: ErrorCode) -> Failure {
    Failure::Error(format!("error={}", code.name()))
}
