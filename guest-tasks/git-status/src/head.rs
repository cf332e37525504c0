//! `HEAD`: the branch it names (if any) and the commit it resolves to.

use gix::head::Kind;

use crate::{Error, Head};

/// Resolves `HEAD`; also returns the branch's full ref name, which the
/// upstream lookup needs (`None` when detached).
///
/// Branches point at commits, so the ref's target is the commit: peeling
/// (which would read objects through the memory-mapped store) is not needed.
pub fn resolve(repo: &gix::Repository) -> Result<(Head, Option<gix::refs::FullName>), Error> {
    let head = repo.head().map_err(Error::failed("reading HEAD"))?;
    let (full_name, oid) = match head.kind {
        Kind::Detached { target, .. } => {
            return Ok((
                Head::Detached {
                    oid: target.to_string(),
                },
                None,
            ));
        }
        Kind::Unborn(name) => (name, None),
        Kind::Symbolic(reference) => {
            let oid = reference.target.try_id().map(|id| id.to_hex().to_string());
            (reference.name, oid)
        }
    };
    // As `# branch.head` prints it: the ref name without `refs/heads/`.
    let name = full_name.as_bstr();
    let name = name.strip_prefix(b"refs/heads/").unwrap_or(name);
    let name = String::from_utf8_lossy(name).into_owned();
    Ok((Head::Branch { name, oid }, Some(full_name)))
}
