//! The shapes the engine stores and returns, the server answers with and the UI shows: one
//! definition each, used on both sides of the wire (wasm-safe: serde and chrono only). A
//! renamed field is a compile error in every crate, not a run-time surprise in the browser.
//!
//! The engine re-exports each under its old path (`engine::runs::Run`, `engine::Role`, …).

mod accounts;
mod audit;
mod deployments;
mod records;
mod retention;
mod revisions;
mod runs;

pub use accounts::{ApiTokenInfo, Forbidden, Role, UnknownRole, User};
pub use audit::{AuditAction, AuditEntry, AuditPage};
pub use deployments::{DatabaseChoice, DeployPreview, DeployRequest, Deployment, SecretChoice};
pub use records::{DatabaseInfo, Record, RecordPage, SecretInfo};
pub use retention::{Retention, RetentionRule};
pub use revisions::{Revision, RevisionKind};
pub use runs::{
    Run, RunPage, RunSource, RunStatus, RunSummary, StepRun, StepStatus, duration_text,
};

/// Milliseconds from `from` to `to`, when both are known.
pub fn millis_between(
    from: Option<chrono::DateTime<chrono::Utc>>,
    to: Option<chrono::DateTime<chrono::Utc>>,
) -> Option<i64> {
    Some((to? - from?).num_milliseconds())
}
