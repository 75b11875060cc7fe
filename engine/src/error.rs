//! The engine's one error type: each variant says what the user needs to act on.

use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum Error {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    Invalid(String),
    #[error(
        "someone else saved this automation (it is at version {current}, your edit was based on {expected}){kept}; reload to continue",
        kept = kept_revision.map(|n| format!("; your edit is kept as revision {n}")).unwrap_or_default()
    )]
    Conflict {
        expected: u64,
        current: u64,
        kept_revision: Option<u64>,
    },
    #[error("Live is read-only: {0}")]
    LiveReadOnly(String),
    #[error("wrong username or password")]
    BadCredentials,
    #[error("too many login attempts; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("not signed in")]
    Unauthenticated,
    /// A webhook with `auth_secret` was called without the right bearer token.
    #[error("{0}")]
    WebhookAuth(String),
    #[error("your role ({have}) may not do this; it needs {need}")]
    Forbidden {
        have: model::wire::Role,
        need: model::wire::Role,
    },
    #[error("{0} is not a Slipway data file (or was written by another program)")]
    ForeignFile(String),
    #[error("the data file {0} is in use by another Slipway process")]
    AlreadyOpen(String),
    #[error("storage error: {0}")]
    Storage(String),
    /// The disk refused a commit that an acknowledgement waited for: nothing was acknowledged,
    /// and the caller may try again.
    #[error("not stored: {0}; try again")]
    Unavailable(String),
    /// Too many runs wait to run: nothing was stored (see [`crate::admission`]).
    #[error("overloaded: {0}")]
    Overloaded(String),
}

impl Error {
    /// A short machine-readable code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotFound(_) => "not_found",
            Error::AlreadyExists(_) => "already_exists",
            Error::Invalid(_) => "invalid",
            Error::Conflict { .. } => "conflict",
            Error::BadCredentials => "bad_credentials",
            Error::RateLimited { .. } => "rate_limited",
            Error::Unauthenticated => "unauthenticated",
            Error::WebhookAuth(_) => "unauthorized",
            Error::Forbidden { .. } => "forbidden",
            Error::LiveReadOnly(_) => "live_read_only",
            Error::ForeignFile(_) | Error::AlreadyOpen(_) | Error::Storage(_) => "storage",
            Error::Unavailable(_) => "unavailable",
            Error::Overloaded(_) => "overloaded",
        }
    }

    /// The HTTP status this error answers with, for the REST API and server functions alike.
    pub fn http_status(&self) -> u16 {
        match self {
            Error::NotFound(_) => 404,
            Error::AlreadyExists(_) | Error::Conflict { .. } => 409,
            Error::Invalid(_) => 422,
            Error::BadCredentials | Error::Unauthenticated | Error::WebhookAuth(_) => 401,
            Error::RateLimited { .. } => 429,
            Error::Forbidden { .. } | Error::LiveReadOnly(_) => 403,
            Error::ForeignFile(_) | Error::AlreadyOpen(_) | Error::Storage(_) => 500,
            Error::Unavailable(_) | Error::Overloaded(_) => 503,
        }
    }
}

impl From<model::wire::Forbidden> for Error {
    fn from(f: model::wire::Forbidden) -> Self {
        Error::Forbidden {
            have: f.have,
            need: f.need,
        }
    }
}

impl From<model::wire::UnknownRole> for Error {
    fn from(e: model::wire::UnknownRole) -> Self {
        Error::Invalid(e.to_string())
    }
}

macro_rules! storage_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error::Storage(e.to_string())
            }
        }
    )*};
}
storage_from!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    serde_json::Error
);

/// What a caught panic said (its `&str` or `String` payload), for the error it becomes.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}
