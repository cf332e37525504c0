//! The stub task `corral new` writes, in each language: its fuel, the
//! process's peak memory, and a cold run (compiling the component into an
//! empty cache) against warm ones. Python and JavaScript need the tools
//! `runtime/templates/install-tools.sh` installs into `target/tools`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{Bench, median, time};

/// Prints one line per language whose tools are installed.
pub fn report(bench: &Bench) {
    let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/tools");
    println!("\ntask templates (corral new), one task each:");
    println!(
        "{:<7} {:>12} {:>14} {:>12} {:>12} {:>12}",
        "lang", "component", "fuel", "peak RSS", "cold run", "warm run"
    );
    for (lang, tool) in [
        ("rust", None),
        ("python", Some("python/bin/componentize-py")),
        ("js", Some("node/node_modules/.bin/componentize-qjs")),
    ] {
        if tool.is_some_and(|tool| !tools.join(tool).exists()) {
            println!("{lang:<7} skipped: run runtime/templates/install-tools.sh");
            continue;
        }
        let dir = bench.dir.join(format!("lang-{lang}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("manifest.toml"), "version = 1\n").unwrap();
        let id = format!("demo_{lang}");
        let cache = dir.join("cache");
        let corral = |args: &[&str]| {
            let mut command = Command::new(super::CORRAL);
            command
                .args(args)
                .current_dir(&dir)
                .env("CORRAL_TOOLS", &tools)
                .env("CORRAL_CACHE_DIR", &cache)
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            command
        };
        for step in [
            vec!["new", &id, "--lang", lang],
            vec!["build", "--only", &id],
        ] {
            let output = corral(&step).output().unwrap();
            assert!(
                output.status.success(),
                "{step:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let component = std::fs::metadata(dir.join(&id).join(format!("{id}.wasm")))
            .unwrap()
            .len();
        std::fs::remove_dir_all(&cache).unwrap();
        let cold = time(|| drop(corral(&["run", "--only", &id]).output().unwrap()));
        let mut warm: Vec<f64> = (0..7)
            .map(|_| time(|| drop(corral(&["run", "--only", &id]).output().unwrap())).as_secs_f64())
            .collect();
        let output = corral(&["run", "--only", &id]).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let fuel = stderr
            .split_whitespace()
            .find_map(|field| field.strip_prefix("fuel="))
            .unwrap_or("?")
            .to_string();
        let manifest = dir.join("manifest.toml");
        bench.run_wall(&manifest, &[]); // compiles into the bench's cache
        let rss = bench.peak_rss_kib(&manifest);
        println!(
            "{lang:<7} {:>9.1} MB {fuel:>14} {:>8.1} MiB {:>12} {:>12}",
            component as f64 / 1e6,
            rss as f64 / 1024.0,
            super::format_duration(cold),
            super::format_duration(Duration::from_secs_f64(median(&mut warm))),
        );
    }
}
