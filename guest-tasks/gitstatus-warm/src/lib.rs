//! `gitstatus_warm`: reports a repository's current branch and head commit.
//!
//! A prompt shows the branch on every redraw, and finding it means reading
//! `HEAD`, a loose ref and perhaps a large `packed-refs`. A shell defers this
//! to start-up's background queue so the first prompt never waits on it, and
//! later prompts read the cached result instead of spawning `git`.
//!
//! Args: `[GIT_DIR]`, the repository's `.git` directory (read-only suffices).
//! Result: `branch=<name> head=<hex>`, `branch=<name> head=unborn`, or
//! `detached head=<hex>`.

mod refs;

use std::io::ErrorKind;
use std::path::Path;
use std::{fs, io};

use corral::task::host::{Level, log, segment_end, segment_start};
use refs::Target;

wit_bindgen::generate!({ path: "../../wit", world: "task" });

/// Git itself gives up after this many symbolic hops.
const MAX_SYMREF_DEPTH: usize = 5;

/// What git ≥ 2.45 writes to `HEAD` when refs live in a reftable instead.
const REFTABLE_HEAD: &str = "ref: refs/heads/.invalid";

struct Component;

impl Guest for Component {
    fn run(call: Invocation) -> Result<String, Failure> {
        let [git_dir] = call.args.as_slice() else {
            return Err(Failure::InvalidInput(format!(
                "expected args [GIT_DIR], got {:?}",
                call.args
            )));
        };
        let git_dir = Path::new(git_dir);

        segment_start("read_head");
        let head = read_head(git_dir);
        segment_end("read_head");

        match head? {
            Target::Object(oid) => {
                log(Level::Info, &format!("HEAD is detached at {oid}"));
                Ok(format!("detached head={oid}"))
            }
            Target::Symbolic(name) => {
                segment_start("resolve_ref");
                let resolved = resolve(git_dir, name);
                segment_end("resolve_ref");
                let (name, oid) = resolved?;
                let branch = name.strip_prefix("refs/heads/").unwrap_or(&name);
                let head = oid.unwrap_or_else(|| {
                    log(Level::Info, &format!("branch {branch} is unborn"));
                    "unborn".to_owned()
                });
                Ok(format!("branch={branch} head={head}"))
            }
        }
    }
}

export!(Component);

/// Reads `GIT_DIR/HEAD`; a missing or malformed `HEAD` means "not a repository".
fn read_head(git_dir: &Path) -> Result<Target, Failure> {
    let path = git_dir.join("HEAD");
    let not_a_repo = |why: &str| {
        Failure::InvalidInput(format!(
            "{} is not a git directory: {why}",
            git_dir.display()
        ))
    };
    let contents = read_optional(&path)?.ok_or_else(|| not_a_repo("no HEAD"))?;
    if contents.trim_end() == REFTABLE_HEAD {
        return Err(not_a_repo("reftable ref storage is not supported"));
    }
    refs::parse_target(&contents).ok_or_else(|| not_a_repo("malformed HEAD"))
}

/// Follows `name` through loose refs, then `packed-refs`.
///
/// Returns the final ref name and its commit, or `None` for an unborn branch.
fn resolve(git_dir: &Path, mut name: String) -> Result<(String, Option<String>), Failure> {
    for _ in 0..MAX_SYMREF_DEPTH {
        let loose = git_dir.join(&name);
        let Some(contents) = read_optional(&loose)? else {
            let oid = find_packed(git_dir, &name)?;
            return Ok((name, oid));
        };
        match refs::parse_target(&contents) {
            Some(Target::Object(oid)) => {
                log(Level::Debug, &format!("{name} from loose ref"));
                return Ok((name, Some(oid)));
            }
            Some(Target::Symbolic(next)) => name = next,
            None => {
                return Err(Failure::InvalidInput(format!(
                    "{}: malformed ref",
                    loose.display()
                )));
            }
        }
    }
    Err(Failure::InvalidInput(format!(
        "{name}: more than {MAX_SYMREF_DEPTH} levels of symbolic refs"
    )))
}

/// Looks `name` up in `GIT_DIR/packed-refs`, which may legitimately be absent.
fn find_packed(git_dir: &Path, name: &str) -> Result<Option<String>, Failure> {
    let path = git_dir.join("packed-refs");
    let Some(packed) = read_optional(&path)? else {
        return Ok(None);
    };
    let oid = refs::find_packed(&packed, name).map_err(|line| {
        Failure::InvalidInput(format!("{}:{line}: malformed line", path.display()))
    })?;
    if oid.is_some() {
        log(Level::Debug, &format!("{name} from packed-refs"));
    }
    Ok(oid)
}

/// Reads a text file, mapping "absent" to `None`.
///
/// A directory counts as absent: `refs/heads/a` is one when only `a/b` exists.
/// Invalid UTF-8 is kept (lossily) so that the parsers report it as malformed.
fn read_optional(path: &Path) -> Result<Option<String>, Failure> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::IsADirectory) => Ok(None),
        Err(e) => Err(io_failure(path, &e)),
    }
}

fn io_failure(path: &Path, err: &io::Error) -> Failure {
    Failure::Error(format!("{}: {err}", path.display()))
}
