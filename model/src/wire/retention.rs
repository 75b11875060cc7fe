//! How long runs are kept (PRODUCT.md §15, "Retention"): per automation and mode, runs older
//! than `days` and runs beyond the newest `max_runs` of each composer are deleted by the
//! engine's pruner. Runs that have not finished (queued, running) are never deleted.

use crate::Mode;
use serde::{Deserialize, Serialize};

/// The longest a rule may keep runs: 100 years.
pub const MAX_DAYS: f64 = 36_500.0;
/// The most runs a rule may keep per composer.
pub const MAX_RUNS: u64 = 10_000_000;

/// What one mode keeps.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RetentionRule {
    /// Runs are deleted this many days after they were queued; fractions are allowed
    /// (`0.5` is twelve hours).
    pub days: f64,
    /// At most this many runs per composer are kept, the newest.
    pub max_runs: u64,
}

/// What an automation keeps, per mode.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Retention {
    pub test: RetentionRule,
    pub live: RetentionRule,
}

impl Default for Retention {
    /// Test keeps 7 days, Live 30 days; 100,000 runs per composer in both.
    fn default() -> Retention {
        Retention {
            test: RetentionRule {
                days: 7.0,
                max_runs: 100_000,
            },
            live: RetentionRule {
                days: 30.0,
                max_runs: 100_000,
            },
        }
    }
}

impl RetentionRule {
    /// Why the rule cannot be used, if it cannot.
    pub fn problem(&self) -> Option<String> {
        if !(self.days.is_finite() && self.days > 0.0 && self.days <= MAX_DAYS) {
            return Some(format!(
                "days must be more than 0 and at most {MAX_DAYS} (it is {})",
                self.days
            ));
        }
        if !(1..=MAX_RUNS).contains(&self.max_runs) {
            return Some(format!(
                "max_runs must be from 1 to {MAX_RUNS} (it is {})",
                self.max_runs
            ));
        }
        None
    }

    /// How long runs are kept, in milliseconds.
    pub fn keep_millis(&self) -> i64 {
        (self.days * 86_400_000.0).round() as i64
    }
}

impl Retention {
    pub fn rule(&self, mode: Mode) -> RetentionRule {
        match mode {
            Mode::Test => self.test,
            Mode::Live => self.live,
        }
    }

    /// Why the rules cannot be used, naming the mode, if they cannot.
    pub fn problem(&self) -> Option<String> {
        [Mode::Test, Mode::Live].into_iter().find_map(|m| {
            self.rule(m)
                .problem()
                .map(|p| format!("{}: {p}", m.as_str()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_usable_and_bad_rules_are_named() {
        assert_eq!(Retention::default().problem(), None);
        let mut r = Retention::default();
        r.live.days = 0.0;
        assert_eq!(
            r.problem().as_deref(),
            Some("live: days must be more than 0 and at most 36500 (it is 0)")
        );
        r.live.days = f64::NAN;
        assert!(r.problem().unwrap().starts_with("live: days"));
        let mut r = Retention::default();
        r.test.max_runs = 0;
        assert_eq!(
            r.problem().as_deref(),
            Some("test: max_runs must be from 1 to 10000000 (it is 0)")
        );
        let minute = RetentionRule {
            days: 1.0 / 1440.0,
            max_runs: 5,
        };
        assert_eq!(minute.problem(), None);
        assert_eq!(minute.keep_millis(), 60_000);
    }
}
