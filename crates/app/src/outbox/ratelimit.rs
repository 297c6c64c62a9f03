//! Per-destination rate limits: one token bucket per destination, refilled
//! at its rate, holding at most one second's worth of tokens.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::{Duration, Instant};

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets by destination key.
#[derive(Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// Takes a token of `key` at `now`, refilling at `rate` per second; says
    /// how long the caller must wait before using it (zero when one was
    /// there). A waiting caller's token is already taken, so waits queue up.
    pub fn reserve(&self, key: &str, rate: f64, now: Instant) -> Duration {
        let rate = rate.max(0.001);
        let burst = rate.max(1.0);
        let mut buckets = self.buckets.lock();
        let b = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate).min(burst);
        b.at = now.max(b.at);
        b.tokens -= 1.0;
        if b.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-b.tokens / rate)
        }
    }

    /// Waits for a token of `key`.
    pub async fn acquire(&self, key: &str, rate: f64) {
        let wait = self.reserve(key, rate, Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_lets_a_second_of_burst_through_then_paces() {
        let rl = RateLimiter::default();
        let t0 = Instant::now();
        // 10/s: ten at once, then one every 100 ms.
        for _ in 0..10 {
            assert_eq!(rl.reserve("ga4", 10.0, t0), Duration::ZERO);
        }
        let w = rl.reserve("ga4", 10.0, t0);
        assert!((w.as_secs_f64() - 0.1).abs() < 1e-6, "{w:?}");
        let w2 = rl.reserve("ga4", 10.0, t0);
        assert!(
            (w2.as_secs_f64() - 0.2).abs() < 1e-6,
            "queued waits add up: {w2:?}"
        );
        // Another destination has its own bucket.
        assert_eq!(rl.reserve("hook", 10.0, t0), Duration::ZERO);
        // A second later the bucket refilled (minus what was owed).
        let w3 = rl.reserve("ga4", 10.0, t0 + Duration::from_secs(1));
        assert_eq!(w3, Duration::ZERO);
        // 100 reservations at 10/s take ~10 s in total.
        let rl = RateLimiter::default();
        let last = (0..100)
            .map(|_| rl.reserve("x", 10.0, t0))
            .last()
            .unwrap_or_default();
        assert!((last.as_secs_f64() - 9.0).abs() < 1e-6, "{last:?}");
        // Under one per second: a burst of one.
        let slow = RateLimiter::default();
        assert_eq!(slow.reserve("m", 0.5, t0), Duration::ZERO);
        assert_eq!(slow.reserve("m", 0.5, t0), Duration::from_secs(2));
    }
}
