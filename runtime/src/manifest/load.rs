//! Reading a manifest: the file, the TOML, then [`Resolver`].

use std::path::Path;

use crate::fs::named::read_regular_file;

use super::diagnostic::{Locator, ManifestError};
use super::model::Manifest;
use super::resolve::Resolver;
use super::schema;

/// Far above any real manifest (20,000 tasks take about 3 MB), and a
/// bound on what a wrong path (a device, a huge file) can make corral read.
pub const MAX_MANIFEST_BYTES: u64 = 16 << 20;

impl Manifest {
    /// Reads, parses and validates a manifest file: a regular file of at
    /// most [`MAX_MANIFEST_BYTES`] (never a FIFO or a device, which could
    /// block or never end).
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text =
            read_regular_file(path, MAX_MANIFEST_BYTES).map_err(|source| ManifestError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        Manifest::parse(path, &text)
    }

    /// Parses and validates manifest text; `path` names it in errors and
    /// anchors its relative paths.
    pub fn parse(path: &Path, text: &str) -> Result<Manifest, ManifestError> {
        let locator = Locator::new(path, text);
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
