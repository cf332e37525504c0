//! A test guest whose behaviour is chosen by its first argument.
//!
//! Integration tests run it with different `args` to prove that the sandbox
//! grants exactly what the manifest names and that every limit holds. Each
//! behaviour lives in the module for its area:
//!
//! - here: echoes, failures, retries and host calls;
//! - [`fs_ops`]: filesystem operations on granted (or refused) paths;
//! - [`hostile`]: guests that try to exhaust a budget or crash.

wit_bindgen::generate!({
    path: "../../../wit",
    world: "task",
});

mod fs_ops;
mod hostile;

use corral::task::host::{self, Level};
// `Invocation` and `Failure` come from the world's `use types.{..}`.

/// What every behaviour returns: the task's result or its failure.
type Outcome = Result<String, Failure>;

struct Component;

impl Guest for Component {
    fn run(call: Invocation) -> Outcome {
        let Some((behaviour, rest)) = call.args.split_first() else {
            return invalid("no behaviour given: the first argument names one");
        };
        let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
        match (behaviour.as_str(), rest.as_slice()) {
            ("ok", []) => Ok("ok".into()),
            ("echo-env", []) => Ok(echo_env()),
            ("echo-args", _) => Ok(call.args.join("\n")),
            ("echo-invocation", []) => Ok(format!("id={} attempt={}", call.id, call.attempt)),
            ("fail-error", [message]) => Err(Failure::Error((*message).into())),
            ("fail-invalid", [message]) => Err(Failure::InvalidInput((*message).into())),
            ("fail-until", [n]) => fail_until(call.attempt, number(n)?),
            ("segments", []) => Ok(segments()),
            ("log-ansi", []) => Ok(log_ansi()),

            ("read", [path]) => fs_ops::read(path),
            ("write", [path, text]) => fs_ops::write(path, text),
            ("create", [path]) => fs_ops::create(path),
            ("truncate", [path]) => fs_ops::truncate(path),
            ("set-size", [path, size]) => fs_ops::set_size(path, number(size)?),
            ("unlink", [path]) => fs_ops::unlink(path),
            ("rename", [from, to]) => fs_ops::rename(from, to),
            ("hardlink", [from, to]) => fs_ops::hardlink(from, to),
            ("symlink", [target, link]) => fs_ops::symlink(target, link),
            ("mkdir", [path]) => fs_ops::mkdir(path),
            ("readdir", [path]) => fs_ops::readdir(path),
            ("count-bytes", [path]) => fs_ops::count_bytes(path),
            ("walk", [path]) => fs_ops::walk(path),

            ("loop", []) => hostile::spin_forever(),
            ("spin", [n]) => Ok(hostile::spin(number(n)?)),
            ("sleep", [ms]) => Ok(hostile::sleep(number(ms)?)),
            ("sleep-forever", []) => hostile::sleep_forever(),
            ("poll-never", []) => hostile::poll_never(),
            ("memory-bomb", []) => hostile::memory_bomb(),
            ("recurse", []) => Ok(hostile::recurse()),
            ("recurse-big-frames", []) => Ok(hostile::recurse_big_frames()),
            ("stdout-flood", [bytes]) => hostile::stdout_flood(number(bytes)?),
            ("stderr-flood", [bytes]) => hostile::stderr_flood(number(bytes)?),
            ("log-huge", [bytes]) => Ok(hostile::log_huge(number(bytes)?)),
            ("handle-leak", []) => hostile::handle_leak(),
            ("random-huge", [bytes]) => Ok(hostile::random_huge(number(bytes)?)),
            ("return-huge", [bytes]) => Ok(hostile::return_huge(number(bytes)?)),
            ("panic", []) => hostile::panic(),
            ("unreachable", []) => hostile::unreachable(),
            ("exit", [code]) => hostile::exit(number(code)?),

            (other, rest) => invalid(&format!(
                "unknown behaviour `{other}` with {} argument(s)",
                rest.len()
            )),
        }
    }
}

export!(Component);

fn invalid(message: &str) -> Outcome {
    Err(Failure::InvalidInput(message.into()))
}

/// Parses a numeric argument; a bad one is the caller's mistake.
fn number<T: std::str::FromStr>(text: &str) -> Result<T, Failure> {
    text.parse()
        .map_err(|_| Failure::InvalidInput(format!("`{text}` is not a valid number here")))
}

/// Every environment variable as a sorted `K=V` line.
fn echo_env() -> String {
    let mut vars: Vec<String> = std::env::vars().map(|(k, v)| format!("{k}={v}")).collect();
    vars.sort();
    vars.join("\n")
}

/// Fails until attempt `n`, so retry tests can count attempts.
fn fail_until(attempt: u32, n: u32) -> Outcome {
    let message = format!("attempt {attempt}");
    if attempt < n {
        Err(Failure::Error(message))
    } else {
        Ok(message)
    }
}

/// Uses every `host` import once.
fn segments() -> String {
    host::segment_start("phase_a");
    host::segment_end("phase_a");
    host::progress(1, 2);
    host::progress(2, 2);
    host::log(Level::Info, "hello from probe");
    "segments".into()
}

/// Terminal escapes and a bell, which the host must not pass through raw.
fn log_ansi() -> String {
    const TEXT: &str = "\x1b[31mred\x1b[0m\x07bell";
    host::log(Level::Warn, TEXT);
    println!("{TEXT}");
    "ansi".into()
}
