//! The engine: everything that runs on the server and is not HTTP. One handle, [`Engine`],
//! with plain methods over one redb database.

mod accounts;
mod automations;
mod blobs;
mod clock;
pub mod databases;
mod drafts;
mod error;
pub mod expr;
mod http_step;
mod ratelimit;
mod revisions;
pub mod runner;
#[cfg(test)]
mod runner_tests;
pub mod runs;
pub mod sandbox;
pub mod schedule;
mod steps;
mod store;
pub mod vault;

pub use accounts::{ApiTokenInfo, NewToken, Role, User};
pub use automations::Automation;
pub use clock::Clock;
pub use drafts::{Draft, SaveOutcome};
pub use error::{Error, Result};
pub use revisions::{CHECKPOINT_EVERY_SECS, Revision, RevisionKind};
pub use runner::{RunEvent, RunHandle, RunRequest};
pub use store::Engine;
