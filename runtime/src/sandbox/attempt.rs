//! One attempt of one task: a fresh store with the task's budgets, the call
//! into the guest, and the outcome classified into a `reason=`.

use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime::{Store, Trap, UpdateDeadline};

use crate::events::Events;
use crate::events::{FailReason, Failure};
use crate::manifest::{Access, Task};
use crate::sandbox::bindings::{GuestFailure, Invocation, TaskFilesPre};
use crate::sandbox::capture::Capture;
use crate::sandbox::engine::Runtime;
use crate::sandbox::host::StoreData;
use crate::sandbox::incremental::{Incremental, STATE_GUEST_PATH, Setup};
use crate::sandbox::limits::Limits;
use crate::sandbox::policy::{self, Grant};
use crate::sandbox::snapshot;

/// Bytes of guest stdout and of stderr kept per attempt.
const CAPTURE_BYTES: usize = 64 * 1024;
/// Largest result string stored; results feed prompts, not bulk data.
pub const MAX_RESULT_BYTES: usize = 1 << 20;

/// A successful attempt.
#[derive(Debug)]
pub struct Completed {
    pub result: String,
    pub fuel_consumed: u64,
}

/// What an attempt needs besides the loaded component.
pub struct Attempt<'a> {
    pub task: &'a Task,
    pub number: u32,
    pub grants: Vec<Grant<'a>>,
    pub events: &'a Events,
    /// `CORRAL_FORCE_TIMEOUT` names this task: it times out without running.
    pub forced_timeout: bool,
    /// For a component that imports `corral:task/incremental`.
    pub incremental: Option<Setup<'a>>,
}

/// Runs one attempt to completion, failure or timeout. The store is
/// dropped before returning, whatever happened, and never reused.
pub async fn run_attempt(
    runtime: &Runtime,
    component: &TaskFilesPre<StoreData>,
    attempt: Attempt<'_>,
) -> Result<Completed, Failure> {
    let task = attempt.task;
    let deadline = Instant::now() + task.timeout();
    if attempt.forced_timeout {
        // As if the guest hung: the attempt ends at its deadline.
        tokio::time::sleep_until(deadline.into()).await;
        return Err(Failure::new(
            FailReason::Timeout,
            format!(
                "exceeded timeout_ms={} (forced by CORRAL_FORCE_TIMEOUT)",
                task.timeout_ms
            ),
        ));
    }
    // File grants: snapshot directories that live until this attempt ends
    // (declared before the store, so dropped after it).
    let snapshots = if task.files.is_empty() {
        Vec::new()
    } else {
        let staging = task.clone();
        tokio::task::spawn_blocking(move || snapshot::stage(&staging))
            .await
            .map_err(|error| Failure::new(FailReason::Denied, error.to_string()))??
    };
    let mut grants = attempt.grants;
    grants.extend(snapshots.iter().map(|snapshot| Grant {
        host: snapshot.dir.path(),
        guest: &snapshot.guest,
        access: Access::Ro,
    }));
    // The cursor is taken before the guest can read anything.
    let incremental = match attempt.incremental {
        Some(setup) => {
            grants.push(Grant {
                host: setup.state_dir,
                guest: STATE_GUEST_PATH,
                access: Access::Rw,
            });
            Some(match setup.feed {
                Some(feed) => match Incremental::start_at_once(&feed, task) {
                    Some(started) => started,
                    // The feed may start watching the grants: off the executor.
                    None => {
                        let staging = task.clone();
                        tokio::task::spawn_blocking(move || {
                            Incremental::start(Some(feed), &staging)
                        })
                        .await
                        .map_err(|error| Failure::new(FailReason::Load, error.to_string()))?
                    }
                },
                None => Incremental::start(None, task),
            })
        }
        None => None,
    };
    let captures = (Capture::new(CAPTURE_BYTES), Capture::new(CAPTURE_BYTES));
    let inline_files = policy::runs_inline(&grants);
    let wasi = match policy::wasi_context(task, grants, &captures.0, &captures.1) {
        Ok(wasi) => wasi,
        Err(failure) => return Err(failure),
    };
    let mut state = StoreData::new(
        wasi,
        ResourceTable::new(),
        Limits::new(task.memory_mb),
        deadline,
        captures,
        &task.label,
        attempt.events,
    );
    state.incremental = incremental;
    state.inline_files = inline_files;
    // The epoch clock ticks from before the store's deadline is set until
    // the store is gone.
    let _running = runtime.guest_running();
    let mut store = Store::new(runtime.engine(), state);
    store.limiter(|state| &mut state.limits);
    store.call_hook(StoreData::check_host_fuel);
    if let Err(error) = store.set_fuel(task.fuel) {
        return Err(Failure::new(FailReason::Load, format!("{error:#}")));
    }
    // Yield to the executor at every epoch tick, so that one guest never
    // holds a worker thread, and interrupt at the first tick past the deadline.
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|context| {
        Ok(if Instant::now() >= context.data().deadline {
            UpdateDeadline::Interrupt
        } else {
            UpdateDeadline::Yield(1)
        })
    });

    let invocation = Invocation {
        id: task.id.to_string(),
        args: task.args.clone(),
        attempt: attempt.number,
    };
    // The epoch deadline stops wasm; this timeout also stops a guest that
    // is blocked in a host call (sleeping, polling) where no epoch check runs.
    let outcome = tokio::time::timeout_at(deadline.into(), async {
        let instance = component.instantiate_async(&mut store).await?;
        instance.call_run(&mut store, &invocation).await
    })
    .await;

    // Guest and host work together (see `StoreData::check_host_fuel`).
    let host_fuel = store.data().host_fuel();
    let fuel_left = store.get_fuel().unwrap_or(0);
    // At most the budget: work refused for want of fuel counts as all of it.
    let fuel_consumed = task
        .fuel
        .saturating_sub(fuel_left)
        .saturating_add(host_fuel)
        .min(task.fuel);
    store.data_mut().flush_captured_output();
    let exhausted = store.data_mut().limits.exhausted.take();
    // Tearing the instance down unmaps the memory the guest touched
    // (0.3-0.7 ms for the git task): on a blocking thread, not on the way
    // to the result.
    tokio::task::spawn_blocking(move || drop(store));
    let outcome = match outcome {
        // The last host call's work is checked now: more than was left is
        // running out of fuel, as it would have been at another call.
        Ok(Ok(_)) if host_fuel > fuel_left => Ok(Err(wasmtime::Trap::OutOfFuel.into())),
        outcome => outcome,
    };
    match outcome {
        Err(_elapsed) => Err(Failure::new(
            FailReason::Timeout,
            format!("exceeded timeout_ms={}", task.timeout_ms),
        )),
        Ok(Err(error)) => Err(classify(&error, exhausted.as_deref(), task)),
        Ok(Ok(Ok(result))) if result.len() > MAX_RESULT_BYTES => Err(Failure::new(
            FailReason::Denied,
            format!(
                "result of {} bytes exceeds the {MAX_RESULT_BYTES}-byte cap",
                result.len()
            ),
        )),
        Ok(Ok(Ok(result))) => Ok(Completed {
            result,
            fuel_consumed,
        }),
        Ok(Ok(Err(GuestFailure::Error(message)))) => Err(Failure::new(FailReason::Error, message)),
        Ok(Ok(Err(GuestFailure::InvalidInput(message)))) => {
            Err(Failure::new(FailReason::InvalidInput, message))
        }
    }
}

/// One function on this many consecutive frames at an out-of-bounds trap
/// is recursion that ran off the guest's own stack (languages that compile
/// to wasm keep their stack in linear memory, below its other data).
/// wasmtime keeps the innermost 20 frames of a trap's backtrace.
const RECURSION_FRAMES: usize = 16;

/// Whether the trap's backtrace shows one function recursing deeply.
fn deep_recursion(error: &wasmtime::Error) -> bool {
    let Some(trace) = error.downcast_ref::<wasmtime::WasmBacktrace>() else {
        return false;
    };
    let mut run = 0;
    let mut previous = None;
    for frame in trace.frames() {
        let function = Some(frame.func_index());
        run = if function == previous { run + 1 } else { 1 };
        previous = function;
        if run >= RECURSION_FRAMES {
            return true;
        }
    }
    false
}

/// Maps a trap or host error to the reason vocabulary.
fn classify(error: &wasmtime::Error, exhausted: Option<&str>, task: &Task) -> Failure {
    if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return Failure::new(
            FailReason::Trap,
            format!("guest exited with status {} instead of returning", exit.0),
        );
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => Failure::new(
            FailReason::Fuel,
            format!("fuel budget of {} exhausted", task.fuel),
        ),
        Some(Trap::Interrupt) => Failure::new(
            FailReason::Timeout,
            format!("exceeded timeout_ms={}", task.timeout_ms),
        ),
        Some(Trap::StackOverflow) => Failure::new(FailReason::Stack, "wasm stack overflow"),
        Some(Trap::MemoryOutOfBounds) if deep_recursion(error) => Failure::new(
            FailReason::Stack,
            "guest stack overflow: deep recursion ran past the guest's own stack in linear memory",
        ),
        _ => match exhausted {
            Some(limit) => Failure::new(FailReason::Memory, limit),
            None => Failure::new(FailReason::Trap, error.root_cause().to_string()),
        },
    }
}
