//! A component that exports the `corral:task` world's `run` but also imports
//! `corral:foreign/telemetry`, which the host does not provide. The host must
//! refuse to instantiate it and name the missing import.

wit_bindgen::generate!({
    inline: "
        package corral:foreign;

        interface telemetry {
            send: func(x: string);
        }

        world foreign {
            include corral:task/task@0.1.3;
            import telemetry;
        }
    ",
    path: "../../../wit",
    world: "corral:foreign/foreign",
    // The task world's packages come from `path`, not from another crate.
    generate_all,
});

use corral::foreign::telemetry;
// `Invocation` and `Failure` come from the world's `use types.{..}`.

struct Component;

impl Guest for Component {
    fn run(call: Invocation) -> Result<String, Failure> {
        // Calling the import keeps it in the component's import list.
        telemetry::send(&call.id);
        Ok("sent".into())
    }
}

export!(Component);
