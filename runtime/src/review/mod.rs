//! Review: what auditors rely on besides the manifest itself.
//!
//! Owns `corral audit` (what each task may do, and findings), the
//! acknowledgements behind `require_ack`, and `corral lock` (pins written
//! into the manifest), and the one-run acceptance behind `corral
//! rebaseline`, and the policy a run must pass (`--locked`, `require_ack`). It reads the manifest and may load components
//! through the sandbox to list their imports; it must not import the run,
//! the views or the command line.

pub mod ack;
pub mod audit;
pub mod lock;
pub mod policy;
pub mod rebaseline;
