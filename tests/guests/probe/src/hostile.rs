//! Behaviours that try to exhaust a budget or crash; the host must stop each
//! one and report it. `black_box` keeps the optimizer from deleting the work.

use std::hint::black_box;
use std::io::{self, Write};
use std::time::Duration;

use wasip2::clocks::monotonic_clock;

use crate::Failure;
use crate::Outcome;
use crate::corral::task::host::{self, Level};

/// Burns CPU until the host interrupts it (epoch or fuel).
pub fn spin_forever() -> ! {
    let mut counter = 0_u64;
    loop {
        counter = black_box(counter.wrapping_add(1));
    }
}

/// A fixed amount of CPU work, for fuel accounting.
pub fn spin(iterations: u64) -> String {
    let mut counter = 0_u64;
    for i in 0..iterations {
        counter = black_box(counter.wrapping_add(i));
    }
    black_box(counter);
    format!("spun {iterations}")
}

pub fn sleep(millis: u64) -> String {
    std::thread::sleep(Duration::from_millis(millis));
    "slept".into()
}

/// Blocks in the host, where only a wall-clock timeout can stop it.
pub fn sleep_forever() -> ! {
    loop {
        std::thread::sleep(Duration::from_nanos(u64::MAX));
    }
}

/// Blocks on a pollable that never becomes ready.
pub fn poll_never() -> ! {
    let never = monotonic_clock::subscribe_duration(u64::MAX);
    loop {
        never.block();
    }
}

/// Allocates and touches 1 MiB at a time, keeping all of it alive, until the
/// memory limit makes an allocation fail (which aborts, i.e. traps).
pub fn memory_bomb() -> ! {
    const MIB: usize = 1 << 20;
    const PAGE: usize = 4096;
    let mut kept: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut chunk = vec![0_u8; MIB];
        for byte in chunk.iter_mut().step_by(PAGE) {
            *byte = 1;
        }
        kept.push(black_box(chunk));
        black_box(&kept);
    }
}

/// Recurses until the wasm stack is exhausted.
pub fn recurse() -> String {
    let depth = descend(black_box(0));
    format!("recursed {depth}")
}

/// Not a tail call: the result of the recursive call is still needed after
/// it returns, through `black_box`, so this cannot become a loop.
#[inline(never)]
fn descend(depth: u64) -> u64 {
    if depth == u64::MAX {
        return depth;
    }
    let below = descend(black_box(depth + 1));
    black_box(below ^ depth).rotate_left(1)
}

/// Recursion whose frames live in linear memory: each keeps a 4 KiB
/// buffer, so the guest's own stack (1 MiB, in linear memory) runs out long
/// before the wasm stack does.
pub fn recurse_big_frames() -> String {
    let depth = descend_big(black_box(0));
    format!("recursed {depth}")
}

#[inline(never)]
fn descend_big(depth: u64) -> u64 {
    let mut frame = [0u8; 4096];
    frame[(depth % 4096) as usize] = depth as u8;
    let frame = black_box(frame);
    if depth == u64::MAX {
        return depth;
    }
    let below = descend_big(black_box(depth + 1));
    below ^ u64::from(frame[(below % 4096) as usize])
}

pub fn stdout_flood(bytes: u64) -> Outcome {
    flood(io::stdout().lock(), bytes)
}

pub fn stderr_flood(bytes: u64) -> Outcome {
    flood(io::stderr().lock(), bytes)
}

/// Writes `bytes` bytes in 64 KiB chunks, stopping at the first error.
fn flood(mut out: impl Write, bytes: u64) -> Outcome {
    const CHUNK: usize = 64 * 1024;
    let chunk = vec![b'x'; CHUNK];
    let mut left = bytes;
    while left > 0 {
        let n = usize::try_from(left).map_or(CHUNK, |left| left.min(CHUNK));
        out.write_all(&chunk[..n])
            .map_err(|e| Failure::Error(format!("write failed: {e}")))?;
        left -= n as u64;
    }
    out.flush()
        .map_err(|e| Failure::Error(format!("flush failed: {e}")))?;
    Ok("flooded".into())
}

/// One log call with a `bytes`-byte message.
pub fn log_huge(bytes: usize) -> String {
    host::log(Level::Info, &"x".repeat(bytes));
    "logged".into()
}

/// Creates pollables forever without dropping them, so their handles stay
/// in the host's resource table.
pub fn handle_leak() -> ! {
    loop {
        std::mem::forget(monotonic_clock::subscribe_duration(1_000_000_000));
    }
}

/// Asks the host for `bytes` random bytes in one call.
pub fn random_huge(bytes: u64) -> String {
    wasip2::random::random::get_random_bytes(bytes)
        .len()
        .to_string()
}

/// A result string of `bytes` bytes.
pub fn return_huge(bytes: usize) -> String {
    "x".repeat(bytes)
}

pub fn panic() -> ! {
    panic!("probe panicked")
}

/// Executes the wasm `unreachable` instruction (a plain panic off wasm, so the
/// crate still builds on the host).
pub fn unreachable() -> ! {
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    panic!("unreachable is only a trap on wasm32")
}

pub fn exit(code: i32) -> ! {
    std::process::exit(code)
}
