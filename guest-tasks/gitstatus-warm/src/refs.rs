//! Git's on-disk reference formats: `HEAD`, loose ref files and `packed-refs`.
//!
//! Pure functions over file contents, so they are testable on the host.

/// What `HEAD` or a loose ref file points at.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    /// `ref: <name>`: a symbolic reference to another ref.
    Symbolic(String),
    /// A commit id, lowercased.
    Object(String),
}

/// Parses the contents of `HEAD` or a loose ref file; `None` if malformed.
pub fn parse_target(contents: &str) -> Option<Target> {
    let line = contents.trim_end();
    match line.strip_prefix("ref:") {
        Some(name) => {
            let name = name.trim_start();
            is_ref_name(name).then(|| Target::Symbolic(name.to_owned()))
        }
        None => is_object_id(line).then(|| Target::Object(line.to_ascii_lowercase())),
    }
}

/// Looks `name` up in the contents of `packed-refs`.
///
/// The whole file is checked, so a corrupt one is reported whichever ref is
/// asked for; `Err` carries the 1-based number of the first malformed line.
pub fn find_packed(packed: &str, name: &str) -> Result<Option<String>, usize> {
    let mut found = None;
    for (index, line) in packed.lines().enumerate() {
        // `#` starts the header, `^` a peeled tag target: neither names a ref.
        if line.is_empty() || line.starts_with('#') || line.starts_with('^') {
            continue;
        }
        let (oid, refname) = line
            .split_once(' ')
            .filter(|(oid, _)| is_object_id(oid))
            .ok_or(index + 1)?;
        if refname == name && found.is_none() {
            found = Some(oid.to_ascii_lowercase());
        }
    }
    Ok(found)
}

/// A SHA-1 (40) or SHA-256 (64) object id in hex.
pub fn is_object_id(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A well-formed ref under `refs/` (the rules of `git check-ref-format`).
///
/// Checking this before joining the name onto `GIT_DIR` also keeps a hostile
/// `HEAD` from steering the read outside the refs tree.
pub fn is_ref_name(name: &str) -> bool {
    name.starts_with("refs/")
        && !name.contains("..")
        && !name.contains("@{")
        && !name.ends_with('.')
        && !name
            .chars()
            .any(|c| c.is_ascii_control() || " ~^:?*[\\".contains(c))
        && name
            .split('/')
            .all(|part| !part.is_empty() && !part.starts_with('.') && !part.ends_with(".lock"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA1: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn parses_symbolic_head() {
        assert_eq!(
            parse_target("ref: refs/heads/main\n"),
            Some(Target::Symbolic("refs/heads/main".into()))
        );
        assert_eq!(
            parse_target("ref:refs/heads/feature/x"),
            Some(Target::Symbolic("refs/heads/feature/x".into()))
        );
    }

    #[test]
    fn parses_detached_head_and_lowercases() {
        assert_eq!(
            parse_target(&format!("{}\n", SHA1.to_uppercase())),
            Some(Target::Object(SHA1.into()))
        );
        let sha256 = "ab".repeat(32);
        assert_eq!(parse_target(&sha256), Some(Target::Object(sha256.clone())));
    }

    #[test]
    fn rejects_garbage_head() {
        for bad in [
            "",
            "hello",
            "ref: ",
            "ref: HEAD",
            "ref: refs/heads/../../x",
            "0123",
        ] {
            assert_eq!(parse_target(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn ref_name_rules() {
        assert!(is_ref_name("refs/heads/main"));
        assert!(is_ref_name("refs/heads/feature/login-v2"));
        for bad in [
            "heads/main",
            "refs/heads/",
            "refs//x",
            "refs/heads/.invalid",
            "refs/heads/x.lock",
            "refs/heads/a b",
            "refs/heads/a..b",
            "refs/heads/x@{1}",
            "refs/heads/x.",
            "refs/heads/a\\b",
        ] {
            assert!(!is_ref_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn finds_packed_ref_skipping_comments_and_peeled_lines() {
        let packed = format!(
            "# pack-refs with: peeled fully-peeled sorted\n\
             {SHA1} refs/heads/main\n\
             {other} refs/tags/v1\n\
             ^{SHA1}\n",
            other = "f".repeat(40)
        );
        assert_eq!(
            find_packed(&packed, "refs/heads/main"),
            Ok(Some(SHA1.into()))
        );
        assert_eq!(
            find_packed(&packed, "refs/tags/v1"),
            Ok(Some("f".repeat(40)))
        );
        assert_eq!(find_packed(&packed, "refs/heads/gone"), Ok(None));
    }

    #[test]
    fn reports_malformed_packed_line_number() {
        let packed = format!("# header\n{SHA1} refs/heads/a\nnot a ref line\n");
        assert_eq!(find_packed(&packed, "refs/heads/a"), Err(3));
        assert_eq!(find_packed(&packed, "refs/heads/b"), Err(3));
    }
}
