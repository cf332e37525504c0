//! A guest built against `wit/task.wit` as released in `corral:task@0.1.0`
//! (frozen in this crate's `wit/`, never edited): it imports
//! `corral:task/host@0.1.0`, which a newer host satisfies by semver.

wit_bindgen::generate!({ path: "wit", world: "task" });

use corral::task::host::{Level, log, segment_end, segment_start};

struct Component;

impl Guest for Component {
    fn run(call: Invocation) -> Result<String, Failure> {
        segment_start("legacy");
        log(Level::Info, "built against corral:task@0.1.0");
        segment_end("legacy");
        Ok(format!(
            "0.1.0 guest ran {} {}",
            call.id,
            call.args.join(" ")
        ))
    }
}

export!(Component);
