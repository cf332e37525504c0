//! `{{name}}`: a corral task. Args: `[DIR]`, a directory granted with
//! `[[task.dir]]` at guest path DIR. Result: `files=<n> first=<name> bytes=<m>`,
//! the number of regular files in DIR, the first by name and its size.

use std::fs;
use std::io::ErrorKind;

use corral::task::host::{Level, log, segment_end, segment_start};

wit_bindgen::generate!({ path: "wit", world: "task" });

struct Component;

impl Guest for Component {
    fn run(call: Invocation) -> Result<String, Failure> {
        // InvalidInput is never retried: use it for what a retry cannot fix.
        let dir = match call.args.first().map(String::as_str) {
            None | Some("--invalid") => {
                return Err(Failure::InvalidInput(format!(
                    "expected args [DIR] (a granted guest directory), got {:?}",
                    call.args
                )));
            }
            Some(dir) => dir,
        };

        segment_start("scan");
        let scanned = scan(dir);
        segment_end("scan");
        let (files, first, bytes) = scanned?;

        log(Level::Info, &format!("{dir}: {files} files"));
        Ok(format!("files={files} first={first} bytes={bytes}"))
    }
}

export!(Component);

/// Counts the regular files in `dir` and reads the first one by name.
fn scan(dir: &str) -> Result<(usize, String, usize), Failure> {
    // std sees only the granted directories, at their guest paths.
    let entries = fs::read_dir(dir).map_err(|e| match e.kind() {
        ErrorKind::NotFound | ErrorKind::NotADirectory | ErrorKind::PermissionDenied => {
            Failure::InvalidInput(format!("{dir} is not a granted directory: {e}"))
        }
        _ => Failure::Error(format!("{dir}: {e}")),
    })?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Failure::Error(format!("{dir}: {e}")))?;
        if entry.file_type().is_ok_and(|kind| kind.is_file()) {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    let Some(first) = names.first() else {
        return Ok((0, "-".to_owned(), 0));
    };
    let path = format!("{}/{first}", dir.trim_end_matches('/'));
    let bytes = fs::read(&path).map_err(|e| Failure::Error(format!("{path}: {e}")))?;
    Ok((names.len(), first.clone(), bytes.len()))
}
