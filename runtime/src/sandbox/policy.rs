//! Capabilities: from a task's manifest entry to the exact WASI context it
//! runs with. Nothing is inherited from the host process: no environment, no
//! arguments, no stdin, no network, and no directory that is not granted.

use std::path::Path;

use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder};

use crate::events::{FailReason, Failure};
use crate::manifest::{Access, Task};
use crate::sandbox::capture::Capture;
use crate::sandbox::local_fs;

/// Largest `get-random-bytes` request honoured; larger requests trap.
pub const MAX_RANDOM_BYTES: u64 = 1 << 20;

/// A directory as the guest will see it, possibly redirected on the host
/// (shadow mode replaces `rw` grants by scratch copies).
pub struct Grant<'a> {
    pub host: &'a Path,
    pub guest: &'a str,
    pub access: Access,
}

/// Whether file calls run inline: when every grant is on a local
/// filesystem (a hand-off to tokio's blocking pool per call made guest
/// reads and walks several times slower); on anything else they stay on
/// the blocking pool, so a hung filesystem cannot hold an executor thread
/// where no timeout could end the task.
pub fn runs_inline(grants: &[Grant<'_>]) -> bool {
    !grants.is_empty() && grants.iter().all(|grant| local_fs::is_local(grant.host))
}

/// Builds the WASI context for one attempt of `task`.
pub fn wasi_context<'a>(
    task: &Task,
    grants: impl IntoIterator<Item = Grant<'a>>,
    stdout: &Capture,
    stderr: &Capture,
) -> Result<WasiCtx, Failure> {
    let grants: Vec<Grant<'a>> = grants.into_iter().collect();
    let mut builder = WasiCtxBuilder::new();
    builder.allow_blocking_current_thread(runs_inline(&grants));
    builder
        .arg(task.id.as_str())
        .args(&task.args)
        .envs(&task.env.iter().collect::<Vec<_>>())
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .max_random_size(MAX_RANDOM_BYTES)
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
    for grant in grants {
        let perms = match grant.access {
            Access::Ro => FsPerms::ReadOnly,
            Access::Rw => FsPerms::ReadWrite,
        };
        builder
            .preopened_dir(grant.host, grant.guest, perms)
            .map_err(|error| {
                Failure::new(
                    FailReason::Denied,
                    format!(
                        "cannot open granted directory {} for {}: {error}",
                        grant.host.display(),
                        grant.guest
                    ),
                )
            })?;
    }
    Ok(builder.build())
}
