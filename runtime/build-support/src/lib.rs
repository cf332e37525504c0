//! What the build scripts that embed or expose guest components share:
//! finding the guest crates, building them all for `wasm32-wasip2` with one
//! nested `cargo build`, and checking that each output is a component.
//!
//! Two build scripts use it: `runtime/build.rs` (the shipped tasks, embedded
//! in the `corral` binary for `corral init`) and `tests/artifacts/build.rs`
//! (every guest, for the tests). Keeping one copy keeps the delicate part,
//! which settings of the outer build must not leak into the nested one, in
//! one place.
//!
//! The nested build must never use the outer build's target directory:
//! cargo locks it for the outer build's whole run, so the nested cargo would
//! wait for its own parent forever.

use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The target every guest is built for; rustc emits components directly.
pub const TARGET: &str = "wasm32-wasip2";
/// `\0asm`, then the component-model layer and version.
pub const COMPONENT_MAGIC: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

/// One guest crate found under a guest directory.
#[derive(Clone, Debug)]
pub struct Guest {
    /// The cargo package name (`-p`).
    pub package: String,
    /// The lib name: the component is `<lib>.wasm`.
    pub lib: String,
    /// The crate's directory.
    pub dir: PathBuf,
}

/// The workspace root: the nearest directory above the calling crate whose
/// `Cargo.toml` has a `[workspace]` table.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    manifest_dir
        .ancestors()
        .skip(1)
        .find(|dir| {
            fs::read_to_string(dir.join("Cargo.toml"))
                .ok()
                .and_then(|text| text.parse::<toml::Table>().ok())
                .is_some_and(|table| table.contains_key("workspace"))
        })
        .unwrap_or_else(|| panic!("no workspace above {}", manifest_dir.display()))
        .to_path_buf()
}

/// Tells cargo to rerun the build script when a guest's source, the WIT
/// contract or the workspace's dependency versions change.
pub fn rerun_if_guests_change(root: &Path, guest_dirs: &[&str]) {
    println!("cargo:rerun-if-changed={}", root.join("wit").display());
    for dir in guest_dirs {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }
    // Dependency versions of the guests live in the workspace manifest.
    for file in ["Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(file).display());
    }
}

/// Every `cdylib` crate under `guest_dirs` (relative to `root`) whose
/// package is not in `skip`, sorted by lib name.
pub fn discover(root: &Path, guest_dirs: &[&str], skip: &[&str]) -> Vec<Guest> {
    let mut guests = Vec::new();
    for dir in guest_dirs {
        let Ok(entries) = fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries {
            let crate_dir = entry.unwrap().path();
            let manifest = crate_dir.join("Cargo.toml");
            if !manifest.is_file() {
                continue;
            }
            let text = fs::read_to_string(&manifest).unwrap();
            let table: toml::Table = text
                .parse()
                .unwrap_or_else(|e| panic!("{} is not valid TOML: {e}", manifest.display()));
            let package = table
                .get("package")
                .and_then(|p| p.get("name"))
                .and_then(|n| n.as_str())
                .unwrap_or_else(|| panic!("{} has no [package] name", manifest.display()))
                .to_owned();
            if skip.contains(&package.as_str()) {
                continue;
            }
            let lib = table.get("lib");
            let is_cdylib = lib
                .and_then(|l| l.get("crate-type"))
                .and_then(|t| t.as_array())
                .is_some_and(|types| types.iter().any(|t| t.as_str() == Some("cdylib")));
            if !is_cdylib {
                println!(
                    "cargo:warning=skipping {}: not a cdylib, so it builds no component",
                    manifest.display()
                );
                continue;
            }
            let lib = lib
                .and_then(|l| l.get("name"))
                .and_then(|n| n.as_str())
                .map_or_else(|| package.replace('-', "_"), str::to_owned);
            guests.push(Guest {
                package,
                lib,
                dir: crate_dir,
            });
        }
    }
    guests.sort_by(|a, b| a.lib.cmp(&b.lib));
    if let Some(pair) = guests.windows(2).find(|pair| pair[0].lib == pair[1].lib) {
        panic!(
            "{} and {} both build `{}.wasm`",
            pair[0].dir.display(),
            pair[1].dir.display(),
            pair[0].lib
        );
    }
    guests
}

/// A nested target directory shared by every profile of the outer build
/// (`<outer target>/<name>`), so that a debug and a release build of the
/// outer crate do not build the same guests twice. Falls back to
/// `$OUT_DIR/<name>` when the outer target directory cannot be told.
///
/// `OUT_DIR` is `<target>[/<triple>]/<profile>/build/<crate>-<hash>/out`;
/// the outer target directory is the nearest ancestor holding cargo's
/// `CACHEDIR.TAG`.
pub fn shared_target_dir(name: &str) -> PathBuf {
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo"));
    out_dir
        .ancestors()
        .skip(4)
        .take(2)
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map_or_else(|| out_dir.join(name), |target| target.join(name))
}

/// Runs one nested `cargo build --release --target wasm32-wasip2` for all
/// `guests` into `target_dir` (never the outer build's own target directory)
/// and returns the directory holding the components.
pub fn build(root: &Path, target_dir: &Path, guests: &[Guest]) -> PathBuf {
    let release = target_dir.join(TARGET).join("release");
    if guests.is_empty() {
        return release;
    }
    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut cmd = Command::new(cargo);
    cmd.arg("build")
        .arg("--release")
        .arg("--target")
        .arg(TARGET)
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir);
    // The outer build's job count; the jobserver itself is not passed on.
    if let Ok(jobs) = env::var("NUM_JOBS") {
        cmd.arg("--jobs").arg(jobs);
    }
    // Only the guests: never the crate whose build script is running.
    for guest in guests {
        cmd.arg("-p").arg(&guest.package);
    }
    // Settings of the outer build that would be wrong for the guests: host
    // rustflags (coverage, sanitizers), clippy as rustc wrapper, the outer
    // target and profile, and the outer jobserver.
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if key.starts_with("CARGO_PROFILE_")
            || key.starts_with("CARGO_BUILD_")
            || key.starts_with("CARGO_ENCODED_")
        {
            cmd.env_remove(key);
        }
    }
    for key in [
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
        "CARGO_TARGET_DIR",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
    ] {
        cmd.env_remove(key);
    }

    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("failed to run {cmd:?}: {e}"));
    if !output.status.success() {
        panic!(
            "building the guest components failed ({status})\n\
             command: {cmd:?}\n\
             --- stderr ---\n{stderr}\n\
             hint: is the {TARGET} target installed? run `rustup target add {TARGET}`",
            status = output.status,
            stderr = String::from_utf8_lossy(&output.stderr),
        );
    }
    release
}

/// Panics unless `path` is a WebAssembly component (not a core module).
pub fn check_component(path: &Path) {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    if !bytes.starts_with(&COMPONENT_MAGIC) {
        let head = &bytes[..bytes.len().min(COMPONENT_MAGIC.len())];
        panic!(
            "{} is not a component: it starts with {head:02x?}, expected {COMPONENT_MAGIC:02x?}",
            path.display(),
        );
    }
}
