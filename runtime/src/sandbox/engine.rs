//! One wasmtime `Engine` per process, its epoch clock, and component loading.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine};

use crate::digest::sha256_hex;
use crate::events::{FailReason, Failure};
use crate::sandbox::bindings::{self, TaskFilesPre};
use crate::sandbox::cache::ArtifactCache;
use crate::sandbox::host::StoreData;
use crate::sandbox::warm::{FileStamp, Linked, Warm};

/// Interval of the epoch clock. A guest running wasm yields to the executor
/// at every tick and is interrupted at the first tick past its deadline, so
/// this bounds both scheduling latency and timeout overshoot.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Largest wasm stack a guest may use; deeper recursion traps as `stack`.
const MAX_WASM_STACK: usize = 1 << 20;

/// The import that earns a component a change feed and private state.
const INCREMENTAL_INTERFACE: &str = "corral:task/incremental@";

const WASM_MAGIC: &[u8; 4] = b"\0asm";
/// Version/layer bytes following the magic: a core module is `01 00 00 00`.
const CORE_MODULE_LAYER: [u8; 4] = [1, 0, 0, 0];

/// The engine and the host imports every task is linked against.
pub struct Runtime {
    engine: Engine,
    linker: Linker<StoreData>,
    cache: Option<ArtifactCache>,
    clock: Arc<EpochClock>,
    warm: Warm,
}

/// What a cache miss reports while it compiles a component.
#[derive(Clone, Copy, Debug)]
pub enum Compiling {
    Started { component_bytes: usize },
    Finished { artifact_bytes: usize, seconds: f64 },
}

/// A component read, verified and compiled, not yet linked.
pub struct Compiled {
    pub sha256: String,
    pub component: Component,
}

impl Runtime {
    /// The engine with the user's compiled-component cache (see
    /// [`ArtifactCache::open`]).
    pub fn new() -> anyhow::Result<Arc<Runtime>> {
        Runtime::build(ArtifactCache::open)
    }

    /// The engine with the cache in `dir`, or with no cache at all.
    pub fn with_cache_dir(dir: Option<&Path>) -> anyhow::Result<Arc<Runtime>> {
        Runtime::build(|engine| dir.and_then(|dir| ArtifactCache::open_in(dir, engine)))
    }

    fn build(cache: impl FnOnce(&Engine) -> Option<ArtifactCache>) -> anyhow::Result<Arc<Runtime>> {
        let mut config = Config::new();
        config
            .consume_fuel(true)
            .epoch_interruption(true)
            .max_wasm_stack(MAX_WASM_STACK);
        // Chosen by measurement (`cargo bench --bench ratios`, 2 cores):
        // - the default on-demand instance allocator. A pool (64 component
        //   instances, 256 memories) cost 10.4 ms per cold one-task run
        //   against 6.1-6.8 ms on demand, and saved only ~40 us per task in
        //   a 1000-task run; corral runs a handful of tasks per process, and
        //   copy-on-write memory images already make instantiation cheap.
        // - `concurrency_support` left at its default: turning it off made
        //   no measurable difference to cold runs or per-task cost.
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        // corral's own interfaces; the WASI ones `files` shares are above.
        bindings::corral::task::host::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        bindings::corral::task::files::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        bindings::corral::task::incremental::add_to_linker::<_, HasSelf<_>>(
            &mut linker,
            |state| state,
        )?;
        let clock = EpochClock::spawn(&engine)?;
        let cache = cache(&engine);
        Ok(Arc::new(Runtime {
            engine,
            linker,
            cache,
            clock,
            warm: Warm::default(),
        }))
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Keeps the epoch clock ticking while the guard lives: hold one for
    /// as long as a guest may run. With none held the clock sleeps, so an
    /// idle server costs no CPU.
    pub fn guest_running(&self) -> GuestRunning {
        self.clock.enter();
        GuestRunning {
            clock: Arc::clone(&self.clock),
        }
    }

    /// Reads, verifies, compiles and links a component. Blocking: run it on
    /// a blocking thread. Every refusal happens before any guest code runs.
    /// `on_compile` hears about a cache miss, which can take seconds for a
    /// large component: before compiling, and once the artifact is made.
    /// A component loaded before by this runtime whose file is unchanged
    /// (see [`FileStamp`]) is not read again.
    pub fn load(
        &self,
        path: &Path,
        pin: Option<&str>,
        on_compile: &dyn Fn(Compiling),
    ) -> Result<Linked, Failure> {
        let stamp = FileStamp::of(path);
        if let Some(linked) = stamp.and_then(|stamp| self.warm.get(path, pin, stamp)) {
            return Ok(linked);
        }
        let compiled = self.compile_stamped(path, stamp, pin, on_compile)?;
        let linked = Linked {
            pre: Arc::new(self.link(path, &compiled.component)?),
            incremental: self
                .imports(&compiled.component)
                .iter()
                .any(|name| name.starts_with(INCREMENTAL_INTERFACE)),
            sha256: compiled.sha256,
        };
        // Stamped as it was before the read: a write during the read
        // changes the stamp, and the next load reads the file again.
        if let Some(stamp) = stamp {
            self.warm.insert(path, pin, stamp, linked.clone());
        }
        Ok(linked)
    }

    /// Reads a component, checks its pin and header, and compiles it (or
    /// takes it from the cache). Blocking.
    pub fn compile(
        &self,
        path: &Path,
        pin: Option<&str>,
        on_compile: &dyn Fn(Compiling),
    ) -> Result<Compiled, Failure> {
        self.compile_stamped(path, FileStamp::of(path), pin, on_compile)
    }

    /// [`Runtime::compile`] of the file as `stamp` found it before the read.
    fn compile_stamped(
        &self,
        path: &Path,
        stamp: Option<FileStamp>,
        pin: Option<&str>,
        on_compile: &dyn Fn(Compiling),
    ) -> Result<Compiled, Failure> {
        let load_error = |message: String| Failure::new(FailReason::Load, message);
        // An unchanged file whose digest the cache remembers, with its
        // artifact there: neither read nor hashed.
        let remembered = stamp.and_then(|stamp| {
            let cache = self.cache.as_ref()?;
            let sha256 = cache.source_digest(path, &stamp)?;
            Some((cache.load(&self.engine, &sha256)?, sha256))
        });
        if let Some((component, sha256)) = remembered {
            check_pin(path, &sha256, pin)?;
            return Ok(Compiled { sha256, component });
        }
        let bytes = std::fs::read(path)
            .map_err(|e| load_error(format!("cannot read component {}: {e}", path.display())))?;
        let sha256 = sha256_hex(&bytes);
        check_pin(path, &sha256, pin)?;
        match bytes.get(..8) {
            Some(header) if header[..4] == *WASM_MAGIC && header[4..] == CORE_MODULE_LAYER => {
                return Err(load_error(format!(
                    "{} is a core wasm module, not a component: build the task for wasm32-wasip2",
                    path.display()
                )));
            }
            Some(header) if header[..4] == *WASM_MAGIC => {}
            _ => {
                return Err(load_error(format!(
                    "{} is not a WebAssembly component (no wasm header)",
                    path.display()
                )));
            }
        }
        let component = match self.cached(&sha256) {
            Some(component) => component,
            None => {
                on_compile(Compiling::Started {
                    component_bytes: bytes.len(),
                });
                let started = std::time::Instant::now();
                let (component, artifact_bytes) = self
                    .compile_fresh(&bytes, &sha256)
                    .map_err(|e| load_error(format!("cannot compile {}: {e:#}", path.display())))?;
                on_compile(Compiling::Finished {
                    artifact_bytes,
                    seconds: started.elapsed().as_secs_f64(),
                });
                component
            }
        };
        // Remembered only for the stamp taken before the read: a write
        // since then changed it, and the next run reads the file again.
        if let (Some(cache), Some(stamp)) = (&self.cache, stamp) {
            cache.remember_source_digest(path, &stamp, &sha256);
        }
        Ok(Compiled { sha256, component })
    }

    /// Links a compiled component against the host and checks its exports.
    pub fn link(
        &self,
        path: &Path,
        component: &Component,
    ) -> Result<TaskFilesPre<StoreData>, Failure> {
        let load_error = |message: String| Failure::new(FailReason::Load, message);
        let instance_pre = self.linker.instantiate_pre(component).map_err(|e| {
            load_error(format!(
                "{} imports something the host does not provide: {e:#}",
                path.display()
            ))
        })?;
        TaskFilesPre::new(instance_pre).map_err(|e| {
            load_error(format!(
                "{} does not export the corral:task/task world: {e:#}",
                path.display()
            ))
        })
    }

    /// The names of the interfaces a component imports, sorted.
    pub fn imports(&self, component: &Component) -> Vec<String> {
        let ty = component.component_type();
        let mut names: Vec<String> = ty
            .imports(&self.engine)
            .map(|(name, _)| name.to_string())
            .collect();
        names.sort();
        names
    }

    fn cached(&self, sha256: &str) -> Option<Component> {
        self.cache.as_ref()?.load(&self.engine, sha256)
    }

    /// Compiles with Cranelift and keeps the artifact for later runs;
    /// returns the component and the artifact's size.
    fn compile_fresh(&self, bytes: &[u8], sha256: &str) -> wasmtime::Result<(Component, usize)> {
        tracing::debug!(sha256, "compiling component");
        let artifact = self.engine.precompile_component(bytes)?;
        if let Some(cache) = &self.cache
            && let Err(error) = cache.store(sha256, &artifact)
        {
            tracing::warn!(%error, "cannot store the compiled component in the cache");
        }
        // SAFETY: the artifact was produced just now by this engine.
        let component = unsafe { Component::deserialize(&self.engine, &artifact) }?;
        Ok((component, artifact.len()))
    }
}

/// Advances the engine's epoch every [`EPOCH_TICK`] while any guest may
/// run, for the life of the runtime. A plain thread, not a tokio task: it
/// must keep ticking even if every executor thread is busy running wasm.
/// It parks while no guest runs: a guest's deadline is set relative to the
/// epoch when its store is made, so ticks nobody waits for are not needed.
#[derive(Default)]
struct EpochClock {
    guests: Mutex<usize>,
    wake: Condvar,
}

/// A guest that may be running: see [`Runtime::guest_running`].
pub struct GuestRunning {
    clock: Arc<EpochClock>,
}

impl Drop for GuestRunning {
    fn drop(&mut self) {
        *lock(&self.clock.guests) -= 1;
    }
}

impl EpochClock {
    fn spawn(engine: &Engine) -> std::io::Result<Arc<EpochClock>> {
        let clock = Arc::new(EpochClock::default());
        let weak_clock = Arc::downgrade(&clock);
        let engine = engine.weak();
        std::thread::Builder::new()
            .name("corral-epoch".into())
            .spawn(move || {
                while let Some(clock) = weak_clock.upgrade() {
                    let guests = lock(&clock.guests);
                    // Parked with a timeout, so the thread notices when the
                    // runtime is dropped while nothing runs.
                    let (guests, _) = clock
                        .wake
                        .wait_timeout_while(guests, IDLE_CHECK, |guests| *guests == 0)
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    let running = *guests > 0;
                    drop(guests);
                    drop(clock);
                    if running {
                        let Some(engine) = engine.upgrade() else {
                            return;
                        };
                        engine.increment_epoch();
                        drop(engine);
                        std::thread::sleep(EPOCH_TICK);
                    }
                }
            })?;
        Ok(clock)
    }

    fn enter(&self) {
        *lock(&self.guests) += 1;
        self.wake.notify_one();
    }
}

/// How often a parked epoch clock checks whether its runtime still exists.
const IDLE_CHECK: Duration = Duration::from_secs(60);

/// The guest count; a panic elsewhere cannot poison a plain counter.
fn lock(guests: &Mutex<usize>) -> MutexGuard<'_, usize> {
    guests
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Refuses a component whose digest is not the manifest's pin.
fn check_pin(path: &Path, sha256: &str, pin: Option<&str>) -> Result<(), Failure> {
    match pin {
        Some(pin) if pin != sha256 => Err(Failure::new(
            FailReason::Integrity,
            format!(
                "component {} has sha256 {sha256} but the manifest pins {pin}",
                path.display()
            ),
        )),
        _ => Ok(()),
    }
}
