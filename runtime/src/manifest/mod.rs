//! manifest.toml: schema, validation, the resolved model, the canonical
//! form and its checksum, and the reviewer's diff.
//!
//! Loading is two steps. [`Manifest::load`] parses and checks every rule
//! that depends only on the file; [`Manifest::check_files`] then checks what
//! depends on the disk (components, granted directories), so that
//! `corral build` can run before the components exist. This is the first
//! stage: it must not import any other stage of corral.

mod canonical;
mod diagnostic;
mod diff;
mod disk;
mod expand;
mod load;
mod model;
mod names;
mod perf;
mod resolve;
mod schema;

pub use diagnostic::ManifestError;
pub use diff::{Change, diff};
pub use model::{DirGrant, Manifest, PerfPolicy, Task};
pub use names::Name;
pub use schema::{Access, Context, PerfMode};
