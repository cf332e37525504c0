//! The branch's upstream (`branch.<name>.remote` / `.merge`, mapped through
//! the remote's fetch refspecs) and how far the branch and it have diverged.

use gix::remote::Direction;

use crate::objects::Objects;
use crate::{Error, Upstream};

/// The upstream of `branch`, or `None` if none is configured.
///
/// `local` is the branch's commit (`None` while unborn); ahead/behind are
/// left unknown when either side has no commit, as git prints no
/// `# branch.ab` line then.
pub fn resolve(
    repo: &gix::Repository,
    objects: &Objects,
    branch: &gix::refs::FullNameRef,
    local: Option<gix::ObjectId>,
) -> Result<Option<Upstream>, Error> {
    let Some(tracking) = tracking_ref(repo, branch)? else {
        return Ok(None);
    };
    let name = tracking.shorten().to_string();

    // Tracking refs point at commits; their target is used as is.
    let upstream_id = repo
        .try_find_reference(tracking.as_ref())
        .map_err(Error::failed("reading the upstream ref"))?
        .and_then(|r| r.inner.target.try_id().map(ToOwned::to_owned));
    let ahead_behind = match (local, upstream_id) {
        (Some(local), Some(upstream)) => Some(ahead_behind(objects, local, upstream)?),
        _ => None,
    };
    Ok(Some(Upstream { name, ahead_behind }))
}

/// The local ref that stands for `branch`'s upstream.
///
/// `branch.<name>.remote = .` means the upstream is a local branch, which
/// gix's refspec mapping does not cover, so that case is taken directly.
fn tracking_ref(
    repo: &gix::Repository,
    branch: &gix::refs::FullNameRef,
) -> Result<Option<gix::refs::FullName>, Error> {
    let Some(remote) = repo.branch_remote_name(branch.shorten(), Direction::Fetch) else {
        return Ok(None);
    };
    let tracking = if remote.as_bstr() == "." {
        repo.branch_remote_ref_name(branch, Direction::Fetch)
    } else {
        repo.branch_remote_tracking_ref_name(branch, Direction::Fetch)
    };
    tracking
        .transpose()
        .map_err(Error::failed("mapping the upstream branch"))
}

/// Commits reachable from one side and not the other, like
/// `git rev-list --left-right --count local...upstream`.
///
/// gix-traverse paints from the hidden tip so that shared history is not
/// walked to the root.
fn ahead_behind(
    objects: &Objects,
    local: gix::ObjectId,
    upstream: gix::ObjectId,
) -> Result<(usize, usize), Error> {
    if local == upstream {
        return Ok((0, 0));
    }
    let count = |from: gix::ObjectId, hidden: gix::ObjectId| -> Result<usize, Error> {
        let walk = gix::traverse::commit::Simple::new([from], objects)
            .hide([hidden])
            .map_err(Error::failed("walking commits"))?;
        let mut n = 0;
        for info in walk {
            info.map_err(Error::failed("walking commits"))?;
            n += 1;
        }
        Ok(n)
    };
    Ok((count(local, upstream)?, count(upstream, local)?))
}
