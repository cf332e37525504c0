//! Reading a manifest: the file, the TOML, then [`Resolver`].

use std::path::Path;

use super::diagnostic::{Locator, ManifestError};
use super::model::Manifest;
use super::resolve::Resolver;
use super::schema;

impl Manifest {
    /// Reads, parses and validates a manifest file.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Manifest::parse(path, &text)
    }

    /// Parses and validates manifest text; `path` names it in errors and
    /// anchors its relative paths.
    pub fn parse(path: &Path, text: &str) -> Result<Manifest, ManifestError> {
        let locator = Locator { file: path, text };
        let document: schema::Document = toml::from_str(text)
            .map_err(|error| ManifestError::Invalid(vec![locator.toml_error(&error)]))?;
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        // Resolved paths are absolute, so audits and errors name them fully.
        let base = std::path::absolute(parent).map_err(|source| ManifestError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut resolver = Resolver {
            locator,
            base: &base,
            diagnostics: Vec::new(),
        };
        let manifest = resolver.resolve(document, path);
        if resolver.diagnostics.is_empty() {
            Ok(manifest)
        } else {
            resolver.diagnostics.sort_by_key(|d| d.line);
            Err(ManifestError::Invalid(resolver.diagnostics))
        }
    }
}
