//! The number of stashes: entries of the `refs/stash` reflog, which is
//! where `git stash list` reads them from.

use crate::Error;

pub fn count(repo: &gix::Repository) -> Result<usize, Error> {
    let failed = Error::failed("reading the stash reflog");
    let Some(stash) = repo.try_find_reference("refs/stash").map_err(failed)? else {
        return Ok(0);
    };
    let mut log = stash.log_iter();
    let Some(entries) = log
        .all()
        .map_err(Error::failed("reading the stash reflog"))?
    else {
        return Ok(0);
    };
    let mut n = 0;
    for entry in entries {
        entry.map_err(Error::failed("reading the stash reflog"))?;
        n += 1;
    }
    Ok(n)
}
