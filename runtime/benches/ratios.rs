//! corral's performance, as ratios against baselines measured in the same
//! run (absolute times on shared machines are noise). Every figure is the
//! median of paired samples: baseline and corral measured back to back.
//!
//! Run with `cargo bench -p corral --bench ratios`; it builds everything it
//! needs (the `corral` binary and the probe component) and uses a private
//! component cache in a temporary directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use corral_test_artifacts::CORRAL_PROBE;

#[path = "ratios/completion.rs"]
mod completion;
#[path = "ratios/languages.rs"]
mod languages;
#[path = "ratios/serve.rs"]
mod serve;
#[path = "ratios/workloads.rs"]
mod workloads;

const SAMPLES: usize = 7;
const CORRAL: &str = env!("CARGO_BIN_EXE_corral");

fn main() {
    let work = tempfile::tempdir().expect("temporary directory");
    let bench = Bench::new(work.path());
    let mut table = Vec::new();

    let one = bench.manifest("one", 1, &["ok"], "");
    let five = bench.manifest("five", 5, &["ok"], "");
    let thousand = bench.manifest("thousand", 1000, &["ok"], "max_concurrency = 8");

    table.push(Row::paired(
        "P1",
        "cold run of 1 trivial task / spawn /bin/true",
        "<= 2.5",
        Target::AtMost(2.5),
        || {
            (
                time(|| spawn(Command::new("/bin/true"))),
                bench.run_wall(&one, &[]),
            )
        },
    ));
    table.push(Row::paired(
        "P2",
        "cold run of 5 trivial tasks / shell with 5 background true jobs",
        "<= 1.0",
        Target::AtMost(1.0),
        || {
            let mut shell = Command::new("/bin/sh");
            shell.args(["-c", "true & true & true & true & true & wait"]);
            (time(|| spawn(shell)), bench.run_wall(&five, &[]))
        },
    ));
    table.push(p3_cache_hit_over_compile(work.path()));
    table.push(Row::paired(
        "P4",
        "per-task cost in a run of 1000 trivial tasks / spawn /bin/true",
        "<= 0.05",
        Target::AtMost(0.05),
        || {
            let baseline = time(|| spawn(Command::new("/bin/true")));
            let per_task = (bench.run_wall(&thousand, &[]) - bench.run_wall(&one, &[])) / 999;
            (baseline, per_task)
        },
    ));

    let iterations = calibrate_spin(Duration::from_millis(300));
    let spin = iterations.to_string();
    let cpu_one = bench.manifest("cpu_one", 1, &["spin", &spin], "max_timeout_ms = 5000");
    table.push(Row::paired(
        "P5",
        "CPU-bound guest under fuel+epoch / same guest uninterrupted",
        "<= 1.35",
        Target::AtMost(1.35),
        || (plain::run_spin(iterations), bench.task_ms(&cpu_one, "t0")),
    ));
    let eighth = (iterations / 2).to_string();
    let cpu_eight = bench.manifest("cpu_eight", 8, &["spin", &eighth], "max_timeout_ms = 5000");
    table.push(Row::paired(
        "P6",
        "throughput of 8 CPU-bound tasks, cap 2 / cap 1 (higher is better)",
        ">= 1.7",
        Target::AtLeast(1.7),
        || {
            let cap1 = bench.run_wall(&cpu_eight, &["--max-concurrency", "1"]);
            let cap2 = bench.run_wall(&cpu_eight, &["--max-concurrency", "2"]);
            // Throughput ratio = time at cap 1 / time at cap 2; report it as
            // baseline / measured so that `ratio` reads the same way.
            (cap1, cap2)
        },
    ));
    let big = bench.big_file(256 << 20);
    let reader = bench.manifest_with_grant("reader", &big);
    table.push(Row::paired(
        "P7",
        "guest read of a 256 MiB granted file / native read (throughput)",
        ">= 0.3",
        Target::AtLeast(0.3),
        || {
            let native = time(|| native_read(&big.join("big.bin")));
            let guest = bench.task_ms(&reader, "t0");
            (native, guest)
        },
    ));

    let tree = workloads::real_tree(work.path());
    table.push(workloads::integrity_scan(&bench, &tree));
    table.push(workloads::integrity_after_one_change(&bench, &tree));
    table.push(workloads::walk(&bench, &tree));
    table.extend(workloads::git_status(&bench, &tree));
    let (serve_rows, serve_lines) = serve::rows(&bench, &bench.dir.join("repo"));
    table.extend(serve_rows);
    table.extend(serve::zsh_prompt_wait(&bench, &bench.dir.join("repo")));
    table.push(workloads::large_manifest(&bench));
    table.push(workloads::detach(&bench, &one));
    if let Some(row) = shell_startup(&bench, &one) {
        table.push(row);
    }
    if let Some(row) = completion::bash_first_tab(&bench) {
        table.push(row);
    }
    if let Some(row) = completion::zsh_compinit(&bench) {
        table.push(row);
    }

    println!(
        "\ncorral ratios: median of {SAMPLES} paired samples, baselines measured in the same run"
    );
    println!(
        "{:<4} {:<68} {:>8} {:>8} {:>6} {:>12} {:>12}",
        "id", "measure", "ratio", "target", "met", "baseline", "corral"
    );
    for row in &table {
        println!(
            "{:<4} {:<68} {:>8.3} {:>8} {:>6} {:>12} {:>12}",
            row.id,
            row.measure,
            row.ratio,
            row.target_text,
            if row.met() { "yes" } else { "NO" },
            format_duration(row.baseline),
            format_duration(row.measured),
        );
    }
    let rss = bench.peak_rss_kib(&thousand);
    println!(
        "peak RSS of the 1000-task run: {:.1} MiB",
        rss as f64 / 1024.0
    );
    for line in serve_lines {
        println!("{line}");
    }
    println!("W1, W2, G1, G2 tree: {}", tree.display());
    languages::report(&bench);
}

enum Target {
    AtMost(f64),
    AtLeast(f64),
}

struct Row {
    id: &'static str,
    measure: &'static str,
    target_text: &'static str,
    target: Target,
    /// Median of measured / baseline (P6, P7: baseline / measured, so
    /// that higher means better as their targets say).
    ratio: f64,
    baseline: Duration,
    measured: Duration,
}

impl Row {
    fn paired(
        id: &'static str,
        measure: &'static str,
        target_text: &'static str,
        target: Target,
        mut sample: impl FnMut() -> (Duration, Duration),
    ) -> Row {
        sample(); // warm-up: caches, page cache, lazy initialisation
        let samples: Vec<(Duration, Duration)> = (0..SAMPLES).map(|_| sample()).collect();
        let inverted = matches!(target, Target::AtLeast(_));
        let mut ratios: Vec<f64> = samples
            .iter()
            .map(|(baseline, measured)| {
                let (b, m) = (baseline.as_secs_f64(), measured.as_secs_f64());
                if inverted { b / m } else { m / b }
            })
            .collect();
        let ratio = median(&mut ratios);
        let mut baselines: Vec<f64> = samples.iter().map(|s| s.0.as_secs_f64()).collect();
        let mut measured: Vec<f64> = samples.iter().map(|s| s.1.as_secs_f64()).collect();
        eprintln!("{id}: ratio {ratio:.3}");
        Row {
            id,
            measure,
            target_text,
            target,
            ratio,
            baseline: Duration::from_secs_f64(median(&mut baselines)),
            measured: Duration::from_secs_f64(median(&mut measured)),
        }
    }

    fn met(&self) -> bool {
        match self.target {
            Target::AtMost(limit) => self.ratio <= limit,
            Target::AtLeast(limit) => self.ratio >= limit,
        }
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn time(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn spawn(mut command: Command) {
    let status = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "{command:?} failed");
}

fn format_duration(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    if ms < 1.0 {
        format!("{:.1} us", ms * 1000.0)
    } else {
        format!("{ms:.2} ms")
    }
}

fn native_read(path: &Path) {
    use std::io::Read;
    let mut file = std::fs::File::open(path).unwrap();
    let mut buffer = vec![0u8; 64 * 1024];
    while file.read(&mut buffer).unwrap() != 0 {}
}

/// Manifests and `corral` invocations in one working directory.
struct Bench {
    dir: PathBuf,
    cache: PathBuf,
}

impl Bench {
    fn new(dir: &Path) -> Bench {
        Bench {
            dir: dir.to_path_buf(),
            cache: dir.join("cache"),
        }
    }

    /// A manifest of `count` probe tasks with the same arguments.
    fn manifest(&self, name: &str, count: usize, args: &[&str], runtime: &str) -> PathBuf {
        let args: Vec<String> = args.iter().map(|a| format!("{a:?}")).collect();
        let mut text = format!("version = 1\n[runtime]\n{runtime}\n");
        for i in 0..count {
            text.push_str(&format!(
                "[[task]]\nid = \"t{i:05}\"\nlabel = \"t{i}\"\nrationale = \"benchmark\"\ncomponent = {CORRAL_PROBE:?}\nargs = [{}]\ntimeout_ms = {}\nfuel = 1_000_000_000_000_000\n",
                args.join(", "),
                if runtime.contains("max_timeout_ms") { 5000 } else { 1500 },
            ));
        }
        let path = self.dir.join(format!("{name}.toml"));
        std::fs::write(&path, text).unwrap();
        path
    }

    fn manifest_with_grant(&self, name: &str, dir: &Path) -> PathBuf {
        let text = format!(
            "version = 1\n[runtime]\nmax_timeout_ms = 5000\n[[task]]\nid = \"t0\"\nrationale = \"benchmark\"\ncomponent = {CORRAL_PROBE:?}\nargs = [\"count-bytes\", \"/big/big.bin\"]\ntimeout_ms = 5000\nfuel = 1_000_000_000_000_000\n[[task.dir]]\nhost = {:?}\nguest = \"/big\"\nmode = \"ro\"\n",
            dir.display()
        );
        let path = self.dir.join(format!("{name}.toml"));
        std::fs::write(&path, text).unwrap();
        path
    }

    fn big_file(&self, bytes: usize) -> PathBuf {
        let dir = self.dir.join("big");
        std::fs::create_dir_all(&dir).unwrap();
        let block: Vec<u8> = (0..1 << 20)
            .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        let mut file = std::fs::File::create(dir.join("big.bin")).unwrap();
        for _ in 0..bytes / block.len() {
            std::io::Write::write_all(&mut file, &block).unwrap();
        }
        dir
    }

    fn command(&self, manifest: &Path, extra: &[&str]) -> Command {
        let mut command = Command::new(CORRAL);
        command
            .args(["run", "--manifest"])
            .arg(manifest)
            .args(extra)
            .env("CORRAL_CACHE_DIR", &self.cache)
            .env_remove("CORRAL_MAX_CONCURRENCY")
            .env_remove("CORRAL_MODE");
        command
    }

    /// Wall time of one `corral run`, from spawn to exit.
    fn run_wall(&self, manifest: &Path, extra: &[&str]) -> Duration {
        let command = self.command(manifest, extra);
        time(|| spawn(command))
    }

    /// The `_done` duration of one task, as corral reports it.
    fn task_ms(&self, manifest: &Path, label: &str) -> Duration {
        let output = self.command(manifest, &[]).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let prefix = format!("SEGMENT name=async_task_{label}_done ms=");
        let ms: f64 = stderr
            .lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .and_then(|rest| rest.split(' ').next())
            .and_then(|ms| ms.parse().ok())
            .unwrap_or_else(|| panic!("no {label} done segment in:\n{stderr}"));
        Duration::from_secs_f64(ms / 1000.0)
    }

    /// Peak resident set of one run, from the kernel's high-water mark
    /// (VmHWM), sampled until the process exits.
    fn peak_rss_kib(&self, manifest: &Path) -> u64 {
        let mut child = self
            .command(manifest, &[])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let status = format!("/proc/{}/status", child.id());
        let mut peak = 0;
        while child.try_wait().unwrap().is_none() {
            if let Ok(text) = std::fs::read_to_string(&status)
                && let Some(kib) = text
                    .lines()
                    .find_map(|line| line.strip_prefix("VmHWM:"))
                    .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            {
                peak = peak.max(kib);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        peak
    }
}

/// S1: what the `corral shell-init zsh` snippet adds to an interactive zsh
/// start-up, in units of one process spawn (target: at most one).
fn shell_startup(bench: &Bench, manifest: &Path) -> Option<Row> {
    let zsh_found = Command::new("zsh")
        .args(["-c", "exit"])
        .status()
        .is_ok_and(|s| s.success());
    if !zsh_found {
        eprintln!("S1 skipped: zsh is not installed");
        return None;
    }
    let snippet = Command::new(CORRAL)
        .args(["shell-init", "zsh", "--manifest"])
        .arg(manifest)
        .output()
        .unwrap();
    let plain = bench.dir.join("zsh-plain");
    let with = bench.dir.join("zsh-with");
    for dir in [&plain, &with] {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(plain.join(".zshrc"), "").unwrap();
    std::fs::write(with.join(".zshrc"), &snippet.stdout).unwrap();
    let start_zsh = |zdotdir: &Path| {
        let mut zsh = Command::new("zsh");
        zsh.args(["-i", "-c", "exit"]).env("ZDOTDIR", zdotdir);
        time(|| spawn(zsh))
    };
    Some(Row::paired(
        "S1",
        "zsh start-up added by the shell-init snippet / spawn /bin/true",
        "<= 1.0",
        Target::AtMost(1.0),
        || {
            let spawn_true = time(|| spawn(Command::new("/bin/true")));
            let added = start_zsh(&with).saturating_sub(start_zsh(&plain));
            (spawn_true, added)
        },
    ))
}

/// P3: loading a component from corral's cache against compiling it.
fn p3_cache_hit_over_compile(dir: &Path) -> Row {
    let cached = corral::Runtime::with_cache_dir(Some(&dir.join("p3-cache"))).unwrap();
    let uncached = corral::Runtime::with_cache_dir(None).unwrap();
    let probe = Path::new(CORRAL_PROBE);
    cached.compile(probe, None, &|_| {}).unwrap();
    Row::paired(
        "P3",
        "cache-hit load of a component / compiling it",
        "<= 0.01",
        Target::AtMost(0.01),
        || {
            let compile = time(|| drop(uncached.compile(probe, None, &|_| {}).unwrap()));
            let hit = time(|| drop(cached.compile(probe, None, &|_| {}).unwrap()));
            (compile, hit)
        },
    )
}

/// Spin iterations that take about `target` with no interruption.
fn calibrate_spin(target: Duration) -> u64 {
    let probe_iterations = 20_000_000;
    let took = plain::run_spin(probe_iterations);
    let scale = target.as_secs_f64() / took.as_secs_f64();
    ((probe_iterations as f64) * scale) as u64
}

/// The probe run by a plain wasmtime host: no fuel, no epochs, no limits.
mod plain {
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
    use wasmtime::{Config, Engine, Store};
    use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

    wasmtime::component::bindgen!({
        path: "../wit",
        world: "task",
        exports: { default: async },
    });

    use self::corral::task::host::{Host, Level};

    struct State {
        wasi: WasiCtx,
        table: ResourceTable,
    }

    impl WasiView for State {
        fn ctx(&mut self) -> WasiCtxView<'_> {
            WasiCtxView {
                ctx: &mut self.wasi,
                table: &mut self.table,
            }
        }
    }

    impl Host for State {
        fn log(&mut self, _: Level, _: String) {}
        fn segment_start(&mut self, _: String) {}
        fn segment_end(&mut self, _: String) {}
        fn progress(&mut self, _: u64, _: u64) {}
    }

    impl self::corral::task::types::Host for State {}

    struct Loaded {
        engine: Engine,
        pre: TaskPre<State>,
        executor: tokio::runtime::Runtime,
    }

    fn loaded() -> &'static Loaded {
        static LOADED: OnceLock<Loaded> = OnceLock::new();
        LOADED.get_or_init(|| {
            let engine = Engine::new(&Config::new()).unwrap();
            let component = Component::from_file(&engine, super::CORRAL_PROBE).unwrap();
            let mut linker = Linker::new(&engine);
            wasmtime_wasi::p2::add_to_linker_async(&mut linker).unwrap();
            // The probe calls only `host`; the plain host offers nothing more.
            self::corral::task::host::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)
                .unwrap();
            let pre = TaskPre::new(linker.instantiate_pre(&component).unwrap()).unwrap();
            let executor = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            Loaded {
                engine,
                pre,
                executor,
            }
        })
    }

    /// Instantiates the probe and runs `spin iterations`; the time covers
    /// instantiation and the call, as corral's `_done` does.
    pub fn run_spin(iterations: u64) -> Duration {
        let loaded = loaded();
        let state = State {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
        };
        let mut store = Store::new(&loaded.engine, state);
        let call = self::corral::task::types::Invocation {
            id: "t0".into(),
            args: vec!["spin".into(), iterations.to_string()],
            attempt: 1,
        };
        let start = Instant::now();
        loaded.executor.block_on(async {
            let task = loaded.pre.instantiate_async(&mut store).await.unwrap();
            task.call_run(&mut store, &call).await.unwrap().unwrap();
        });
        start.elapsed()
    }
}
