//! The engine: everything that runs on the server and is not HTTP. One handle, [`Engine`],
//! with plain methods over one redb database.

mod accounts;
pub mod admission;
pub mod audit;
mod automations;
pub mod backup;
mod blobs;
mod clock;
pub mod databases;
pub mod deployments;
#[cfg(test)]
mod deployments_tests;
mod drafts;
#[cfg(test)]
mod durability_tests;
pub mod egress;
mod error;
pub mod expr;
#[cfg(any(test, feature = "faults"))]
pub mod faults;
mod http_step;
pub mod metrics;
mod ratelimit;
pub mod retention;
mod revisions;
pub mod runner;
#[cfg(test)]
mod runner_tests;
pub mod runs;
pub mod sandbox;
pub mod schedule;
mod scheduler;
pub mod shutdown;
mod steps;
mod store;
#[cfg(test)]
mod testing;
mod transfer;
pub mod vault;

pub use accounts::{ApiTokenInfo, NewToken, Role, SESSION_LIFETIME_SECS, User};
pub use audit::{AuditAction, AuditEntry, AuditPage};
pub use automations::Automation;
pub use clock::Clock;
pub use deployments::{DeployPreview, DeployRequest, Deployment, LiveConfig};
pub use drafts::{Draft, SaveOutcome};
pub use error::{Error, Result, panic_message};
pub use revisions::{CHECKPOINT_EVERY_SECS, Revision, RevisionKind};
pub use runner::{RunEvent, RunHandle, RunRequest};
pub use scheduler::Armed;
pub use store::Engine;
