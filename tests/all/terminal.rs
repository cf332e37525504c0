//! Driving real programs in a real terminal: a private tmux server per
//! test, keys sent with `send-keys`, the screen read with `capture-pane`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux server with one window running one command.
pub struct Tmux {
    socket: String,
    /// The private runtime directory of the corral server the shell may
    /// start, stopped with the tmux server.
    corral_runtime: Option<std::path::PathBuf>,
}

impl Tmux {
    /// Starts `command` in a detached 120x30 session; `env` is the whole
    /// environment the command sees.
    pub fn start(dir: &Path, command: &str, env: &[(&str, &str)]) -> Tmux {
        let socket = format!(
            "corral-test-{}-{}",
            std::process::id(),
            dir.file_name().unwrap().to_string_lossy()
        );
        let mut assignments: Vec<String> = env
            .iter()
            .map(|(k, v)| format!("{k}={}", shell_quote(v)))
            .collect();
        assignments.push(command.to_string());
        let status = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "120",
                "-y",
                "30",
            ])
            .arg(format!("env -i {}", assignments.join(" ")))
            .current_dir(dir)
            .status()
            .unwrap();
        assert!(status.success(), "tmux did not start");
        Tmux {
            socket,
            corral_runtime: None,
        }
    }

    pub fn screen(&self) -> String {
        let output = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// The pid of the program running in the pane.
    pub fn pane_pid(&self) -> u32 {
        let output = Command::new("tmux")
            .args(["-L", &self.socket, "display-message", "-p", "#{pane_pid}"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .unwrap()
    }

    /// Types `keys` (tmux key names, e.g. "Enter", "q").
    pub fn send(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys"])
            .args(keys)
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits until the screen satisfies `ready`, failing after `limit`.
    pub fn wait_for(&self, limit: Duration, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
        if let Some(runtime) = &self.corral_runtime {
            stop_corral_server(runtime);
        }
    }
}

/// Runs `fish --no-config -c script` in `dir` with `home` as `HOME`, the
/// shared component cache and `env`. The snippet asks for fresh results
/// from a process it does not wait for, which starts a corral server: it
/// gets its own runtime directory under `home`, is stopped once fish
/// exits, and one that starts later exits after 2 idle seconds.
pub fn fish_script(
    home: &Path,
    dir: &Path,
    script: &str,
    env: &[(&str, &str)],
) -> std::process::Output {
    let runtime = home.join(".run");
    std::fs::create_dir_all(&runtime).unwrap();
    let output = Command::new("fish")
        .args(["--no-config", "-c", script])
        .current_dir(dir)
        .env("HOME", home)
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("CORRAL_SERVE_IDLE_SECS", "2")
        .env("CORRAL_CACHE_DIR", crate::support::shared_cache_dir())
        .envs(env.iter().copied())
        .output()
        .unwrap();
    stop_corral_server(&runtime);
    output
}

/// Stops the corral server of a runtime directory, if one runs.
pub fn stop_corral_server(runtime: &Path) {
    let lock = runtime.join("corral/serve.lock");
    let Some(pid) = std::fs::read_to_string(lock)
        .ok()
        .and_then(|text| text.trim().parse::<i32>().ok())
    else {
        return;
    };
    let _ = Command::new("kill").arg(pid.to_string()).status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts an interactive `shell` (`zsh` or `bash`) in tmux with `home` as
/// its home, start-up file `rc` (for zsh, `home/.zshrc`), a clean
/// environment and the tests' component cache, and waits for a prompt
/// that says `READY>`.
pub fn interactive_shell(home: &Path, shell: &str, rc: &Path, limit: Duration) -> Tmux {
    let command = match shell {
        "zsh" => "zsh -i".to_string(),
        "fish" => format!(
            "fish --no-config --init-command {}",
            shell_quote(&format!(
                "source {}",
                shell_quote(&rc.display().to_string())
            ))
        ),
        _ => format!(
            "bash --rcfile {} -i",
            shell_quote(&rc.display().to_string())
        ),
    };
    let home_text = home.display().to_string();
    let cache = crate::support::shared_cache_dir().display().to_string();
    // The shell's corral server lives in the test's own runtime directory.
    let runtime = home.join(".run");
    std::fs::create_dir_all(&runtime).unwrap();
    let runtime_text = runtime.display().to_string();
    let mut tmux = Tmux::start(
        home,
        &command,
        &[
            ("HOME", &home_text),
            ("ZDOTDIR", &home_text),
            ("PATH", "/usr/bin:/bin"),
            ("TERM", "xterm"),
            ("CORRAL_CACHE_DIR", &cache),
            ("XDG_RUNTIME_DIR", &runtime_text),
            ("CORRAL_SERVE_IDLE_SECS", "60"),
        ],
    );
    tmux.corral_runtime = Some(runtime);
    tmux.wait_for(limit, "the first prompt", |screen| {
        screen.contains("READY>")
    });
    tmux
}

pub fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// Waits until `condition` holds, failing after `limit`.
pub fn eventually(limit: Duration, what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
