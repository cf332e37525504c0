//! The task templates `corral new` writes, carried in the binary so an
//! installed corral needs no checkout: the files of `runtime/templates/`,
//! the WIT contract, and per language its build command and budgets.

/// A language `corral new` can write a task in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Rust,
    Python,
    Js,
}

/// One template: its files (relative path, text with `{{name}}` and
/// `{{crate}}` placeholders; the WIT contract comes with every template,
/// see [`Template::all_files`]), build command and budgets.
pub struct Template {
    pub files: &'static [(&'static str, &'static str)],
    pub build: &'static str,
    /// What the stub needs with room to grow (measured: docs/writing-tasks.md); the timeout is capped by the manifest's `max_timeout_ms`.
    pub timeout_ms: u64,
    pub fuel: u64,
    pub memory_mb: u64,
    /// What to install before the first build.
    pub tools: &'static str,
}

/// The WIT contract every template carries: `task.wit`, the worlds the
/// templates build (`task-dirs`; `task-js`, which leaves out `files`, see
/// its header) and the WASI packages they use (the versions corral's host
/// links).
const WIT: [(&str, &str); 6] = [
    ("wit/task.wit", include_str!("../../../wit/task.wit")),
    (
        "wit/task-dirs.wit",
        include_str!("../../templates/wit/task-dirs.wit"),
    ),
    (
        "wit/task-js.wit",
        include_str!("../../templates/wit/task-js.wit"),
    ),
    (
        "wit/deps/clocks.wit",
        include_str!("../../../wit/deps/clocks.wit"),
    ),
    (
        "wit/deps/filesystem.wit",
        include_str!("../../../wit/deps/filesystem.wit"),
    ),
    ("wit/deps/io.wit", include_str!("../../../wit/deps/io.wit")),
];

pub fn template(lang: Lang) -> Template {
    match lang {
        Lang::Rust => Template {
            files: &[
                (
                    "Cargo.toml",
                    include_str!("../../templates/rust/Cargo.toml"),
                ),
                (
                    "Cargo.lock",
                    include_str!("../../templates/rust/Cargo.lock"),
                ),
                (
                    "src/lib.rs",
                    include_str!("../../templates/rust/src/lib.rs"),
                ),
            ],
            build: include_str!("../../templates/rust/build-command"),
            timeout_ms: 1500,
            fuel: 500_000_000,
            memory_mb: 16,
            tools: "rustup target add wasm32-wasip2",
        },
        Lang::Python => Template {
            files: &[
                ("app.py", include_str!("../../templates/python/app.py")),
                (
                    "corral_task.py",
                    include_str!("../../templates/python/corral_task.py"),
                ),
            ],
            build: include_str!("../../templates/python/build-command"),
            timeout_ms: 5000,
            fuel: 2_000_000_000,
            memory_mb: 64,
            tools: "python3 -m venv target/tools/python && target/tools/python/bin/pip install componentize-py==0.25.1",
        },
        Lang::Js => Template {
            files: &[
                ("app.js", include_str!("../../templates/js/app.js")),
                (
                    "corral_task.js",
                    include_str!("../../templates/js/corral_task.js"),
                ),
            ],
            build: include_str!("../../templates/js/build-command"),
            timeout_ms: 1500,
            fuel: 1_000_000_000,
            memory_mb: 32,
            tools: "npm install --prefix target/tools/node componentize-qjs@0.4.5",
        },
    }
}

/// `text` with the placeholders filled for task `name`.
pub fn fill(text: &str, name: &str) -> String {
    text.replace("{{name}}", name)
        .replace("{{crate}}", &name.replace('_', "-"))
}

impl Template {
    /// The template's own files, then the WIT contract.
    pub fn all_files(&self) -> impl Iterator<Item = &(&'static str, &'static str)> {
        self.files.iter().chain(WIT.iter())
    }
}
