//! The operation in progress, from the marker files git leaves in the
//! (per-worktree) git directory; gix follows git's `wt_status_get_state`.

use gix::state::InProgress;

use crate::Action;

pub fn in_progress(repo: &gix::Repository) -> Option<Action> {
    Some(match repo.state()? {
        InProgress::Merge => Action::Merge,
        // `rebase-apply` without `applying` is a rebase to git as well.
        InProgress::Rebase | InProgress::RebaseInteractive | InProgress::ApplyMailboxRebase => {
            Action::Rebase
        }
        InProgress::CherryPick | InProgress::CherryPickSequence => Action::CherryPick,
        InProgress::Revert | InProgress::RevertSequence => Action::Revert,
        InProgress::Bisect => Action::Bisect,
        InProgress::ApplyMailbox => Action::Am,
    })
}
