//! From the TOML schema to the [`Manifest`]: defaults applied, paths
//! resolved, and every cross-field rule checked, collecting every problem
//! rather than stopping at the first.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::diagnostic::{Diagnostic, Locator};
use super::expand::expand_path;
use super::model::{Manifest, RuntimeConfig, Task};
use super::names::{Name, Pin};
use super::schema::{self, Priority};

mod grants;

/// The only schema version this corral understands.
const SCHEMA_VERSION: i64 = 1;

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

/// Applies defaults and checks the cross-field rules, collecting every
/// problem rather than stopping at the first.
pub(super) struct Resolver<'a> {
    pub locator: Locator<'a>,
    pub base: &'a Path,
    pub diagnostics: Vec<Diagnostic>,
}

impl Resolver<'_> {
    pub(super) fn error(
        &mut self,
        span: std::ops::Range<usize>,
        key: &str,
        message: String,
        help: &str,
    ) {
        let diagnostic = self.locator.at(span, key, message, help);
        self.diagnostics.push(diagnostic);
    }

    pub fn resolve(&mut self, document: schema::Document, path: &Path) -> Manifest {
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
        let perf = self.perf(document.perf);
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
            perf,
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
            || Name::parse(DEFAULT_PHASE).expect("the default phase is a valid name"),
            Spanned::into_inner,
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
    ) -> BTreeMap<Name, u32> {
        let mut classes = BTreeMap::new();
        for (name, table) in tables {
            let span = table.span();
            let cap = self.concurrency(
                Some(table.into_inner().max_concurrency),
                "classes.max_concurrency",
            );
            match Name::parse(&name) {
                Some(name) => {
                    classes.insert(name, cap);
                }
                None => self.error(
                    span,
                    "classes",
                    format!("class name {name:?} is not valid"),
                    "use only lowercase letters, digits and `_`",
                ),
            }
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
        classes: &BTreeMap<Name, u32>,
    ) -> Task {
        let line = self.locator.line_of(table.span().start);
        let table = table.into_inner();
        let id = table.id.get_ref().clone();

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

        let budget_ms = self.optional_budget(
            table.budget_ms,
            timeout_ms,
            "task.budget_ms",
            "keep budget_ms at or under the task's timeout_ms",
        );
        let budget_fuel = self.optional_budget(
            table.budget_fuel,
            fuel,
            "task.budget_fuel",
            "keep budget_fuel at or under the task's fuel",
        );

        let sha256 = table.sha256.as_ref().and_then(|pin| {
            let parsed = Pin::parse(pin.get_ref());
            if parsed.is_none() {
                self.error(
                    pin.span(),
                    "task.sha256",
                    format!("task {id}: sha256 must be 64 hex digits"),
                    "write the component's sha256 (`sha256sum FILE`), or remove the pin",
                );
            }
            parsed
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
            && !classes.contains_key(class.get_ref().as_str())
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
        let files = self.files(&id, table.files, &dirs);

        Task {
            label: table.label.map_or_else(|| id.clone(), Spanned::into_inner),
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
            budget_ms,
            budget_fuel,
            feature_flag: table.feature_flag.map(Spanned::into_inner),
            class: table.class.and_then(|class| Name::parse(class.get_ref())),
            context: table.context,
            repo: None,
            implicit_grants: Vec::new(),
            reuse: table.reuse.unwrap_or(false),
            args: table.args,
            env: env.unwrap_or_default(),
            dirs,
            files,
            line,
        }
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
                Some(first) => Some(("task.id", task.id.as_str(), first)),
                None => seen_labels
                    .insert(&task.label, task.line)
                    .map(|first| ("task.label", task.label.as_str(), first)),
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
