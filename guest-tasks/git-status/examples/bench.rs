//! Times the native core against `git status --porcelain=v2 --branch` on an
//! existing work tree: `cargo run --release --example bench -- PATH [RUNS]`.
//!
//! git refreshes the index as it goes and we never write it, so git runs
//! first: both sides then see the same stat data, as at a steady prompt.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use git_status::{Observer, Options, Silent};

/// Prints each sub-segment's duration, as the host would record it.
#[derive(Default)]
struct Timings(Vec<(String, Instant)>);

impl Observer for Timings {
    fn segment_start(&mut self, name: &str) {
        self.0.push((name.to_owned(), Instant::now()));
    }
    fn segment_end(&mut self, name: &str) {
        let (start_name, start) = self.0.pop().expect("balanced segments");
        assert_eq!(start_name, name);
        println!("    {name}: {:?}", start.elapsed());
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(args.next().expect("usage: bench PATH [RUNS]"));
    let runs: usize = args
        .next()
        .map_or(10, |n| n.parse().expect("RUNS is a number"));

    let git = || {
        let out = Command::new("git")
            .current_dir(&path)
            .args(["status", "--porcelain=v2", "--branch", "--show-stash"])
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .expect("run git");
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let porcelain = git();
    for options in [
        Options::default(),
        Options {
            limited_metadata: true,
            ..Options::default()
        },
    ] {
        let ours = || git_status::status(&path, &options, &mut Silent).expect("status");
        println!(
            "ours (limited_metadata={}): {}",
            options.limited_metadata,
            ours()
        );
        println!("  median {:?}", median(runs, || drop(ours())));
        println!("  one run by segment:");
        git_status::status(&path, &options, &mut Timings::default()).expect("status");
    }
    let lines = porcelain.lines().filter(|l| !l.starts_with('#')).count();
    println!("git: {lines} non-header porcelain lines");
    println!("  median {:?}", median(runs, || drop(git())));
}

fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}
