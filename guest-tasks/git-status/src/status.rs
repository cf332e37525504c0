//! The typed result and the one line it prints as.
//!
//! The line is the task's whole result, so its field order and spelling are
//! the contract with the shell that reads it (see the crate docs).

use std::fmt;

/// What a prompt shows for one work tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub head: Head,
    /// Present only when the checked-out branch has an upstream configured.
    pub upstream: Option<Upstream>,
    /// `None` when the index had more entries than allowed: the counts are
    /// unknown and print as `-1`, as gitstatusd does.
    pub counts: Option<Counts>,
    /// Entries of the `refs/stash` reflog.
    pub stashes: usize,
    pub action: Option<Action>,
}

/// Where `HEAD` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Head {
    /// On a branch (short name); `oid` is `None` while the branch is unborn.
    Branch { name: String, oid: Option<String> },
    /// Detached at a commit.
    Detached { oid: String },
}

/// The branch's upstream, as `git status` prints it in `# branch.upstream`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// Short name such as `origin/main`.
    pub name: String,
    /// `None` when either side has no commit (the upstream ref is gone, or
    /// the branch is unborn): git prints no `# branch.ab` line then.
    pub ahead_behind: Option<(usize, usize)>,
}

/// Per-path counts, one per line of `git status --porcelain=v2`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Paths whose index differs from `HEAD` (X != '.').
    pub staged: usize,
    /// Paths whose work tree differs from the index (Y != '.').
    pub unstaged: usize,
    /// Untracked paths; an untracked directory counts once.
    pub untracked: usize,
    /// Unmerged paths (`u` lines); these count nowhere else.
    pub conflicted: usize,
}

/// An operation that is stopped half-way and waits for the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Merge,
    /// Any rebase, interactive or not.
    Rebase,
    CherryPick,
    Revert,
    Bisect,
    /// `git am`.
    Am,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Merge => "merge",
            Action::Rebase => "rebase",
            Action::CherryPick => "cherry-pick",
            Action::Revert => "revert",
            Action::Bisect => "bisect",
            Action::Am => "am",
        }
    }
}

/// Prints the result line, e.g.
/// `branch=main head=<hex> upstream=origin/main ahead=1 behind=0 staged=0 unstaged=2 untracked=1 conflicted=0 stashes=0`.
impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.head {
            Head::Branch { name, oid } => write!(
                f,
                "branch={name} head={}",
                oid.as_deref().unwrap_or("unborn")
            )?,
            Head::Detached { oid } => write!(f, "detached head={oid}")?,
        }
        if let Some(upstream) = &self.upstream {
            let (ahead, behind) = match upstream.ahead_behind {
                Some((a, b)) => (a as i64, b as i64),
                None => (-1, -1),
            };
            write!(
                f,
                " upstream={} ahead={ahead} behind={behind}",
                upstream.name
            )?;
        }
        match &self.counts {
            Some(c) => write!(
                f,
                " staged={} unstaged={} untracked={} conflicted={}",
                c.staged, c.unstaged, c.untracked, c.conflicted
            )?,
            None => f.write_str(" staged=-1 unstaged=-1 untracked=-1 conflicted=-1")?,
        }
        write!(f, " stashes={}", self.stashes)?;
        if let Some(action) = self.action {
            write!(f, " action={}", action.as_str())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OID: &str = "0123456789abcdef0123456789abcdef01234567";

    fn status(head: Head) -> Status {
        Status {
            head,
            upstream: None,
            counts: Some(Counts::default()),
            stashes: 0,
            action: None,
        }
    }

    #[test]
    fn branch_line_without_upstream() {
        let s = status(Head::Branch {
            name: "main".into(),
            oid: Some(OID.into()),
        });
        assert_eq!(
            s.to_string(),
            format!(
                "branch=main head={OID} staged=0 unstaged=0 untracked=0 conflicted=0 stashes=0"
            )
        );
    }

    #[test]
    fn every_field() {
        let s = Status {
            head: Head::Branch {
                name: "dev".into(),
                oid: Some(OID.into()),
            },
            upstream: Some(Upstream {
                name: "origin/dev".into(),
                ahead_behind: Some((2, 3)),
            }),
            counts: Some(Counts {
                staged: 1,
                unstaged: 4,
                untracked: 5,
                conflicted: 6,
            }),
            stashes: 7,
            action: Some(Action::CherryPick),
        };
        assert_eq!(
            s.to_string(),
            format!(
                "branch=dev head={OID} upstream=origin/dev ahead=2 behind=3 \
                 staged=1 unstaged=4 untracked=5 conflicted=6 stashes=7 action=cherry-pick"
            )
        );
    }

    #[test]
    fn unknowns_print_minus_one() {
        let mut s = status(Head::Detached { oid: OID.into() });
        s.counts = None;
        s.upstream = Some(Upstream {
            name: "origin/x".into(),
            ahead_behind: None,
        });
        assert_eq!(
            s.to_string(),
            format!(
                "detached head={OID} upstream=origin/x ahead=-1 behind=-1 \
                 staged=-1 unstaged=-1 untracked=-1 conflicted=-1 stashes=0"
            )
        );
        let unborn = status(Head::Branch {
            name: "main".into(),
            oid: None,
        });
        assert!(
            unborn
                .to_string()
                .starts_with("branch=main head=unborn staged=0")
        );
    }
}
