//! Retries: which failures another attempt could fix, and how long to wait
//! before it.

use std::time::Duration;

use crate::events::Failure;

/// First retry waits this long; each further retry doubles it.
const RETRY_BACKOFF: Duration = Duration::from_millis(50);
const MAX_RETRY_BACKOFF: Duration = Duration::from_secs(1);

/// Whether attempt number `attempt` (1-based), which failed, is followed by
/// another, given the task's `retries`.
pub fn should_retry(failure: &Failure, attempt: u32, retries: u32) -> bool {
    failure.reason.is_retryable() && attempt <= retries
}

/// The pause after failed attempt number `attempt` (1-based).
pub fn backoff(attempt: u32) -> Duration {
    RETRY_BACKOFF
        .saturating_mul(1 << (attempt.max(1) - 1).min(16))
        .min(MAX_RETRY_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::FailReason;

    #[test]
    fn only_retryable_reasons_are_retried_while_retries_remain() {
        let error = Failure::new(FailReason::Error, "x");
        assert!(should_retry(&error, 1, 1));
        assert!(!should_retry(&error, 2, 1));
        let invalid = Failure::new(FailReason::InvalidInput, "x");
        assert!(!should_retry(&invalid, 1, 5));
    }

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        assert_eq!(backoff(1), Duration::from_millis(50));
        assert_eq!(backoff(2), Duration::from_millis(100));
        assert_eq!(backoff(30), MAX_RETRY_BACKOFF);
    }
}
