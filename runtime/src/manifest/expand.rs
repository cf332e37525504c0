//! Host path expansion: `~` and `${VAR}`, then resolution against the
//! manifest's directory.

use std::path::{Path, PathBuf};

/// Expands a leading `~` and every `${VAR}`; a relative result is taken
/// relative to `base`. An unset variable is an error naming it.
pub fn expand_path(raw: &str, base: &Path) -> Result<PathBuf, String> {
    let expanded = expand_vars(raw)?;
    let expanded = match expanded.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            let home =
                std::env::var("HOME").map_err(|_| "`~` is used but HOME is not set".to_string())?;
            format!("{home}{rest}")
        }
        _ => expanded,
    };
    let path = PathBuf::from(expanded);
    Ok(if path.is_absolute() {
        path
    } else {
        base.join(path)
    })
}

fn expand_vars(raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("unterminated `${{` in {raw:?}"))?;
        let name = &after[..end];
        let value = std::env::var(name)
            .map_err(|_| format!("environment variable {name} (used in {raw:?}) is not set"))?;
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_resolve_against_base() {
        assert_eq!(
            expand_path("data", Path::new("/m")).unwrap(),
            Path::new("/m/data")
        );
        assert_eq!(
            expand_path("/abs", Path::new("/m")).unwrap(),
            Path::new("/abs")
        );
    }

    #[test]
    fn variables_expand_and_unset_ones_are_named() {
        // PATH is set in every test environment.
        let path = std::env::var("PATH").unwrap();
        assert_eq!(
            expand_path("${PATH}/x", Path::new("/")).unwrap(),
            PathBuf::from(format!("{path}/x"))
        );
        let error = expand_path("${CORRAL_SURELY_UNSET_VAR}/x", Path::new("/")).unwrap_err();
        assert!(error.contains("CORRAL_SURELY_UNSET_VAR"), "{error}");
        assert!(expand_path("${OPEN", Path::new("/")).is_err());
    }
}
