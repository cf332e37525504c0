//! `corral:task/files` answers what the native tools say (`stat`, `find`,
//! `sha256sum`, `git hash-object`), only through the task's own grants,
//! never through a symlink, within its fuel; and a component built against
//! `corral:task@0.1.0` still runs.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Fixture, artifacts, grant, guest_task};

/// Runs the files probe with `args` over `dir` granted read-only at `/d`;
/// returns its result, one line per answer.
fn probe(fixture: &Fixture, dir: &Path, args: &[&str], extra: &str) -> String {
    fixture.manifest(&guest_task(
        artifacts::CORRAL_FILES_PROBE,
        "files",
        args,
        &format!("{extra}{}", grant(dir, "/d", "ro")),
    ));
    let run = fixture.corral(&["run"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    fixture.corral(&["result", "files"]).stdout
}

/// `NAME rest` lines as a map.
fn by_name(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(|line| {
            let (name, rest) = line.split_once(' ').unwrap();
            (name.to_string(), rest.to_string())
        })
        .collect()
}

fn tool(program: &str, args: &[&str], dir: &Path) -> String {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "{program} {args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// What coreutils' `stat` says, in the probe's field order (type, mode in
/// octal, size, mtime, ctime, ino, dev, uid, gid, nlink).
fn native_stat(dir: &Path, name: &str) -> String {
    let out = tool(
        "stat",
        &["--format=%F %a %s %.9Y %.9Z %i %d %u %g %h", "--", name],
        dir,
    );
    let kind = |word: &str| match word {
        "regular" => "RegularFile",
        "directory" => "Directory",
        "symbolic" => "SymbolicLink",
        "fifo" => "Fifo",
        other => panic!("type {other}"),
    };
    // `%F` is one or two words ("regular file", "directory").
    let out = out
        .trim()
        .replacen("regular file", "regular", 1)
        .replacen("regular empty file", "regular", 1)
        .replacen("symbolic link", "symbolic", 1);
    let mut words = out.split(' ');
    let kind = kind(words.next().unwrap());
    let rest: Vec<&str> = words.collect();
    format!("DescriptorType::{kind} {}", rest.join(" "))
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

#[test]
fn stat_names_equals_coreutils_stat_field_by_field() {
    let fixture = Fixture::new();
    let dir = fixture.mkdir("tree");
    fixture.write("tree/script", "#!/bin/sh\n");
    std::fs::set_permissions(dir.join("script"), std::fs::Permissions::from_mode(0o4751)).unwrap();
    fixture.write("tree/empty", "");
    fixture.mkdir("tree/sub");
    std::os::unix::fs::symlink("/etc/passwd", dir.join("link")).unwrap();
    std::fs::hard_link(dir.join("script"), dir.join("hard")).unwrap();
    mkfifo(&dir.join("fifo"));
    let names = ["script", "empty", "sub", "link", "hard", "fifo"];
    let mut args = vec!["stat", "/d"];
    args.extend(names);
    args.extend(["missing", "..", "sub/x", "link/x", "sub//x", "."]);
    let answers = by_name(&probe(&fixture, &dir, &args, ""));
    for name in names {
        let ours = format!("{name} {}", answers[name]);
        let ours = ours.split_once(' ').unwrap().1;
        // The probe prints the mode in octal and times as s.nnnnnnnnn.
        let ours: Vec<&str> = ours.split(' ').collect();
        let native = native_stat(&dir, name);
        let native: Vec<&str> = native.split(' ').collect();
        assert_eq!(ours, native, "{name}");
    }
    // A symlink is reported, never followed: not /etc/passwd's inode.
    let passwd = std::fs::metadata("/etc/passwd").unwrap();
    assert!(!answers["link"].contains(&format!(" {} ", passwd.ino())));
    assert_eq!(answers["missing"], "error=no-entry");
    assert_eq!(answers["sub/x"], "error=no-entry");
    // A symlink where a directory should be is not followed.
    assert_eq!(answers["link/x"], "error=not-directory");
    for bad in ["..", "sub//x", "."] {
        assert_eq!(answers[bad], "error=invalid", "{bad}");
    }
}

/// The unpacked sources of a crate this workspace builds: a real tree no
/// one here wrote.
fn registry_crate() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"));
    let src = home.join("registry/src");
    std::fs::read_dir(&src)
        .unwrap()
        .map(|index| index.unwrap().path().join("gix-0.90.0/src"))
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| panic!("gix 0.90.0's sources under {}", src.display()))
}

#[test]
fn list_dir_equals_find_on_a_crate_source_tree() {
    let fixture = Fixture::new();
    let dir = registry_crate();
    let ours = by_name(&probe(&fixture, &dir, &["list", "/d"], ""));
    let found = tool(
        "find",
        &[
            ".",
            "-mindepth",
            "1",
            "-maxdepth",
            "1",
            "-printf",
            "%f %s %i %n\n",
        ],
        &dir,
    );
    let found = by_name(&found);
    assert!(found.len() > 20, "{found:?}");
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        found.keys().collect::<Vec<_>>()
    );
    for (name, native) in &found {
        let [size, ino, nlink] = native.split(' ').collect::<Vec<_>>()[..] else {
            panic!("{native}")
        };
        let fields: Vec<&str> = ours[name].split(' ').collect();
        // type mode size mtime ctime ino dev uid gid nlink
        let is_dir = fields[0] == "DescriptorType::Directory";
        if !is_dir {
            assert_eq!(fields[2], size, "{name}");
        }
        assert_eq!((fields[5], fields[9]), (ino, nlink), "{name}");
    }
}

#[test]
fn digests_equal_sha256sum_and_git_hash_object() {
    let fixture = Fixture::new();
    let dir = registry_crate();
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_type().unwrap().is_file())
        .map(|entry| entry.file_name().into_string().unwrap())
        .collect();
    assert!(names.len() > 5);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let ask = |algorithm: &str| {
        let mut args = vec!["digest", algorithm, "/d"];
        args.extend(&names);
        by_name(&probe(&fixture, &dir, &args, ""))
    };
    let mut sums = vec!["--"];
    sums.extend(&names);
    let native = by_name(
        &tool("sha256sum", &sums, &dir)
            .lines()
            .map(|line| {
                let (sum, name) = line.split_once("  ").unwrap();
                format!("{name} {sum}\n")
            })
            .collect::<String>(),
    );
    assert_eq!(ask("sha256"), native);
    let ours = ask("git-blob-sha1");
    for name in &names {
        let id = tool("git", &["hash-object", "--no-filters", "--", name], &dir);
        assert_eq!(ours[*name], id.trim(), "{name}");
    }
    // `digest` of a file the guest opened itself gives the same.
    let opened = probe(
        &fixture,
        &dir,
        &["digest-open", "git-blob-sha1", "/d", names[0]],
        "",
    );
    assert_eq!(opened, format!("{} {}\n", names[0], ours[names[0]]));
}

#[test]
fn digests_refuse_symlinks_fifos_and_directories_without_blocking() {
    let fixture = Fixture::new();
    let dir = fixture.mkdir("tree");
    fixture.write("tree/file", "x");
    std::os::unix::fs::symlink("file", dir.join("link")).unwrap();
    mkfifo(&dir.join("fifo"));
    fixture.mkdir("tree/sub");
    let answers = by_name(&probe(
        &fixture,
        &dir,
        &[
            "digest",
            "sha256",
            "/d",
            "file",
            "link",
            "fifo",
            "sub",
            "../tree/file",
        ],
        "timeout_ms = 5000\n",
    ));
    assert_eq!(
        answers["file"],
        tool("sha256sum", &["file"], &dir)
            .split(' ')
            .next()
            .unwrap()
    );
    for refused in ["link", "fifo", "sub", "../tree/file"] {
        assert_eq!(answers[refused], "error=invalid", "{refused}");
    }
}

#[test]
fn hashing_is_charged_as_fuel_and_cannot_outrun_it() {
    let _cpu = crate::support::cpu_bound();
    let fixture = Fixture::new();
    let dir = fixture.mkdir("tree");
    fixture.write("tree/big", vec![7u8; 32 << 20]);
    let digest = |fuel: u64| {
        fixture.manifest(&guest_task(
            artifacts::CORRAL_FILES_PROBE,
            "files",
            &["digest", "sha256", "/d", "big"],
            &format!(
                "fuel = {fuel}\ntimeout_ms = 5000\n{}",
                grant(&dir, "/d", "ro")
            ),
        ));
        fixture.corral(&["run"])
    };
    // Plenty: done, and the 32 MiB it hashed are in its fuel.
    let run = digest(1_000_000_000);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let fuel: u64 = run.assert_done("files").field("fuel").parse().unwrap();
    assert!(fuel >= 32 << 20, "fuel={fuel}");
    // Less fuel than bytes: the file is not hashed, the task runs out.
    let run = digest(10_000_000);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    run.assert_failed("files", "fuel");
}

#[test]
fn a_component_built_against_0_1_0_runs_unchanged() {
    let fixture = Fixture::new();
    fixture.manifest(&guest_task(
        artifacts::CORRAL_CONTRACT_0_1_0,
        "legacy",
        &["a", "b"],
        "",
    ));
    let run = fixture.corral(&["run"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.has_segment("async_task_legacy_legacy"),
        "{}",
        run.stderr
    );
    assert_eq!(
        fixture.corral(&["result", "legacy"]).stdout,
        "0.1.0 guest ran legacy a b\n"
    );
    // It really imports the 0.1.0 names, which the host links by semver.
    let wasm = std::fs::read(artifacts::CORRAL_CONTRACT_0_1_0).unwrap();
    let needle = b"corral:task/host@0.1.0";
    assert!(wasm.windows(needle.len()).any(|w| w == needle));
}

#[test]
fn walk_tree_equals_find_on_a_crate_source_tree_field_by_field() {
    let fixture = Fixture::new();
    let dir = registry_crate();
    let ours = probe(&fixture, &dir, &["tree", "/d"], "");
    // Sorted by path as bytes, as `sort` in the C locale sorts.
    let found = tool(
        "sh",
        &[
            "-c",
            "find . -mindepth 1 -printf '%P %y %m %s %i %n\\n' | LC_ALL=C sort",
        ],
        &dir,
    );
    let paths = |text: &str| -> Vec<String> {
        text.lines()
            .map(|line| line.split_once(' ').unwrap().0.to_string())
            .collect()
    };
    assert!(found.lines().count() > 50, "{found}");
    assert_eq!(paths(&ours), paths(&found));
    for (line, native) in ours.lines().zip(found.lines()) {
        let fields: Vec<&str> = line.split(' ').collect();
        let [path, kind, mode, size, ino, nlink] = native.split(' ').collect::<Vec<_>>()[..] else {
            panic!("{native}")
        };
        // path type mode size mtime ctime ino dev uid gid nlink
        let kind = match kind {
            "f" => "DescriptorType::RegularFile",
            "d" => "DescriptorType::Directory",
            "l" => "DescriptorType::SymbolicLink",
            other => panic!("{path}: type {other}"),
        };
        assert_eq!((fields[1], fields[2]), (kind, mode), "{path}");
        if kind != "DescriptorType::Directory" {
            assert_eq!(fields[3], size, "{path}");
        }
        assert_eq!((fields[6], fields[10]), (ino, nlink), "{path}");
        // The full stat, mtime and ctime included, is `stat-names`'s own.
        assert_eq!(
            line,
            format!("{path} {}", native_stat(&dir, path)),
            "{path}"
        );
    }
}

#[test]
fn walk_tree_lists_symlinks_without_following_them_and_enters_what_it_is_told() {
    let fixture = Fixture::new();
    let outside = fixture.mkdir("outside");
    std::fs::write(outside.join("secret"), "not granted").unwrap();
    let dir = fixture.mkdir("tree");
    std::fs::write(dir.join("a.txt"), "a").unwrap();
    std::fs::create_dir_all(dir.join("keep/deep")).unwrap();
    std::fs::write(dir.join("keep/deep/f"), "f").unwrap();
    std::fs::create_dir(dir.join("pruned")).unwrap();
    std::fs::write(dir.join("pruned/hidden"), "h").unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("link")).unwrap();
    mkfifo(&dir.join("fifo"));
    let listed = |descend: &[&str]| -> Vec<String> {
        let args = [&["tree", "/d"], descend].concat();
        probe(&fixture, &dir, &args, "")
            .lines()
            .map(|line| {
                let mut words = line.split(' ');
                let (path, kind) = (words.next().unwrap(), words.next().unwrap());
                format!("{path} {}", kind.trim_start_matches("DescriptorType::"))
            })
            .collect()
    };
    let top = ["a.txt RegularFile", "fifo Fifo", "keep Directory"];
    let everything = [
        &top[..],
        &["keep/deep Directory", "keep/deep/f RegularFile"],
        &[
            "link SymbolicLink",
            "pruned Directory",
            "pruned/hidden RegularFile",
        ],
    ]
    .concat();
    assert_eq!(listed(&[]), everything);
    // `link` leads to a directory outside the grant: listed, never entered.
    let pruned = [&everything[..6], &["pruned Directory"]].concat();
    assert_eq!(listed(&["except", "pruned"]), pruned);
    let only_keep = [
        &top[..],
        &[
            "keep/deep Directory",
            "link SymbolicLink",
            "pruned Directory",
        ],
    ]
    .concat();
    assert_eq!(listed(&["only", "keep"]), only_keep);
}

#[test]
fn the_guest_walks_count_what_find_and_a_std_walk_count() {
    let fixture = Fixture::new();
    let dir = registry_crate();
    let ours = probe(&fixture, &dir, &["walk", "/d"], "");
    assert_eq!(ours, probe(&fixture, &dir, &["walk-dirs", "/d"], ""));
    fixture.manifest(&crate::support::probe_task(
        "files",
        &["walk", "/d"],
        &grant(&dir, "/d", "ro"),
    ));
    let run = fixture.corral(&["run"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let std_walk = fixture.corral(&["result", "files"]).stdout;
    assert_eq!(ours, std_walk);
    let count = |kind: &str| {
        tool("find", &[".", "-mindepth", "1", "-type", kind], &dir)
            .lines()
            .count()
    };
    assert_eq!(
        ours.trim(),
        format!(
            "files={} dirs={} bytes={}",
            count("f"),
            count("d"),
            tool("find", &[".", "-type", "f", "-printf", "%s\n"], &dir)
                .lines()
                .map(|size| size.parse::<u64>().unwrap())
                .sum::<u64>()
        )
    );
}
