//! Per-store resource caps that remember which cap fired, so a trap caused
//! by refused growth is reported as `memory`, not as a generic trap.

use wasmtime::ResourceLimiter;

/// Table elements allowed per table; far above what compiled Rust needs.
const MAX_TABLE_ELEMENTS: usize = 100_000;
/// Instances, tables and memories per store: a component made by the Rust
/// toolchain needs a handful; a component that needs hundreds is hostile.
const MAX_INSTANCES: usize = 64;
const MAX_TABLES: usize = 64;
const MAX_MEMORIES: usize = 16;

#[derive(Debug)]
pub struct Limits {
    memory_bytes: usize,
    /// Set when a memory or table growth was refused.
    pub exhausted: Option<String>,
}

impl Limits {
    pub fn new(memory_mb: u64) -> Self {
        let memory_bytes = usize::try_from(memory_mb.saturating_mul(1 << 20)).unwrap_or(usize::MAX);
        Limits {
            memory_bytes,
            exhausted: None,
        }
    }
}

impl ResourceLimiter for Limits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            self.exhausted = Some(format!(
                "linear memory growth from {current} to {desired} bytes refused (memory_mb cap is {} bytes)",
                self.memory_bytes
            ));
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > MAX_TABLE_ELEMENTS {
            self.exhausted = Some(format!(
                "table growth from {current} to {desired} elements refused (cap {MAX_TABLE_ELEMENTS})"
            ));
            return Ok(false);
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}
