//! A capture as a table for people: one row per task and one for the
//! run, then findings and notes.

use std::fmt::Write as _;

use super::capture::Capture;
use super::figures::TaskFigures;

/// The capture as text, ending in a newline.
pub fn render(capture: &Capture) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "corral bench: {} samples in shadow mode, {} trimmed at each end; max_rel_stddev {}; mode {}",
        capture.samples, capture.trim, capture.max_rel_stddev, capture.mode
    );
    let _ = writeln!(
        out,
        "{:<24} {:>10} {:>7} {:>22}  {:<26} verdict",
        "task", "median ms", "rel sd", "fuel", "budget"
    );
    for task in &capture.tasks {
        let _ = writeln!(
            out,
            "{:<24} {:>10.2} {:>7.2} {:>22}  {:<26} {}",
            task.id,
            task.ms.median,
            task.ms.rel_stddev,
            fuel(task.fuel, task.fuel_identical),
            budget(task),
            verdict(task)
        );
    }
    let run = &capture.run;
    let _ = writeln!(
        out,
        "{:<24} {:>10.2} {:>7.2} {:>22}  {:<26} {}",
        "run (wall)",
        run.wall_ms.median,
        run.wall_ms.rel_stddev,
        fuel(Some(run.fuel_total), run.fuel_identical),
        "",
        if run.unterminated == 0 {
            "all tasks ended".to_string()
        } else {
            format!("{} unterminated", run.unterminated)
        }
    );
    for finding in &capture.findings {
        let _ = writeln!(out, "{finding}");
    }
    for note in &capture.notes {
        let _ = writeln!(out, "note: {note}");
    }
    let _ = writeln!(out, "outcome: {}", capture.outcome.as_str());
    out
}

/// Fuel, marked `same` when every sample took exactly as much.
fn fuel(fuel: Option<u64>, identical: bool) -> String {
    match fuel {
        None => "-".into(),
        Some(fuel) if identical => format!("{fuel} same"),
        Some(fuel) => format!("{fuel} varies"),
    }
}

fn budget(task: &TaskFigures) -> String {
    let parts: Vec<String> = [
        task.budget_ms.map(|ms| format!("ms<={ms}")),
        task.budget_fuel.map(|fuel| format!("fuel<={fuel}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    match parts.is_empty() {
        true => "-".into(),
        false => parts.join(" "),
    }
}

fn verdict(task: &TaskFigures) -> String {
    let budget = task.budget.map(|verdict| verdict.as_str());
    match (task.failed, budget) {
        (0, Some(verdict)) => verdict.into(),
        (0, None) => "-".into(),
        (failed, _) => format!("failed {failed}x"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::PerfPolicy;
    use crate::perf::capture::tests::{sample, tasks};

    #[test]
    fn one_row_per_task_then_the_run_and_findings() {
        let samples = vec![sample((30.0, Some(190)), (1.0, None)); 5];
        let text = render(&Capture::new(&PerfPolicy::default(), &tasks(), &samples));
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("corral bench: 5 samples in shadow mode"));
        assert!(lines[2].starts_with("a "), "{text}");
        assert!(lines[2].contains("190 same") && lines[2].contains("fuel<=100"));
        assert!(lines[2].ends_with(" over"), "{text}");
        assert!(lines[3].ends_with(" failed 5x"), "{text}");
        assert!(lines[4].starts_with("run (wall)"));
        assert!(text.contains("failed: b: failed in 5 of 5 samples\n"));
        assert!(text.contains("over budget: a: fuel 190 > budget_fuel 100\n"));
        assert!(text.ends_with("outcome: fail\n"));
    }
}
