//! When to try again: exponential backoff with full jitter, and the
//! decision that turns a deliverer's [`Outcome`] into what the store records.
//!
//! Full jitter (a uniform delay between zero and the exponential ceiling)
//! spreads the retries of many messages that failed together, so a receiver
//! coming back up is not hit by all of them at once.

use super::Outcome;
use chrono::{DateTime, Utc};
use rand::Rng;
use skvoz_store::OutboxResult;
use std::time::Duration;

/// The retry schedule.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// The first ceiling (attempt 1).
    pub base: Duration,
    /// The largest ceiling.
    pub cap: Duration,
    /// After this many failed attempts a message is dead.
    pub max_attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(5),
            cap: Duration::from_secs(3600),
            max_attempts: 12,
        }
    }
}

impl Backoff {
    /// The ceiling after `attempts` failed attempts (1 = the first failure):
    /// `min(cap, base · 2^(attempts-1))`.
    pub fn ceiling(&self, attempts: u32) -> Duration {
        let exp = attempts.saturating_sub(1).min(30);
        self.base.saturating_mul(1 << exp).min(self.cap)
    }

    /// A delay drawn uniformly from `[0, ceiling]`.
    pub fn delay(&self, attempts: u32, rng: &mut impl Rng) -> Duration {
        let ceiling = self.ceiling(attempts).as_millis() as u64;
        Duration::from_millis(rng.gen_range(0..=ceiling))
    }

    /// What to record for an outcome of a message that had `attempts_before`
    /// attempts.
    pub fn decide(
        &self,
        outcome: Outcome,
        attempts_before: u32,
        now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> OutboxResult {
        match outcome {
            Outcome::Delivered => OutboxResult::Delivered { at: now },
            Outcome::Skipped { reason } => OutboxResult::Skipped { reason },
            Outcome::Failed { error } => OutboxResult::Dead { error },
            Outcome::Retry { error, after } => {
                let attempts = attempts_before + 1;
                if attempts >= self.max_attempts {
                    return OutboxResult::Dead {
                        error: format!("gave up after {attempts} attempts: {error}"),
                    };
                }
                // The receiver's own wait wins when it gave one (capped).
                let wait = after
                    .map(|a| a.min(self.cap))
                    .unwrap_or_else(|| self.delay(attempts, rng));
                let next = now + chrono::Duration::from_std(wait).unwrap_or_default();
                OutboxResult::Retry { next, error }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn delays_stay_under_an_exponential_ceiling_capped_at_an_hour() {
        let b = Backoff::default();
        assert_eq!(b.ceiling(1), Duration::from_secs(5));
        assert_eq!(b.ceiling(2), Duration::from_secs(10));
        assert_eq!(b.ceiling(5), Duration::from_secs(80));
        assert_eq!(b.ceiling(11), Duration::from_secs(3600));
        assert_eq!(b.ceiling(40), Duration::from_secs(3600));
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for attempts in 1..=12 {
            let ceiling = b.ceiling(attempts);
            let delays: Vec<Duration> = (0..500).map(|_| b.delay(attempts, &mut rng)).collect();
            assert!(delays.iter().all(|d| *d <= ceiling));
            // Full jitter: spread over the whole range, not bunched at the top.
            let low = delays.iter().filter(|d| **d < ceiling / 4).count();
            let high = delays.iter().filter(|d| **d > ceiling * 3 / 4).count();
            assert!(
                low > 50 && high > 50,
                "attempt {attempts}: {low} low, {high} high"
            );
        }
    }

    #[test]
    fn outcomes_become_records() {
        let b = Backoff::default();
        let now = Utc::now();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let retry = |after| Outcome::Retry {
            error: "HTTP 503".into(),
            after,
        };
        match b.decide(retry(None), 0, now, &mut rng) {
            OutboxResult::Retry { next, .. } => {
                assert!(next >= now && next <= now + chrono::Duration::seconds(5))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            b.decide(retry(Some(Duration::from_secs(7))), 3, now, &mut rng),
            OutboxResult::Retry {
                next: now + chrono::Duration::seconds(7),
                error: "HTTP 503".into()
            }
        );
        assert!(matches!(
            b.decide(retry(None), 11, now, &mut rng),
            OutboxResult::Dead { error } if error.starts_with("gave up after 12 attempts")
        ));
        assert!(matches!(
            b.decide(
                Outcome::Failed {
                    error: "HTTP 400".into()
                },
                0,
                now,
                &mut rng
            ),
            OutboxResult::Dead { .. }
        ));
    }
}
