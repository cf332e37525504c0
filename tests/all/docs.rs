//! The documentation cannot drift from the encoder: every event example
//! (the ```events blocks of README.md and docs/) is read by corral's own
//! decoder and written back by its encoder to the same line, and a block
//! with a `PERF_GUARD` adds up: its done count and fuel total are those of
//! the block's `_done` lines.

use std::path::{Path, PathBuf};

use corral::{Decoder, Event, Mode, RunTags};

/// README.md and every Markdown file under docs/.
fn documents() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "md") {
            files.push(path);
        }
    }
    files
}

/// A document's ```events blocks, each as its lines.
fn event_blocks(text: &str) -> Vec<Vec<&str>> {
    text.split("```events\n")
        .skip(1)
        .filter_map(|rest| rest.split_once("```").map(|(block, _)| block))
        .map(|block| {
            block
                .lines()
                .filter(|line| !line.trim().is_empty())
                .collect()
        })
        .collect()
}

/// The run tags a line carries (`phase=`, `sample=`; JSON `phase`,
/// `sample`), as the encoder would have been given them.
fn tags_of(line: &str) -> RunTags {
    let (phase, sample) = match serde_json::from_str::<serde_json::Value>(line) {
        Ok(json) => (
            json["phase"].as_str().unwrap_or_default().to_string(),
            json["sample"].as_str().unwrap_or("on").to_string(),
        ),
        Err(_) => {
            let field = |key: &str| {
                line.split(' ')
                    .find_map(|word| word.strip_prefix(&format!("{key}=")))
                    .unwrap_or_default()
                    .to_string()
            };
            (field("phase"), field("sample"))
        }
    };
    let mode = match sample.as_str() {
        "shadow" => Mode::Shadow,
        "off" => Mode::Off,
        _ => Mode::On,
    };
    RunTags { phase, mode }
}

#[test]
fn every_event_example_in_the_docs_is_what_the_encoder_writes() {
    let mut checked = 0;
    for document in documents() {
        let text = std::fs::read_to_string(&document).unwrap();
        for block in event_blocks(&text) {
            let mut decoder = Decoder::default();
            let (mut done, mut fuel, mut summary) = (0, 0, None);
            for line in block {
                let place = format!("{}: {line}", document.display());
                let event = decoder
                    .decode(line)
                    .unwrap_or_else(|error| panic!("{place}: {error}"))
                    .unwrap_or_else(|| panic!("{place}: not an event line"));
                let tags = tags_of(line);
                match serde_json::from_str::<serde_json::Value>(line) {
                    Ok(json) => assert_eq!(event.to_json(&tags), json, "{place}"),
                    Err(_) => assert_eq!(event.to_segment_line(&tags), line, "{place}"),
                }
                match event {
                    Event::TaskDone { fuel: task, .. } => (done, fuel) = (done + 1, fuel + task),
                    Event::Summary(totals) => summary = Some((totals, place)),
                    _ => {}
                }
                checked += 1;
            }
            if let Some((totals, place)) = summary {
                assert_eq!((totals.done, totals.fuel_total), (done, fuel), "{place}");
            }
        }
    }
    assert!(checked >= 20, "only {checked} example lines found");
}
