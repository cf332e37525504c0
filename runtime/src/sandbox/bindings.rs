//! Host bindings generated from `wit/task.wit`.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "task",
    // `run` executes guest code and must yield to the executor; the host
    // functions are cheap and never block, so they stay synchronous.
    exports: { default: async },
});

pub use self::corral::task::host::Level;
pub use self::corral::task::types::Failure as GuestFailure;
