//! manifest.toml: schema, defaults, validation and checksum.
//!
//! Loading is two steps. [`Manifest::load`] parses and checks every rule
//! that depends only on the file; [`Manifest::check_files`] then checks what
//! depends on the disk (components, granted directories), so that
//! `corral build` can run before the components exist.

mod diagnostic;
mod diff;
mod expand;
mod schema;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

pub use diagnostic::{Diagnostic, ManifestError};
pub use diff::{Change, diff};
pub use schema::{Access, Name, Priority};

use diagnostic::Locator;
use expand::expand_path;

/// The only schema version this corral understands.
pub const SCHEMA_VERSION: i64 = 1;

const DEFAULT_MAX_CONCURRENCY: u32 = 4;
const DEFAULT_MAX_TIMEOUT_MS: u64 = 5_000;
const DEFAULT_PHASE: &str = "post_plugin";
const DEFAULT_STATE_DIR: &str = ".corral";
const DEFAULT_TIMEOUT_MS: u64 = 1_500;
const DEFAULT_FUEL: u64 = 2_000_000_000;
const DEFAULT_MEMORY_MB: u64 = 64;
/// Linear memory above this is never what a start-up task needs.
const MAX_MEMORY_MB: u64 = 4_096;
/// Retries multiply start-up work; more than this is a manifest mistake.
const MAX_RETRIES: u32 = 10;
const MAX_CONCURRENCY_LIMIT: u32 = 1_024;

/// A validated manifest with defaults applied.
#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    pub version: i64,
    pub runtime: RuntimeConfig,
    /// Concurrency classes and their caps.
    pub classes: BTreeMap<String, u32>,
    #[serde(rename = "task")]
    pub tasks: Vec<Task>,
    /// The manifest file, as given.
    #[serde(skip)]
    pub path: PathBuf,
    /// The absolute directory its relative paths (and `build` commands)
    /// start from.
    #[serde(skip)]
    pub dir: PathBuf,
}

/// The `[runtime]` table with defaults applied.
#[derive(Clone, Debug, Serialize)]
pub struct RuntimeConfig {
    pub max_concurrency: u32,
    pub max_timeout_ms: u64,
    pub phase: String,
    /// As written; see [`RuntimeConfig::state_path`] for the resolved path.
    pub state_dir: String,
    #[serde(skip)]
    pub state_path: PathBuf,
    /// Refuse to run a manifest that changed since `corral ack`.
    pub require_ack: bool,
}

/// One `[[task]]` with defaults applied and paths resolved.
#[derive(Clone, Debug, Serialize)]
pub struct Task {
    pub id: String,
    pub rationale: String,
    /// Base name of the task's segments.
    pub label: String,
    pub priority: Priority,
    /// As written; see [`Task::component_path`] for the resolved path.
    pub component: String,
    #[serde(skip)]
    pub component_path: PathBuf,
    pub sha256: Option<String>,
    pub build: Option<String>,
    pub timeout_ms: u64,
    pub fuel: u64,
    pub memory_mb: u64,
    pub retries: u32,
    pub feature_flag: Option<String>,
    pub class: Option<String>,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    #[serde(rename = "dir")]
    pub dirs: Vec<DirGrant>,
    /// Line of the task's `[[task]]` header, for later diagnostics.
    #[serde(skip)]
    pub line: usize,
}

/// One `[[task.dir]]`: a host directory visible to the guest.
#[derive(Clone, Debug, Serialize)]
pub struct DirGrant {
    /// As written; see [`DirGrant::host_path`] for the resolved path.
    pub host: String,
    #[serde(skip)]
    pub host_path: PathBuf,
    pub guest: String,
    pub mode: Access,
    #[serde(skip)]
    pub line: usize,
}

impl Task {
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

impl Manifest {
    /// Reads, parses and validates a manifest file.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Manifest::parse(path, &text)
    }

    /// Parses and validates manifest text; `path` names it in errors and
    /// anchors its relative paths.
    pub fn parse(path: &Path, text: &str) -> Result<Manifest, ManifestError> {
        let locator = Locator { file: path, text };
        let document: schema::Document = toml::from_str(text)
            .map_err(|error| ManifestError::Invalid(vec![locator.toml_error(&error)]))?;
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        // Resolved paths are absolute, so audits and errors name them fully.
        let base = std::path::absolute(parent).map_err(|source| ManifestError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut resolver = Resolver {
            locator,
            base: &base,
            diagnostics: Vec::new(),
        };
        let manifest = resolver.resolve(document, path);
        if resolver.diagnostics.is_empty() {
            Ok(manifest)
        } else {
            resolver.diagnostics.sort_by_key(|d| d.line);
            Err(ManifestError::Invalid(resolver.diagnostics))
        }
    }

    /// Checks what lives on disk: each component file and each granted
    /// host directory. A `rw` grant inside `state_dir` may be missing: it is
    /// corral's own state and is created on first run.
    pub fn check_files(&self) -> Result<(), ManifestError> {
        let mut diagnostics = Vec::new();
        let at = |line: usize, key: &str, message: String, help: &str| Diagnostic {
            file: self.path.clone(),
            line,
            key: key.to_string(),
            message,
            help: help.to_string(),
        };
        for task in &self.tasks {
            if !task.component_path.is_file() {
                diagnostics.push(at(
                    task.line,
                    "task.component",
                    format!(
                        "task {}: component {} does not exist",
                        task.id,
                        task.component_path.display()
                    ),
                    if task.build.is_some() {
                        "build it first: `corral build` or `corral run --build`"
                    } else {
                        "build the component, or fix the path (relative to the manifest)"
                    },
                ));
            }
            for dir in &task.dirs {
                if dir.host_path.is_dir() || self.is_state_grant(dir) {
                    continue;
                }
                diagnostics.push(at(
                    dir.line,
                    "task.dir.host",
                    format!(
                        "task {}: host directory {} does not exist",
                        task.id,
                        dir.host_path.display()
                    ),
                    "create the directory, or fix the path (relative to the manifest)",
                ));
            }
        }
        if diagnostics.is_empty() {
            Ok(())
        } else {
            Err(ManifestError::Invalid(diagnostics))
        }
    }

    /// Whether a grant is a `rw` directory inside corral's own state
    /// directory, which corral creates on demand.
    pub fn is_state_grant(&self, dir: &DirGrant) -> bool {
        dir.mode == Access::Rw && dir.host_path.starts_with(&self.runtime.state_path)
    }

    /// The sha256 of the canonical form: the manifest parsed, defaults
    /// applied and serialised as compact JSON with a fixed key order. Comments,
    /// whitespace, key order and spelled-out defaults do not change it; any
    /// change of meaning does.
    pub fn checksum(&self) -> String {
        hex(&Sha256::digest(self.canonical().to_string()))
    }

    /// The canonical form as a JSON value: what the checksum covers and
    /// what acknowledgements and reviews compare.
    pub fn canonical(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a manifest always serialises")
    }

    pub fn task(&self, id: &str) -> Option<&Task> {
        self.tasks.iter().find(|task| task.id == id)
    }
}

/// Lowercase hex of a digest.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Applies defaults and checks the cross-field rules, collecting every
/// problem rather than stopping at the first.
struct Resolver<'a> {
    locator: Locator<'a>,
    base: &'a Path,
    diagnostics: Vec<Diagnostic>,
}

impl Resolver<'_> {
    fn error(&mut self, span: std::ops::Range<usize>, key: &str, message: String, help: &str) {
        let diagnostic = self.locator.at(span, key, message, help);
        self.diagnostics.push(diagnostic);
    }

    fn resolve(&mut self, document: schema::Document, path: &Path) -> Manifest {
        if *document.version.get_ref() != SCHEMA_VERSION {
            self.error(
                document.version.span(),
                "version",
                format!(
                    "schema version {} is not supported",
                    document.version.get_ref()
                ),
                "set `version = 1`",
            );
        }
        let runtime = self.runtime(document.runtime);
        let classes = self.classes(document.classes);
        let defaults = document.defaults;
        let mut tasks = Vec::with_capacity(document.tasks.len());
        for table in document.tasks {
            tasks.push(self.task(table, &defaults, &runtime, &classes));
        }
        self.check_ids(&tasks);
        Manifest {
            version: *document.version.get_ref(),
            runtime,
            classes,
            tasks,
            path: path.to_path_buf(),
            dir: self.base.to_path_buf(),
        }
    }

    fn runtime(&mut self, table: schema::RuntimeTable) -> RuntimeConfig {
        let max_concurrency = self.concurrency(table.max_concurrency, "runtime.max_concurrency");
        let max_timeout_ms = match table.max_timeout_ms {
            Some(value) if *value.get_ref() == 0 => {
                self.error(
                    value.span(),
                    "runtime.max_timeout_ms",
                    "must be at least 1".into(),
                    "set a positive number of milliseconds",
                );
                DEFAULT_MAX_TIMEOUT_MS
            }
            Some(value) => value.into_inner(),
            None => DEFAULT_MAX_TIMEOUT_MS,
        };
        let phase = table.phase.map_or_else(
            || DEFAULT_PHASE.to_string(),
            |p| p.into_inner().as_str().to_string(),
        );
        let (state_dir, state_path) = match table.state_dir {
            Some(raw) => {
                let path = self.path(&raw, "runtime.state_dir");
                (raw.into_inner(), path)
            }
            None => (
                DEFAULT_STATE_DIR.to_string(),
                self.base.join(DEFAULT_STATE_DIR),
            ),
        };
        RuntimeConfig {
            max_concurrency,
            max_timeout_ms,
            phase,
            state_dir,
            state_path,
            require_ack: table.require_ack.unwrap_or(false),
        }
    }

    fn concurrency(&mut self, value: Option<Spanned<u32>>, key: &str) -> u32 {
        match value {
            Some(value) if !(1..=MAX_CONCURRENCY_LIMIT).contains(value.get_ref()) => {
                self.error(
                    value.span(),
                    key,
                    format!("{} is out of range", value.get_ref()),
                    &format!("use a value from 1 to {MAX_CONCURRENCY_LIMIT}"),
                );
                1
            }
            Some(value) => value.into_inner(),
            None => DEFAULT_MAX_CONCURRENCY,
        }
    }

    fn classes(
        &mut self,
        tables: BTreeMap<String, Spanned<schema::ClassTable>>,
    ) -> BTreeMap<String, u32> {
        let mut classes = BTreeMap::new();
        for (name, table) in tables {
            if !Name::is_valid(&name) {
                self.error(
                    table.span(),
                    "classes",
                    format!("class name {name:?} is not valid"),
                    "use only lowercase letters, digits and `_`",
                );
            }
            let cap = self.concurrency(
                Some(table.into_inner().max_concurrency),
                "classes.max_concurrency",
            );
            classes.insert(name, cap);
        }
        classes
    }

    fn path(&mut self, raw: &Spanned<String>, key: &str) -> PathBuf {
        expand_path(raw.get_ref(), self.base).unwrap_or_else(|message| {
            self.error(
                raw.span(),
                key,
                message,
                "set the variable, or write the path out",
            );
            PathBuf::from(raw.get_ref())
        })
    }

    fn budget<T: Copy + PartialOrd + std::fmt::Display>(
        &mut self,
        value: Option<Spanned<T>>,
        default: Option<Spanned<T>>,
        fallback: T,
        key: &str,
        range: std::ops::RangeInclusive<T>,
        help: &str,
    ) -> T {
        let Some(value) = value.or(default) else {
            return fallback;
        };
        if !range.contains(value.get_ref()) {
            self.error(
                value.span(),
                key,
                format!(
                    "{} is out of range ({}..={})",
                    value.get_ref(),
                    range.start(),
                    range.end()
                ),
                help,
            );
        }
        *value.get_ref()
    }

    fn task(
        &mut self,
        table: Spanned<schema::TaskTable>,
        defaults: &schema::DefaultsTable,
        runtime: &RuntimeConfig,
        classes: &BTreeMap<String, u32>,
    ) -> Task {
        let line = self.locator.line_of(table.span().start);
        let table = table.into_inner();
        let id = table.id.get_ref().as_str().to_string();

        let rationale = table.rationale.get_ref().trim().to_string();
        if rationale.is_empty() || rationale.contains('\n') {
            self.error(
                table.rationale.span(),
                "task.rationale",
                format!("task {id}: rationale must be one non-empty line"),
                "say in one line why this work runs at start-up",
            );
        }

        let timeout_ms = self.budget(
            table.timeout_ms,
            defaults.timeout_ms.clone(),
            DEFAULT_TIMEOUT_MS.min(runtime.max_timeout_ms),
            "task.timeout_ms",
            1..=runtime.max_timeout_ms,
            "keep timeout_ms at or under [runtime] max_timeout_ms, or raise the cap deliberately",
        );
        let fuel = self.budget(
            table.fuel,
            defaults.fuel.clone(),
            DEFAULT_FUEL,
            "task.fuel",
            1..=u64::MAX,
            "set a positive fuel budget",
        );
        let memory_mb = self.budget(
            table.memory_mb,
            defaults.memory_mb.clone(),
            DEFAULT_MEMORY_MB,
            "task.memory_mb",
            1..=MAX_MEMORY_MB,
            &format!("use 1 to {MAX_MEMORY_MB} MiB"),
        );
        let retries = self.budget(
            table.retries,
            defaults.retries.clone(),
            0,
            "task.retries",
            0..=MAX_RETRIES,
            &format!("use 0 to {MAX_RETRIES} retries"),
        );

        let sha256 = table.sha256.as_ref().map(|pin| {
            let pin_text = pin.get_ref().to_ascii_lowercase();
            if pin_text.len() != 64 || !pin_text.bytes().all(|b| b.is_ascii_hexdigit()) {
                self.error(
                    pin.span(),
                    "task.sha256",
                    format!("task {id}: sha256 must be 64 hex digits"),
                    "write the component's sha256 (`sha256sum FILE`), or remove the pin",
                );
            }
            pin_text
        });

        if let Some(flag) = &table.feature_flag
            && !is_env_name(flag.get_ref())
        {
            self.error(
                flag.span(),
                "task.feature_flag",
                format!("{:?} is not an environment variable name", flag.get_ref()),
                "use letters, digits and `_`, not starting with a digit",
            );
        }
        if let Some(class) = &table.class
            && !classes.contains_key(class.get_ref())
        {
            self.error(
                class.span(),
                "task.class",
                format!("task {id}: class {:?} is not defined", class.get_ref()),
                "define it under [classes.NAME], or remove `class`",
            );
        }

        let env = table.env.map(|env| {
            let span = env.span();
            let env = env.into_inner();
            for (key, value) in &env {
                if !is_env_name(key) || value.contains('\0') {
                    self.error(
                        span.clone(),
                        "task.env",
                        format!("task {id}: environment entry {key:?} is not valid"),
                        "names use letters, digits and `_`; values contain no NUL",
                    );
                }
            }
            env
        });

        let component_path = self.path(&table.component, "task.component");
        let dirs = self.dirs(&id, table.dirs);

        Task {
            label: table
                .label
                .map_or_else(|| id.clone(), |l| l.get_ref().as_str().to_string()),
            id,
            rationale,
            priority: table
                .priority
                .or(defaults.priority)
                .unwrap_or(Priority::Normal),
            component: table.component.into_inner(),
            component_path,
            sha256,
            build: table.build,
            timeout_ms,
            fuel,
            memory_mb,
            retries,
            feature_flag: table.feature_flag.map(Spanned::into_inner),
            class: table.class.map(Spanned::into_inner),
            args: table.args,
            env: env.unwrap_or_default(),
            dirs,
            line,
        }
    }

    fn dirs(&mut self, id: &str, tables: Vec<Spanned<schema::DirTable>>) -> Vec<DirGrant> {
        let mut seen = HashMap::new();
        let mut dirs = Vec::with_capacity(tables.len());
        for table in tables {
            let line = self.locator.line_of(table.span().start);
            let table = table.into_inner();
            let guest = table.guest.get_ref().clone();
            if !is_guest_path(&guest) {
                self.error(
                    table.guest.span(),
                    "task.dir.guest",
                    format!("task {id}: guest path {guest:?} is not valid"),
                    "use an absolute path such as \"/data\", without `.` or `..` parts",
                );
            } else if let Some(first) = seen.insert(guest.clone(), line) {
                self.error(
                    table.guest.span(),
                    "task.dir.guest",
                    format!(
                        "task {id}: guest path {guest} is granted twice (first on line {first})"
                    ),
                    "give each grant its own guest path",
                );
            }
            let host_path = self.path(&table.host, "task.dir.host");
            dirs.push(DirGrant {
                host: table.host.into_inner(),
                host_path,
                guest,
                mode: table.mode,
                line,
            });
        }
        dirs
    }

    /// Ids (and labels, which name segments) must be unique, and ids sorted
    /// so that a review diff of the manifest stays readable.
    fn check_ids(&mut self, tasks: &[Task]) {
        let mut seen_ids: HashMap<&str, usize> = HashMap::new();
        let mut seen_labels: HashMap<&str, usize> = HashMap::new();
        for pair in tasks.windows(2) {
            if pair[0].id > pair[1].id {
                let diagnostic = Diagnostic {
                    file: self.locator.file.to_path_buf(),
                    line: pair[1].line,
                    key: "task.id".into(),
                    message: format!(
                        "task {} comes after {}: tasks must be sorted by id",
                        pair[1].id, pair[0].id
                    ),
                    help: "move this [[task]] so that ids are in ascending order".into(),
                };
                self.diagnostics.push(diagnostic);
            }
        }
        for task in tasks {
            let duplicate = match seen_ids.insert(&task.id, task.line) {
                Some(first) => Some(("task.id", &task.id, first)),
                None => seen_labels
                    .insert(&task.label, task.line)
                    .map(|first| ("task.label", &task.label, first)),
            };
            if let Some((key, value, first)) = duplicate {
                self.diagnostics.push(Diagnostic {
                    file: self.locator.file.to_path_buf(),
                    line: task.line,
                    key: key.into(),
                    message: format!("{value:?} is used twice (first on line {first})"),
                    help: "give every task a unique id and label".into(),
                });
            }
        }
    }
}

fn is_env_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn is_guest_path(path: &str) -> bool {
    path.starts_with('/')
        && path.len() > 1
        && path[1..]
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}
