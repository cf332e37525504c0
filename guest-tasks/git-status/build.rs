//! Starts the component with [`INITIAL_MEMORY`] of linear memory, which
//! wasi-libc's allocator uses before it grows the memory: a run on a
//! 4,800-file tree grew it 64 KiB at a time, a host call and an `mprotect`
//! each, 2-3 ms of a 30 ms whole-tree run and ~1 ms of a one-file answer.
//! Untouched pages cost only address space, but count against the task's
//! `memory_mb` from the start (docs/shipped-tasks.md).

/// Enough for the index and listing of a tree of several thousand files.
const INITIAL_MEMORY: u64 = 16 << 20;

fn main() {
    if std::env::var("CARGO_CFG_TARGET_FAMILY").as_deref() == Ok("wasm") {
        println!("cargo:rustc-link-arg-cdylib=--initial-memory={INITIAL_MEMORY}");
    }
}
