//! Schedule arithmetic: when a cron expression fires next in a time zone. Parsing is
//! `model::parse_cron`, so what validates is what fires.

use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// The next `n` fire times after `after`, in UTC. `timezone` is an IANA name (default UTC).
pub fn next_fire_times(
    cron: &str,
    timezone: Option<&str>,
    after: DateTime<Utc>,
    n: usize,
) -> Result<Vec<DateTime<Utc>>> {
    let cron = model::parse_cron(cron).map_err(Error::Invalid)?;
    let tz: Tz = match timezone.map(str::trim).filter(|t| !t.is_empty()) {
        Some(name) => name.parse().map_err(|_| {
            Error::Invalid(format!(
                "unknown time zone `{name}`: use an IANA name such as Europe/Berlin"
            ))
        })?,
        None => Tz::UTC,
    };
    let mut at = after.with_timezone(&tz);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        at = cron
            .find_next_occurrence(&at, false)
            .map_err(|e| Error::Invalid(format!("the schedule never fires: {e}")))?;
        out.push(at.with_timezone(&Utc));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_in_the_given_time_zone() {
        let after: DateTime<Utc> = "2026-01-05T06:30:00Z".parse().unwrap();
        let t = next_fire_times("0 9 * * *", Some("Europe/Berlin"), after, 3).unwrap();
        let shown: Vec<String> = t.iter().map(|d| d.to_rfc3339()).collect();
        assert_eq!(
            shown,
            [
                "2026-01-05T08:00:00+00:00",
                "2026-01-06T08:00:00+00:00",
                "2026-01-07T08:00:00+00:00"
            ]
        );
    }

    #[test]
    fn bad_cron_and_zone_are_clear() {
        let now = Utc::now();
        assert!(
            next_fire_times("nope", None, now, 3)
                .unwrap_err()
                .to_string()
                .contains("cron")
        );
        let err = next_fire_times("* * * * *", Some("Mars/Olympus"), now, 3).unwrap_err();
        assert!(err.to_string().contains("unknown time zone"), "{err}");
    }
}
