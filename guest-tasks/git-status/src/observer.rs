//! Hooks through which the core reports where its time goes.
//!
//! The core runs natively in tests and inside the component; only the
//! component has a host to send sub-segments and logs to, so the core talks
//! to this trait and the glue decides where it goes.

/// Receives sub-segment boundaries and diagnostic lines.
pub trait Observer {
    fn segment_start(&mut self, _name: &str) {}
    fn segment_end(&mut self, _name: &str) {}
    fn debug(&mut self, _message: &str) {}
}

/// Discards everything; what native callers and tests use.
pub struct Silent;

impl Observer for Silent {}

/// Runs `f` inside the sub-segment `name`, closing it on every path.
pub(crate) fn segment<T>(obs: &mut dyn Observer, name: &str, f: impl FnOnce() -> T) -> T {
    obs.segment_start(name);
    let out = f();
    obs.segment_end(name);
    out
}
