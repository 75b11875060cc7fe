//! Login attempt limiting per (username, address): a sliding window of failures, in memory
//! (a restart forgets it, which is acceptable for a brute-force brake).

use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

const MAX_FAILURES: usize = 5;
const WINDOW_SECS: i64 = 300;
/// Most (username, address) pairs tracked at once (PRODUCT.md §15: every map is bounded).
const MAX_TRACKED: usize = 10_000;

/// (username, address) -> times of recent failures.
type Failures = HashMap<(String, String), Vec<DateTime<Utc>>>;

#[derive(Default)]
pub(crate) struct LoginLimiter {
    failures: Mutex<Failures>,
}

impl LoginLimiter {
    /// Seconds to wait before another attempt is allowed, or None.
    pub fn blocked_for(&self, user: &str, addr: &str, now: DateTime<Utc>) -> Option<u64> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let key = (user.to_string(), addr.to_string());
        let list = map.get_mut(&key)?;
        list.retain(|t| now - *t < Duration::seconds(WINDOW_SECS));
        if list.len() >= MAX_FAILURES {
            let oldest = list[0];
            let wait = WINDOW_SECS - (now - oldest).num_seconds();
            Some(wait.max(1) as u64)
        } else {
            None
        }
    }

    pub fn record_failure(&self, user: &str, addr: &str, now: DateTime<Utc>) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_TRACKED && !map.contains_key(&(user.to_string(), addr.to_string())) {
            // Bounded: forget pairs whose failures are all outside the window, then, if a
            // flood of names and addresses still fills it, the pairs that failed longest ago.
            map.retain(|_, list| {
                list.iter()
                    .any(|t| now - *t < Duration::seconds(WINDOW_SECS))
            });
            while map.len() >= MAX_TRACKED {
                let oldest = map
                    .iter()
                    .min_by_key(|(_, list)| list.last().copied())
                    .map(|(k, _)| k.clone());
                match oldest {
                    Some(k) => map.remove(&k),
                    None => break,
                };
            }
        }
        let list = map.entry((user.to_string(), addr.to_string())).or_default();
        list.push(now);
        // Only the last MAX_FAILURES matter for blocking.
        if list.len() > MAX_FAILURES {
            list.remove(0);
        }
    }

    pub fn clear(&self, user: &str, addr: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&(user.to_string(), addr.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_stays_bounded_and_still_blocks_the_latest() {
        let limiter = LoginLimiter::default();
        let now = Utc::now();
        for i in 0..(MAX_TRACKED + 500) {
            limiter.record_failure(&format!("u{i}"), "a", now);
        }
        assert!(limiter.failures.lock().unwrap().len() <= MAX_TRACKED);
        for _ in 0..MAX_FAILURES + 3 {
            limiter.record_failure("ann", "b", now);
        }
        assert!(limiter.blocked_for("ann", "b", now).is_some());
        assert_eq!(
            limiter.failures.lock().unwrap()[&("ann".into(), "b".into())].len(),
            MAX_FAILURES
        );
    }
}
