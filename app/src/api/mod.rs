//! The `#[server]` functions, one module per resource (as `server/src/rest/` has them). Each
//! takes the user from context and calls one engine method; no rule lives here. What they
//! return are the engine's own types from [`model::wire`], so the browser and the server cannot
//! disagree on a field.

mod audit;
mod automations;
mod databases;
mod deployments;
mod retention;
mod revisions;
mod runs;
mod secrets;
mod session;
mod settings;
mod tokens;
mod transfer;
mod users;

pub use audit::*;
pub use automations::*;
pub use databases::*;
pub use deployments::*;
pub use retention::*;
pub use revisions::*;
pub use runs::*;
pub use secrets::*;
pub use session::*;
pub use settings::*;
pub use tokens::*;
pub use transfer::*;
pub use users::*;
