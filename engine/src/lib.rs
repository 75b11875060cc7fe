//! The engine: everything that runs on the server and is not HTTP. One handle, [`Engine`],
//! with plain methods over one redb database.

mod accounts;
mod automations;
mod clock;
mod drafts;
mod error;
mod ratelimit;
mod store;

pub use accounts::{ApiTokenInfo, NewToken, Role, User};
pub use automations::Automation;
pub use clock::Clock;
pub use drafts::{Draft, SaveOutcome};
pub use error::{Error, Result};
pub use store::Engine;
