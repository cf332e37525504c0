//! `corral new NAME --lang rust|python|js`: a task directory from a
//! template beside the manifest, and its `[[task]]` entry added to the
//! manifest in id order, keeping every comment and the layout (toml_edit).
//! Nothing is overwritten, and a manifest that would not validate
//! afterwards is left as it was.

use std::path::Path;

use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, value};

use super::exit::{CliError, Exit};
use super::templates::{Lang, Template, fill, template};
use crate::fs::durable::write_atomically;
use crate::manifest::{Manifest, Name};

/// The guest path of the placeholder grant, and the task's one argument.
const GUEST_DATA: &str = "/data";

pub fn new(manifest_path: &Path, name: &str, lang: Lang) -> Result<Exit, CliError> {
    let Some(id) = Name::parse(name) else {
        return Err(CliError::Usage(format!(
            "{name:?} is not a task id\n  help: use 1 to 64 lowercase letters, digits and `_`"
        )));
    };
    let manifest = Manifest::load(manifest_path)?;
    if manifest.task(&id).is_some() {
        return Err(CliError::Usage(format!(
            "the manifest already has a task {id}\n  help: choose another name"
        )));
    }
    let dir = manifest.dir.join(id.as_str());
    if dir.exists() {
        return Err(CliError::Usage(format!(
            "{} already exists; corral new never overwrites\n  help: choose another name, or move it away",
            dir.display()
        )));
    }
    let template = template(lang);
    let text = std::fs::read_to_string(&manifest.path).map_err(|error| {
        CliError::internal(format!("cannot read {}", manifest.path.display()), error)
    })?;
    let edited = with_task(&text, &id, &template, manifest.runtime.max_timeout_ms)?;
    // Check the result before writing anything.
    Manifest::parse(&manifest.path, &edited)?;

    write_files(&dir, &id, &template)
        .map_err(|error| CliError::internal(format!("cannot write {}", dir.display()), error))?;
    // A manifest that is a link (to a dotfiles checkout) is edited in place.
    let target = std::fs::canonicalize(&manifest.path).unwrap_or_else(|_| manifest.path.clone());
    write_atomically(&target, edited.as_bytes())
        .map_err(|error| CliError::internal(format!("cannot write {}", target.display()), error))?;
    print_next_steps(&manifest, &id, lang, &template);
    Ok(Exit::Success)
}

/// The task's files, and a sample file in its placeholder grant.
fn write_files(dir: &Path, id: &Name, template: &Template) -> std::io::Result<()> {
    std::fs::create_dir(dir)?;
    for (path, text) in template.all_files() {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, fill(text, id))?;
    }
    let data = dir.join("data");
    std::fs::create_dir(&data)?;
    std::fs::write(
        data.join("sample.txt"),
        "A file for the template to read: replace the grant with the real directory.\n",
    )
}

/// The manifest text with the new `[[task]]` (and its grant) inserted
/// where its id sorts.
fn with_task(
    text: &str,
    id: &Name,
    template: &Template,
    max_timeout_ms: u64,
) -> Result<String, CliError> {
    let mut document: DocumentMut = text
        .parse()
        .map_err(|error| CliError::Usage(format!("cannot edit the manifest: {error}")))?;
    let mut task = Table::new();
    task["id"] = value(id.as_str());
    task["rationale"] = value(format!(
        "TODO: say in one line why {id} runs at shell start-up (written by corral new)."
    ));
    task["component"] = value(format!("{id}/{id}.wasm"));
    task["build"] = value(fill(template.build.trim(), id));
    task["timeout_ms"] = value(template.timeout_ms.min(max_timeout_ms) as i64);
    task["fuel"] = value(template.fuel as i64);
    task["memory_mb"] = value(template.memory_mb as i64);
    task["args"] = value(Array::from_iter([GUEST_DATA]));
    let mut grant = Table::new();
    grant["host"] = value(format!("{id}/data"));
    grant["guest"] = value(GUEST_DATA);
    grant["mode"] = value("ro");
    let mut grants = ArrayOfTables::new();
    grants.push(grant);
    task["dir"] = Item::ArrayOfTables(grants);

    let tasks = document
        .entry("task")
        .or_insert(Item::ArrayOfTables(ArrayOfTables::new()))
        .as_array_of_tables_mut()
        .ok_or_else(|| CliError::Usage("`task` in the manifest is not a [[task]] list".into()))?;
    let index = tasks
        .iter()
        .position(|other| {
            other
                .get("id")
                .and_then(Item::as_str)
                .is_some_and(|other| other > id.as_str())
        })
        .unwrap_or(tasks.len());
    // Tables are written in document position; take the next task's, so the
    // new one lands just before it (ties keep list order).
    if let Some(next) = tasks.get(index) {
        task.set_position(next.position());
    }
    tasks.insert(index, task);
    Ok(document.to_string())
}

fn print_next_steps(manifest: &Manifest, id: &Name, lang: Lang, template: &Template) {
    let files: Vec<&str> = template.all_files().map(|(path, _)| *path).collect();
    let first_compile = match lang {
        Lang::Rust => "well under a second",
        Lang::Python => "about 10 s for its 18 MB",
        Lang::Js => "about a second",
    };
    eprintln!(
        "corral: created {id}/ ({}, data/sample.txt) and task {id} in {}",
        files.join(", "),
        manifest.path.display()
    );
    eprintln!("next steps, from {}:", manifest.dir.display());
    eprintln!("  1. install the tools once: {}", template.tools);
    eprintln!(
        "  2. corral build --only {id}   builds {id}/{id}.wasm and compiles it into the cache (first compile: {first_compile})"
    );
    eprintln!("  3. corral run --only {id} && corral result {id}");
    eprintln!(
        "  4. edit the rationale, the budgets and the [[task.dir]] grant (now {id}/data, read-only)"
    );
    eprintln!(
        "  5. corral lock   pins the component's sha256; run it after every build (Python and JS builds are not byte-identical)"
    );
}
