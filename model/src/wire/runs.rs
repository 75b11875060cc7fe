use crate::Mode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Interrupted,
    Cancelled,
}

impl RunStatus {
    pub const ALL: [RunStatus; 6] = [
        RunStatus::Queued,
        RunStatus::Running,
        RunStatus::Succeeded,
        RunStatus::Failed,
        RunStatus::Interrupted,
        RunStatus::Cancelled,
    ];

    pub fn is_finished(self) -> bool {
        !matches!(self, RunStatus::Queued | RunStatus::Running)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Cancelled => "cancelled",
        }
    }

    /// The status named `s` (its wire name), if there is one.
    pub fn parse(s: &str) -> Option<RunStatus> {
        RunStatus::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Pending,
    Running,
    Succeeded,
    Failed,
    Skipped,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Pending => "pending",
            StepStatus::Running => "running",
            StepStatus::Succeeded => "succeeded",
            StepStatus::Failed => "failed",
            StepStatus::Skipped => "skipped",
        }
    }
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum RunSource {
    Manual,
    Webhook,
    Schedule,
    Api,
    Replay,
}

impl RunSource {
    pub fn as_str(self) -> &'static str {
        match self {
            RunSource::Manual => "manual",
            RunSource::Webhook => "webhook",
            RunSource::Schedule => "schedule",
            RunSource::Api => "api",
            RunSource::Replay => "replay",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepRun {
    pub name: String,
    pub kind: String,
    pub status: StepStatus,
    pub attempts: u32,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub input: Value,
    pub output: Value,
    pub logs: Vec<String>,
    pub error: Option<String>,
}

/// A duration as people read it: "< 1 ms" below a millisecond (not "0 ms"), "12 ms", "3.4 s",
/// "2 min 5 s".
pub fn duration_text(ms: i64) -> String {
    match ms {
        i64::MIN..=0 => "< 1 ms".to_owned(),
        1..=9_999 => format!("{ms} ms"),
        10_000..=59_999 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

impl StepRun {
    pub fn duration_ms(&self) -> Option<i64> {
        super::millis_between(self.started_at, self.finished_at)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Run {
    pub id: String,
    pub automation: String,
    pub composer: String,
    pub mode: Mode,
    pub source: RunSource,
    pub revision: Option<u64>,
    pub deployment: Option<u64>,
    pub status: RunStatus,
    pub queued_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub input: Value,
    pub steps: Vec<StepRun>,
    pub error: Option<String>,
    /// The last step that finished, for runs cut short by a crash.
    pub last_finished_step: Option<String>,
    /// For a replay in Test: the live run whose trigger input it replayed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_of: Option<String>,
}

impl Run {
    pub fn duration_ms(&self) -> Option<i64> {
        super::millis_between(self.started_at, self.finished_at)
    }

    /// What a run list shows of it.
    pub fn summary(&self) -> RunSummary {
        RunSummary {
            id: self.id.clone(),
            composer: self.composer.clone(),
            status: self.status,
            source: self.source,
            queued_at: self.queued_at,
            duration_ms: self.duration_ms(),
        }
    }
}

/// What a run list shows of a run.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunSummary {
    pub id: String,
    pub composer: String,
    pub status: RunStatus,
    pub source: RunSource,
    pub queued_at: DateTime<Utc>,
    pub duration_ms: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunPage {
    pub items: Vec<RunSummary>,
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration_text(0), "< 1 ms");
        assert_eq!(duration_text(1), "1 ms");
        assert_eq!(duration_text(9_999), "9999 ms");
        assert_eq!(duration_text(12_340), "12.3 s");
        assert_eq!(duration_text(125_000), "2 min 5 s");
    }

    #[test]
    fn names_are_the_wire_names() {
        for s in RunStatus::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            assert_eq!(RunStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(RunStatus::parse("Failed"), None);
        for s in [StepStatus::Pending, StepStatus::Skipped, StepStatus::Failed] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for s in [RunSource::Manual, RunSource::Replay, RunSource::Api] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}
