use crate::{Document, DocumentDiff, Problem};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Deployment {
    pub number: u64,
    /// The `deploy` revision holding the deployed document.
    pub revision: u64,
    pub author: String,
    pub created_at: DateTime<Utc>,
    pub note: String,
    /// Test secrets copied to Live by this deploy.
    pub secrets: Vec<String>,
    /// Test databases copied to Live by this deploy.
    pub databases: Vec<String>,
    /// Live databases whose previous contents this deploy replaced and kept.
    pub backups: Vec<String>,
    /// Set when this deployment rolled back to an earlier one.
    pub rollback_of: Option<u64>,
}

/// What to copy along with the document.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeployRequest {
    #[serde(default)]
    pub secrets: Vec<String>,
    #[serde(default)]
    pub databases: Vec<String>,
    #[serde(default)]
    pub note: String,
}

/// Everything the deploy dialog shows before confirming.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeployPreview {
    /// The draft as it would be deployed.
    pub document: Document,
    /// The current live deployment's number, if any.
    pub live: Option<u64>,
    /// From the live document to the draft.
    pub changes: DocumentDiff,
    pub secrets: Vec<SecretChoice>,
    pub databases: Vec<DatabaseChoice>,
    /// Validation errors: they block the deploy.
    pub errors: Vec<Problem>,
    /// Names of the secrets and databases Live has now (for [`crate::missing_in_live`]).
    pub live_secrets: Vec<String>,
    pub live_databases: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SecretChoice {
    pub name: String,
    /// Live has a secret of this name: copying replaces its value.
    pub in_live: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DatabaseChoice {
    pub name: String,
    pub count: u64,
    /// The record count of the live database a copy would replace.
    pub live_count: Option<u64>,
}
