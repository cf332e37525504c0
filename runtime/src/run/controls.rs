//! Controls for tests and operations, read from the environment once.

use std::time::Duration;

/// `CORRAL_FORCE_TIMEOUT`, `CORRAL_FAKE_LATENCY_MS`, `CORRAL_DISABLE_WATCHDOG`.
#[derive(Clone, Debug, Default)]
pub struct Controls {
    /// This task's attempts time out, as if the guest hung.
    pub force_timeout: Option<String>,
    /// Host latency added before each attempt, outside the task's timeout:
    /// simulates a slow or wedged host (and so exercises the watchdog).
    pub fake_latency: Duration,
    pub disable_watchdog: bool,
}

impl Controls {
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Controls, String> {
        let fake_latency = match env("CORRAL_FAKE_LATENCY_MS") {
            None => Duration::ZERO,
            Some(text) => text
                .trim()
                .parse()
                .map(Duration::from_millis)
                .map_err(|_| {
                    format!("CORRAL_FAKE_LATENCY_MS={text:?} is not a number of milliseconds")
                })?,
        };
        Ok(Controls {
            force_timeout: env("CORRAL_FORCE_TIMEOUT").filter(|id| !id.is_empty()),
            fake_latency,
            disable_watchdog: env("CORRAL_DISABLE_WATCHDOG")
                .is_some_and(|value| !matches!(value.trim(), "" | "0" | "false" | "off")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_values() {
        let controls = Controls::from_env(|name| match name {
            "CORRAL_FAKE_LATENCY_MS" => Some("25".into()),
            "CORRAL_DISABLE_WATCHDOG" => Some("1".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(controls.fake_latency, Duration::from_millis(25));
        assert!(controls.disable_watchdog);
        assert!(controls.force_timeout.is_none());
        assert!(Controls::from_env(|_| Some("soon".into())).is_err());
    }
}
