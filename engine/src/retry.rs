//! Backoff for retryable failures (pure): exponential with full jitter,
//! `random(0, min(cap, base * 2^(attempt-1)))`, as in AWS's "Exponential
//! Backoff And Jitter"; a handler's `retry_after` wins when given.

use std::time::Duration;

/// Delay before retry number `attempt` (1 = after the first failure). `unit` in [0, 1) is the randomness.
pub fn backoff(base: Duration, cap: Duration, attempt: u32, unit: f64) -> Duration {
    let exp = attempt.saturating_sub(1).min(40);
    let ceiling = base.as_secs_f64() * 2f64.powi(exp as i32);
    let ceiling = ceiling.min(cap.as_secs_f64());
    Duration::from_secs_f64(ceiling * unit.clamp(0.0, 1.0))
}

/// Upper bound of the delay for `attempt` (the jitter's ceiling).
pub fn backoff_ceiling(base: Duration, cap: Duration, attempt: u32) -> Duration {
    backoff(base, cap, attempt, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: Duration = Duration::from_millis(100);
    const C: Duration = Duration::from_secs(10);

    #[test]
    fn ceiling_doubles_then_caps() {
        assert_eq!(backoff_ceiling(B, C, 1), Duration::from_millis(100));
        assert_eq!(backoff_ceiling(B, C, 2), Duration::from_millis(200));
        assert_eq!(backoff_ceiling(B, C, 4), Duration::from_millis(800));
        assert_eq!(backoff_ceiling(B, C, 30), C);
        assert_eq!(backoff_ceiling(B, C, u32::MAX), C);
    }

    #[test]
    fn ceiling_is_monotonic_and_jitter_stays_below_it() {
        let mut prev = Duration::ZERO;
        for attempt in 1..60 {
            let c = backoff_ceiling(B, C, attempt);
            assert!(c >= prev);
            prev = c;
            for u in [0.0, 0.3, 0.999] {
                assert!(backoff(B, C, attempt, u) <= c);
            }
        }
    }

    #[test]
    fn full_jitter_can_be_zero() {
        assert_eq!(backoff(B, C, 5, 0.0), Duration::ZERO);
    }
}
