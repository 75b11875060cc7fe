use crate::error::AppError;
use leptos::prelude::*;
use model::wire::Retention;

#[cfg(feature = "ssr")]
use crate::session::{blocking, require, signed_in, to_sfn};
#[cfg(feature = "ssr")]
use model::wire::{RetentionRule, Role};

/// The automation's retention rules (Settings → Retention).
#[server]
pub async fn get_retention(automation: String) -> Result<Retention, AppError> {
    require(Role::Viewer)?;
    blocking(move |e| e.retention(&automation)).await
}

/// Sets the automation's retention rules from the form's fields (admins; the engine checks
/// the ranges).
#[server]
pub async fn set_retention(
    automation: String,
    test_days: String,
    test_max_runs: String,
    live_days: String,
    live_max_runs: String,
) -> Result<Retention, AppError> {
    let user = signed_in()?;
    let rule = |mode: &str, days: &str, max: &str| -> Result<RetentionRule, AppError> {
        let invalid = |what: &str, v: &str| {
            to_sfn(engine::Error::Invalid(format!(
                "{mode}: {what} must be a number, not `{v}`"
            )))
        };
        Ok(RetentionRule {
            days: days.trim().parse().map_err(|_| invalid("days", days))?,
            max_runs: max.trim().parse().map_err(|_| invalid("runs kept", max))?,
        })
    };
    let retention = Retention {
        test: rule("test", &test_days, &test_max_runs)?,
        live: rule("live", &live_days, &live_max_runs)?,
    };
    blocking(move |e| e.set_retention(&user, &automation, retention)).await
}
