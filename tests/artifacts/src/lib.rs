//! Paths to the guest components, built from source by this crate's
//! `build.rs` for `wasm32-wasip2`.
//!
//! There is one `&str` constant per component, named after its lib name in
//! upper snake case (`tests/guests/probe` builds `corral_probe.wasm`, exposed
//! as [`CORRAL_PROBE`]), plus [`ALL`], every `(lib name, path)` pair. Both the
//! adversarial test guests in `tests/guests/` and the shipped tasks in
//! `guest-tasks/` are included; a new crate in either is picked up without
//! changes here.

include!(concat!(env!("OUT_DIR"), "/artifacts.rs"));
