//! `theme_palette`: converts a prompt theme's truecolor roles to xterm-256
//! colour indices.
//!
//! On a 256-colour terminal a prompt needs `%F{n}`, and finding the nearest
//! palette entry for every role at every start-up is wasted work on the
//! critical path. It is cosmetic, so a shell defers it: the first prompt uses
//! defaults and later prompts pick up the cached indices.
//!
//! Args: `[THEME_FILE]`, lines of `role = #rrggbb`.
//! Result: `role=index` pairs separated by spaces, in file order.

mod theme;
mod xterm;

use std::fs;
use std::io::ErrorKind;

use corral::task::host::{Level, log, segment_end, segment_start};

wit_bindgen::generate!({ path: "../../wit", world: "task" });

struct Component;

impl Guest for Component {
    fn run(call: Invocation) -> Result<String, Failure> {
        let [path] = call.args.as_slice() else {
            return Err(Failure::InvalidInput(format!(
                "expected args [THEME_FILE], got {:?}",
                call.args
            )));
        };

        segment_start("parse");
        let parsed = read_theme(path).and_then(|text| {
            theme::parse(&text).map_err(|why| Failure::InvalidInput(format!("{path}: {why}")))
        });
        segment_end("parse");
        let entries = parsed?;

        segment_start("convert");
        let pairs: Vec<String> = entries
            .iter()
            .map(|e| format!("{}={}", e.role, xterm::nearest(e.color)))
            .collect();
        segment_end("convert");

        log(
            Level::Info,
            &format!("mapped {} roles from {path} to xterm-256", pairs.len()),
        );
        Ok(pairs.join(" "))
    }
}

export!(Component);

/// A missing or non-UTF-8 theme is a configuration mistake, not worth a retry.
fn read_theme(path: &str) -> Result<String, Failure> {
    fs::read_to_string(path).map_err(|e| {
        let message = format!("{path}: {e}");
        if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::InvalidData) {
            Failure::InvalidInput(message)
        } else {
            Failure::Error(message)
        }
    })
}
