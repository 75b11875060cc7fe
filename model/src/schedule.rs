//! What a schedule trigger's `cron` may be. The engine arms schedules with [`parse_cron`] too, so
//! an expression that validates is one that fires.

/// Parses standard five-field cron (minute hour day month weekday) and nicknames such as `@daily`.
pub fn parse_cron(expr: &str) -> Result<croner::Cron, String> {
    if expr.trim().is_empty() {
        return Err("cron expression is empty".to_owned());
    }
    croner::Cron::new(expr)
        .parse()
        .map_err(|e| format!("invalid cron expression \"{expr}\": {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_five_fields_and_nicknames() {
        for ok in ["*/5 * * * *", "0 9 * * 1-5", "@daily", "0 0 1 1 *"] {
            assert!(parse_cron(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_the_rest_with_a_reason() {
        for bad in [
            "",
            "  ",
            "* * * *",
            "61 * * * *",
            "every minute",
            "* * * * * * *",
        ] {
            let err = parse_cron(bad).unwrap_err();
            assert!(err.contains("cron expression"), "{bad}: {err}");
        }
    }
}
