//! Controls for tests and operations, read from the environment once.

use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

/// `CORRAL_FORCE_TIMEOUT`, `CORRAL_FAKE_LATENCY_MS`, `CORRAL_DISABLE_WATCHDOG`.
#[derive(Clone, Debug, Default)]
pub struct Controls {
    /// This task's attempts time out, as if the guest hung.
    pub force_timeout: Option<String>,
    /// Host latency added before each attempt, outside the task's timeout:
    /// simulates a slow or wedged host (and so exercises the watchdog).
    pub fake_latency: FakeLatency,
    pub disable_watchdog: bool,
}

/// `CORRAL_FAKE_LATENCY_MS`: `N` ms, or `MIN-MAX` drawn anew for every
/// attempt, so tests can make timings as noisy as a busy machine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FakeLatency {
    min_ms: u64,
    max_ms: u64,
}

impl FakeLatency {
    fn parse(text: &str) -> Option<FakeLatency> {
        let number = |text: &str| text.trim().parse::<u64>().ok();
        let (min_ms, max_ms) = match text.split_once('-') {
            Some((min, max)) => (number(min)?, number(max)?),
            None => (number(text)?, number(text)?),
        };
        (min_ms <= max_ms).then_some(FakeLatency { min_ms, max_ms })
    }

    /// The latency of one attempt. Not cryptographic, only varied: each
    /// `RandomState` is keyed afresh.
    pub fn draw(&self) -> Duration {
        let span = self.max_ms - self.min_ms;
        let offset = match span {
            0 => 0,
            _ => RandomState::new().hash_one(self.min_ms) % (span + 1),
        };
        Duration::from_millis(self.min_ms + offset)
    }
}

impl Controls {
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Controls, String> {
        let fake_latency = match env("CORRAL_FAKE_LATENCY_MS") {
            None => FakeLatency::default(),
            Some(text) => FakeLatency::parse(&text).ok_or_else(|| {
                format!(
                    "CORRAL_FAKE_LATENCY_MS={text:?} is not a number of milliseconds or a range MIN-MAX"
                )
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
        assert_eq!(controls.fake_latency.draw(), Duration::from_millis(25));
        assert!(controls.disable_watchdog);
        assert!(controls.force_timeout.is_none());
        for bad in ["soon", "80-10", "-5", "1-", "1-2-3"] {
            assert!(Controls::from_env(|_| Some(bad.into())).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_range_is_drawn_within_its_bounds_and_varies() {
        let latency = FakeLatency::parse(" 10 - 90 ").unwrap();
        let draws: Vec<Duration> = (0..200).map(|_| latency.draw()).collect();
        let range = Duration::from_millis(10)..=Duration::from_millis(90);
        assert!(draws.iter().all(|draw| range.contains(draw)));
        assert!(draws.iter().any(|draw| *draw != draws[0]));
        assert!(FakeLatency::default().draw().is_zero());
    }
}
