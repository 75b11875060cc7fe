//! The keys every step may carry (PRODUCT.md §4) — `timeout_ms`, `retry` and `on_error` — read
//! in one place. [`CommonConfig::read`] gives what the runner uses (a default where a key is
//! absent or wrong) and, beside it, what validation reports about the wrong ones; nothing else
//! parses these keys.

use serde_json::{Map, Value};

use crate::document::StepKind;
use crate::step_config::MAX_DELAY_MS;

/// Longest `timeout_ms` of a step (PRODUCT.md §15).
pub const MAX_TIMEOUT_MS: u64 = 3_600_000;
/// Without `timeout_ms`, a step may take this long (a delay step its own `ms` plus this).
pub const DEFAULT_TIMEOUT_MS: u64 = 60_000;
/// Most attempts `retry.max_attempts` may ask for.
pub const MAX_ATTEMPTS: u64 = 10;
/// The first wait between attempts when `retry.backoff_ms` is not given.
pub const DEFAULT_BACKOFF_MS: u64 = 500;
/// Longest all the waits between the attempts of one step may add up to.
pub const MAX_TOTAL_BACKOFF_MS: u64 = 3_600_000;
/// Values of the common `on_error` key.
pub const ON_ERROR: [&str; 2] = ["fail", "continue"];

/// The wait before attempt `next` (2, 3, ...) with `backoff_ms`: doubling from `backoff_ms`.
pub fn backoff_before(backoff_ms: u64, next: u32) -> u64 {
    backoff_ms.saturating_mul(1 << next.saturating_sub(2).min(10))
}

/// What all the waits between `attempts` attempts add up to.
pub fn total_backoff(backoff_ms: u64, attempts: u64) -> u64 {
    (2..=attempts.min(MAX_ATTEMPTS) as u32)
        .map(|n| backoff_before(backoff_ms, n))
        .fold(0, u64::saturating_add)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnError {
    /// The run fails with the step's error (the default).
    Fail,
    /// The step's error becomes its output and the run goes on.
    Continue,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    pub max_attempts: u32,
    pub backoff_ms: u64,
}

/// A step's common keys as the runner uses them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommonConfig {
    /// As written; see [`CommonConfig::timeout_ms`] for the one that applies.
    pub timeout_ms: Option<u64>,
    pub retry: Retry,
    pub on_error: OnError,
}

/// A common key that could not be taken as written: where (`timeout_ms`, `retry.max_attempts`)
/// and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommonProblem {
    pub key: &'static [&'static str],
    pub message: String,
}

impl Default for CommonConfig {
    fn default() -> Self {
        CommonConfig {
            timeout_ms: None,
            retry: Retry {
                max_attempts: 1,
                backoff_ms: DEFAULT_BACKOFF_MS,
            },
            on_error: OnError::Fail,
        }
    }
}

impl CommonConfig {
    /// The common keys of a step's `config` (anything but an object has none).
    pub fn of(config: &Value) -> CommonConfig {
        match config {
            Value::Object(map) => CommonConfig::read(map).0,
            _ => CommonConfig::default(),
        }
    }

    /// Reads the common keys; a key that is wrong is reported and its default used.
    pub fn read(config: &Map<String, Value>) -> (CommonConfig, Vec<CommonProblem>) {
        let mut out = CommonConfig::default();
        let mut problems = Vec::new();
        let mut problem = |key: &'static [&'static str], message: String| {
            problems.push(CommonProblem { key, message })
        };
        if let Some(value) = config.get("timeout_ms") {
            match value.as_u64() {
                Some(ms) if ms > MAX_TIMEOUT_MS => problem(
                    &["timeout_ms"],
                    format!("is at most {MAX_TIMEOUT_MS} (one hour)"),
                ),
                Some(ms) if ms > 0 => out.timeout_ms = Some(ms),
                _ => problem(
                    &["timeout_ms"],
                    "must be a positive whole number of milliseconds".into(),
                ),
            }
        }
        match config.get("retry") {
            None => {}
            Some(Value::Object(retry)) => {
                match retry.get("max_attempts") {
                    Some(n) if n.as_u64().is_some_and(|n| n > MAX_ATTEMPTS) => problem(
                        &["retry", "max_attempts"],
                        format!("is at most {MAX_ATTEMPTS}"),
                    ),
                    Some(n) if n.as_u64().is_some_and(|n| n >= 1) => {
                        out.retry.max_attempts = n.as_u64().unwrap_or(1) as u32
                    }
                    Some(_) => problem(
                        &["retry", "max_attempts"],
                        "must be a whole number, at least 1".into(),
                    ),
                    None => problem(&["retry", "max_attempts"], "missing".into()),
                }
                match retry.get("backoff_ms").map(Value::as_u64) {
                    None => {}
                    Some(None) => problem(
                        &["retry", "backoff_ms"],
                        "must be a whole number of milliseconds".into(),
                    ),
                    Some(Some(backoff)) => {
                        let attempts = retry
                            .get("max_attempts")
                            .and_then(Value::as_u64)
                            .unwrap_or(1);
                        let total = total_backoff(backoff, attempts);
                        if total > MAX_TOTAL_BACKOFF_MS {
                            problem(
                                &["retry", "backoff_ms"],
                                format!(
                                    "the waits between {attempts} attempts add up to {} s; at most one hour in all",
                                    total / 1000
                                ),
                            );
                        }
                        // Taken even when too long: the runner stops waiting at the total.
                        out.retry.backoff_ms = backoff;
                    }
                }
            }
            Some(_) => problem(
                &["retry"],
                "must be an object {max_attempts, backoff_ms}".into(),
            ),
        }
        match config.get("on_error").map(Value::as_str) {
            None | Some(Some("fail")) => {}
            Some(Some("continue")) => out.on_error = OnError::Continue,
            Some(_) => problem(&["on_error"], "must be \"fail\" or \"continue\"".into()),
        }
        (out, problems)
    }

    /// The timeout that applies to one attempt of a step of `kind`: a delay waits its own `ms`
    /// (at most [`MAX_DELAY_MS`]) on top of the default.
    pub fn timeout_ms(&self, kind: Option<StepKind>) -> u64 {
        match (self.timeout_ms, kind) {
            (Some(ms), _) => ms,
            (None, Some(StepKind::Delay)) => DEFAULT_TIMEOUT_MS + MAX_DELAY_MS,
            (None, _) => DEFAULT_TIMEOUT_MS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(v: Value) -> (CommonConfig, Vec<String>) {
        let (c, p) = CommonConfig::read(v.as_object().unwrap());
        let p = p
            .into_iter()
            .map(|p| format!("{}: {}", p.key.join("."), p.message))
            .collect();
        (c, p)
    }

    #[test]
    fn absent_keys_are_the_defaults() {
        let (c, p) = read(json!({}));
        assert_eq!(c, CommonConfig::default());
        assert!(p.is_empty());
        assert_eq!(c.timeout_ms(Some(StepKind::Http)), DEFAULT_TIMEOUT_MS);
        assert_eq!(
            c.timeout_ms(Some(StepKind::Delay)),
            DEFAULT_TIMEOUT_MS + MAX_DELAY_MS
        );
    }

    #[test]
    fn written_keys_are_taken() {
        let (c, p) = read(json!({
            "timeout_ms": 250,
            "retry": {"max_attempts": 3, "backoff_ms": 10},
            "on_error": "continue"
        }));
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(c.timeout_ms(Some(StepKind::Delay)), 250);
        assert_eq!(
            c.retry,
            Retry {
                max_attempts: 3,
                backoff_ms: 10
            }
        );
        assert_eq!(c.on_error, OnError::Continue);
    }

    #[test]
    fn text_that_looks_like_a_number_is_not_one() {
        // The runner used to accept "5" where validation refused it.
        let (c, p) = read(json!({"timeout_ms": "5", "retry": {"max_attempts": "3"}}));
        assert_eq!(c, CommonConfig::default());
        assert_eq!(
            p,
            [
                "timeout_ms: must be a positive whole number of milliseconds",
                "retry.max_attempts: must be a whole number, at least 1"
            ]
        );
    }

    #[test]
    fn limits_are_reported_and_not_taken() {
        let (c, p) = read(json!({
            "timeout_ms": MAX_TIMEOUT_MS + 1,
            "retry": {"max_attempts": 11},
            "on_error": "ignore"
        }));
        assert_eq!(c, CommonConfig::default());
        assert_eq!(
            p,
            [
                "timeout_ms: is at most 3600000 (one hour)",
                "retry.max_attempts: is at most 10",
                "on_error: must be \"fail\" or \"continue\""
            ]
        );
    }
}
