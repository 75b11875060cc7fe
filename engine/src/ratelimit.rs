//! Login attempt limiting per (username, address): a sliding window of failures, in memory
//! (a restart forgets it, which is acceptable for a brute-force brake).

use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

const MAX_FAILURES: usize = 5;
const WINDOW_SECS: i64 = 300;

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
        map.entry((user.to_string(), addr.to_string()))
            .or_default()
            .push(now);
    }

    pub fn clear(&self, user: &str, addr: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&(user.to_string(), addr.to_string()));
    }
}
