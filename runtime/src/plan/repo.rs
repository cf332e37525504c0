//! The git repository a `context = "repo"` task is bound to: the one
//! containing the directory corral was started in, found the way git finds
//! it (upwards, `.git` directories and `gitdir:` files alike).
//!
//! The task is granted the work tree read-only at its own path, so paths
//! in results mean the same inside and outside the sandbox, and so is any
//! git directory outside the work tree that it needs (a linked worktree's
//! common directory, a submodule's directory under its parent's `.git`).

use std::path::{Path, PathBuf};

use gix_discover::repository::Path as Found;

/// A repository with a work tree, as the task is granted it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repo {
    /// The top of the work tree, spelled as the shell spells it.
    pub work_tree: PathBuf,
    /// Git directories outside the work tree the task must read too.
    pub outside: Vec<PathBuf>,
}

impl Repo {
    /// The repository whose work tree contains `dir`, if any. Bare
    /// repositories and paths no grant can name (not UTF-8, or with a
    /// newline, which would break the one-line result files) do not count.
    pub fn containing(dir: &Path) -> Option<Repo> {
        let options = gix_discover::upwards::Options {
            dot_git_only: true,
            current_dir: Some(dir),
            ..Default::default()
        };
        let (found, trust) = match gix_discover::upwards_opts(dir, options) {
            Ok(found) => found,
            Err(error) => {
                tracing::debug!(dir = %dir.display(), %error, "no repository");
                return None;
            }
        };
        // Another user's repository is refused, as git's safe.directory
        // check refuses it: its owner chooses what it points the task at.
        if trust != gix_sec::Trust::Full {
            tracing::debug!(dir = %dir.display(), "repository not owned by this user");
            return None;
        }
        let (work_tree, git_dir) = match found {
            Found::WorkTree(work_tree) => {
                let git_dir = work_tree.join(gix_discover::DOT_GIT_DIR);
                (work_tree, git_dir)
            }
            Found::LinkedWorkTree { work_dir, git_dir } => (work_dir, git_dir),
            Found::Repository(_) => return None,
        };
        let work_tree = std::path::absolute(&work_tree).ok()?;
        if work_tree.to_str().is_none_or(|path| path.contains('\n')) {
            return None;
        }
        // A linked worktree's objects, refs and config live in the common
        // directory its `commondir` file names; it is believed only where
        // git puts linked worktrees' directories, `<common>/worktrees/<name>`,
        // so a repository cannot name any directory to be granted.
        let git_dir = git_dir.canonicalize().ok()?;
        let common = match gix_discover::path::from_plain_file(&git_dir.join("commondir")) {
            Some(Ok(relative)) => {
                let common = git_dir.join(relative).canonicalize().ok()?;
                let expected = git_dir.parent()?;
                if expected.file_name()? != "worktrees" || expected.parent()? != common {
                    tracing::debug!(git_dir = %git_dir.display(), "commondir outside the worktrees layout");
                    return None;
                }
                common
            }
            _ => git_dir,
        };
        let physical_top = work_tree.canonicalize().ok()?;
        let mut outside = Vec::new();
        if !common.starts_with(&physical_top) {
            common.to_str()?;
            outside.push(common);
        }
        Some(Repo { work_tree, outside })
    }
}

/// The directory the user is in: `$PWD` when it names the current
/// directory (the shell's spelling, symlinks kept, so a result can be
/// matched against the shell's own path), else the physical path.
pub fn shell_directory() -> std::io::Result<PathBuf> {
    let physical = std::env::current_dir()?;
    if let Some(logical) = std::env::var_os("PWD").map(PathBuf::from)
        && logical.is_absolute()
        && same_file(&logical, &physical)
    {
        return Ok(logical);
    }
    Ok(physical)
}

fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) {
        let status = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir)
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?}");
    }

    #[test]
    fn finds_the_top_of_a_work_tree_from_inside_it() {
        let root = tempfile::tempdir().unwrap();
        let top = root.path().join("repo");
        std::fs::create_dir_all(top.join("a/b")).unwrap();
        git(&top, &["init", "-q"]);
        let repo = Repo::containing(&top.join("a/b")).expect("inside a repository");
        assert_eq!(repo.work_tree, top);
        assert!(repo.outside.is_empty(), "{repo:?}");
        assert_eq!(Repo::containing(root.path()), None);
    }

    #[test]
    fn a_linked_worktree_needs_its_common_directory() {
        let root = tempfile::tempdir().unwrap();
        let main = root.path().join("main");
        std::fs::create_dir(&main).unwrap();
        git(&main, &["init", "-q"]);
        git(
            &main,
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                "c",
            ],
        );
        git(&main, &["worktree", "add", "-q", "../linked"]);
        let linked = root.path().join("linked");
        let repo = Repo::containing(&linked).expect("a linked worktree");
        assert_eq!(repo.work_tree, linked);
        assert_eq!(repo.outside, [main.join(".git").canonicalize().unwrap()]);
    }

    #[test]
    fn a_commondir_outside_the_worktrees_layout_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let other = root.path().join("other");
        std::fs::create_dir(&other).unwrap();
        git(&other, &["init", "-q"]);
        let evil = root.path().join("evil");
        std::fs::create_dir(&evil).unwrap();
        git(&evil, &["init", "-q"]);
        // A repository naming another one's git directory as its common
        // directory would have it granted.
        std::fs::write(
            evil.join(".git/commondir"),
            other.join(".git").to_str().unwrap(),
        )
        .unwrap();
        assert_eq!(Repo::containing(&evil), None);
    }
}
