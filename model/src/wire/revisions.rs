use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum RevisionKind {
    Auto,
    Backup,
    Deploy,
    Named,
    Conflict,
}

impl RevisionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RevisionKind::Auto => "auto",
            RevisionKind::Backup => "backup",
            RevisionKind::Deploy => "deploy",
            RevisionKind::Named => "named",
            RevisionKind::Conflict => "conflict",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Revision {
    pub number: u64,
    pub kind: RevisionKind,
    pub author: String,
    pub created_at: DateTime<Utc>,
    pub label: Option<String>,
    /// One line: what changed since the revision before it.
    pub summary: String,
}
