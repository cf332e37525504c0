//! The component glue: argument and environment parsing, host segments and
//! logs. Everything else is the target-independent core.

use std::path::Path;

use corral::task::host::{Level, log, segment_end, segment_start};

use crate::{Error, MAX_INDEX_ENTRIES_VAR, Observer, Options};

wit_bindgen::generate!({ path: "../../wit", world: "task" });

struct Component;

/// Forwards the core's sub-segments and diagnostics to the host.
struct Host;

impl Observer for Host {
    fn segment_start(&mut self, name: &str) {
        segment_start(name);
    }
    fn segment_end(&mut self, name: &str) {
        segment_end(name);
    }
    fn debug(&mut self, message: &str) {
        log(Level::Debug, message);
    }
}

impl Guest for Component {
    fn run(call: Invocation) -> Result<String, Failure> {
        let [worktree] = call.args.as_slice() else {
            return Err(Failure::InvalidInput(format!(
                "expected args [WORKTREE], got {:?}",
                call.args
            )));
        };
        let options = Options {
            max_index_entries: crate::parse_max_index_entries(
                std::env::var(MAX_INDEX_ENTRIES_VAR).ok().as_deref(),
            )
            .map_err(into_failure)?,
            // gix-status's own stat is WASI's: see `Options::limited_metadata`.
            limited_metadata: true,
        };
        let status =
            crate::status(Path::new(worktree), &options, &mut Host).map_err(into_failure)?;
        Ok(status.to_string())
    }
}

export!(Component);

fn into_failure(err: Error) -> Failure {
    match err {
        Error::InvalidInput(m) => Failure::InvalidInput(m),
        Error::Failed(m) => Failure::Error(m),
    }
}
