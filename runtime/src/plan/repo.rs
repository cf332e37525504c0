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
    /// What a task bound to this repository is granted, read-only at its
    /// own path: the work tree, then any git directory outside it.
    pub fn grants(&self) -> Vec<PathBuf> {
        std::iter::once(&self.work_tree)
            .chain(&self.outside)
            .cloned()
            .collect()
    }
}

/// Why a repository's git directory is not granted: it lies outside the
/// work tree in a place git's own layout does not put it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

impl Repo {
    /// The repository whose work tree contains `dir`, if any. Bare
    /// repositories and paths no grant can name (not UTF-8, or with a
    /// newline, which would break the one-line result files) do not count.
    ///
    /// A git directory outside the work tree is granted only where git
    /// itself puts one (see [`outside_git_dir`]); anything else is refused,
    /// so a `.git` file or symlink unpacked from an archive cannot have
    /// another repository granted.
    pub fn containing(dir: &Path) -> Result<Option<Repo>, Refused> {
        let options = gix_discover::upwards::Options {
            dot_git_only: true,
            current_dir: Some(dir),
            ..Default::default()
        };
        let (found, trust) = match gix_discover::upwards_opts(dir, options) {
            Ok(found) => found,
            Err(error) => {
                tracing::debug!(dir = %dir.display(), %error, "no repository");
                return Ok(None);
            }
        };
        // Another user's repository is refused, as git's safe.directory
        // check refuses it: its owner chooses what it points the task at.
        if trust != gix_sec::Trust::Full {
            tracing::debug!(dir = %dir.display(), "repository not owned by this user");
            return Ok(None);
        }
        let (work_tree, git_dir) = match found {
            Found::WorkTree(work_tree) => {
                let git_dir = work_tree.join(gix_discover::DOT_GIT_DIR);
                (work_tree, git_dir)
            }
            Found::LinkedWorkTree { work_dir, git_dir } => (work_dir, git_dir),
            Found::Repository(_) => return Ok(None),
        };
        let Ok(work_tree) = std::path::absolute(&work_tree) else {
            return Ok(None);
        };
        if work_tree.to_str().is_none_or(|path| path.contains('\n')) {
            return Ok(None);
        }
        let (Ok(physical_top), Ok(git_dir)) = (work_tree.canonicalize(), git_dir.canonicalize())
        else {
            return Ok(None);
        };
        let mut outside = Vec::new();
        // A `commondir` is checked wherever the git directory is: it alone
        // decides where objects and refs are read from.
        if !git_dir.starts_with(&physical_top) || git_dir.join("commondir").exists() {
            let granted = outside_git_dir(&work_tree, &physical_top, &git_dir)?;
            if granted.to_str().is_none() {
                return Ok(None);
            }
            if !granted.starts_with(&physical_top) {
                outside.push(granted);
            }
        }
        Ok(Some(Repo { work_tree, outside }))
    }
}

/// The directory to grant for a git directory outside the work tree, if
/// git's own layout puts it there:
///
/// - a linked worktree's `<common>/worktrees/<name>`, whose `commondir`
///   names `<common>` and whose `gitdir` file names this work tree's
///   `.git` file (as `git worktree add` writes them): `<common>` is granted;
/// - a submodule's `<super>/.git/modules/<name>`, where `<super>` is a
///   directory above this work tree: that directory is granted.
///
/// A `.git` symlink out of the work tree is neither.
fn outside_git_dir(work_tree: &Path, top: &Path, git_dir: &Path) -> Result<PathBuf, Refused> {
    let dot_git = work_tree.join(gix_discover::DOT_GIT_DIR);
    let refused = |why: &str| {
        Refused(format!(
            "{} names {}, {why}: not granted",
            dot_git.display(),
            git_dir.display()
        ))
    };
    if std::fs::symlink_metadata(&dot_git).is_ok_and(|meta| meta.file_type().is_symlink()) {
        return Err(refused("a symlink out of the work tree"));
    }
    if let Some(Ok(relative)) = gix_discover::path::from_plain_file(&git_dir.join("commondir")) {
        let common = git_dir
            .join(relative)
            .canonicalize()
            .map_err(|_| refused("whose commondir does not exist"))?;
        let in_worktrees = git_dir.parent().is_some_and(|parent| {
            parent.file_name() == Some("worktrees".as_ref()) && parent.parent() == Some(&common)
        });
        if !in_worktrees {
            return Err(refused("whose commondir is outside git's worktrees layout"));
        }
        let back = gix_discover::path::from_plain_file(&git_dir.join("gitdir"))
            .and_then(Result::ok)
            .and_then(|named| git_dir.join(named).canonicalize().ok());
        if back.as_deref() != dot_git.canonicalize().ok().as_deref() {
            return Err(refused("a linked worktree of another work tree"));
        }
        return Ok(common);
    }
    let superproject = git_dir.ancestors().find_map(|dir| {
        let dot_git = dir.parent()?;
        (dir.file_name() == Some("modules".as_ref())
            && dot_git.file_name() == Some(".git".as_ref()))
        .then(|| dot_git.parent())
        .flatten()
    });
    match superproject {
        Some(superproject) if top.starts_with(superproject) => Ok(git_dir.to_path_buf()),
        _ => Err(refused(
            "neither a linked worktree's nor a submodule's git directory",
        )),
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
        let repo = Repo::containing(&top.join("a/b"))
            .unwrap()
            .expect("inside a repository");
        assert_eq!(repo.work_tree, top);
        assert!(repo.outside.is_empty(), "{repo:?}");
        assert_eq!(Repo::containing(root.path()), Ok(None));
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
        let repo = Repo::containing(&linked)
            .unwrap()
            .expect("a linked worktree");
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
        assert!(Repo::containing(&evil).is_err());
    }

    /// A repository with one commit, to clone and link from.
    fn committed(dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        git(dir, &["init", "-q"]);
        git(
            dir,
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
    }

    #[test]
    fn a_submodule_is_granted_its_directory_under_the_superproject() {
        let root = tempfile::tempdir().unwrap();
        let lib = root.path().join("lib");
        committed(&lib);
        let top = root.path().join("top");
        committed(&top);
        git(
            &top,
            &[
                "-c",
                "protocol.file.allow=always",
                "submodule",
                "add",
                "-q",
                lib.to_str().unwrap(),
                "sub",
            ],
        );
        let repo = Repo::containing(&top.join("sub"))
            .unwrap()
            .expect("a submodule");
        assert_eq!(repo.work_tree, top.join("sub"));
        assert_eq!(
            repo.outside,
            [top.join(".git/modules/sub").canonicalize().unwrap()]
        );
    }

    /// What an unpacked archive could hold: a `.git` file, a `.git` file
    /// through another repository's `worktrees/`, and a `.git` symlink, each
    /// naming a private repository's git directory.
    #[test]
    fn git_directories_named_from_outside_gits_layout_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let private = root.path().join("private");
        committed(&private);
        git(&private, &["worktree", "add", "-q", "../real-linked"]);
        let private_git = private.join(".git").canonicalize().unwrap();
        let linked_dir = std::fs::read_dir(private.join(".git/worktrees"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();

        let git_file = |name: &str, names: &Path| {
            let dir = root.path().join(name);
            std::fs::create_dir(&dir).unwrap();
            std::fs::write(dir.join(".git"), format!("gitdir: {}\n", names.display())).unwrap();
            dir
        };
        let plain = git_file("unpacked-file", &private_git);
        let through = git_file("unpacked-worktree", &linked_dir);
        let link = root.path().join("unpacked-symlink");
        std::fs::create_dir(&link).unwrap();
        std::os::unix::fs::symlink(&private_git, link.join(".git")).unwrap();

        for dir in [&plain, &through, &link] {
            let refused = Repo::containing(dir).expect_err(&dir.display().to_string());
            assert!(refused.0.contains("not granted"), "{refused}");
        }
        // The real linked worktree is still granted its common directory.
        let real = Repo::containing(&root.path().join("real-linked"))
            .unwrap()
            .unwrap();
        assert_eq!(real.outside, [private_git]);
    }
}
