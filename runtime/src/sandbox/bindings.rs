//! Host bindings generated from `wit/task.wit`: the `task-files` world,
//! whose imports cover every older world's.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "task-files",
    // `run` executes guest code and must yield to the executor; the `host`
    // functions are cheap and never block, so they stay synchronous. The
    // `files` functions touch the disk and the change feed waits for the
    // server's watches: they run on the blocking pool.
    exports: { default: async },
    imports: {
        "corral:task/files.stat-names": async,
        "corral:task/files.list-dir": async,
        "corral:task/files.digest": async,
        "corral:task/files.digest-names": async,
        "corral:task/files.walk-tree": async,
        "corral:task/incremental.changes-since": async,
    },
    // The WASI types `files` uses are wasmtime-wasi's own, so a descriptor
    // the guest got from WASI is the same resource here.
    with: {
        "wasi:filesystem/types": wasmtime_wasi::p2::bindings::filesystem::types,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        "wasi:io": wasmtime_wasi::p2::bindings::io,
    },
});

pub use self::corral::task::host::Level;
pub use self::corral::task::types::Failure as GuestFailure;
