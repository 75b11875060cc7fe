//! The error every server function answers with: the engine's machine-readable code and its
//! message, sent as JSON with the REST API's HTTP status. The UI shows `message` as it is and
//! decides on `code` (a save's `conflict`), instead of picking apart a framework's string.

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppError {
    /// The engine's code (`forbidden`, `conflict`, `not_found`, …), or `unreachable` when the
    /// browser could not reach the server, `server` for a failure of the call itself.
    pub code: String,
    /// For people, as the UI shows it.
    pub message: String,
}

impl AppError {
    pub fn new(code: &str, message: impl Into<String>) -> AppError {
        AppError {
            code: code.to_owned(),
            message: message.into(),
        }
    }

    /// Someone else saved first (see [`crate::api::save_draft`]).
    pub fn is_conflict(&self) -> bool {
        self.code == "conflict"
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(e: ServerFnErrorErr) -> Self {
        match e {
            ServerFnErrorErr::Request(m) => AppError::new(
                "unreachable",
                format!("the server could not be reached: {m}"),
            ),
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::MissingArg(m) => {
                AppError::new("invalid", m)
            }
            other => AppError::new("server", other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<engine::Error> for AppError {
    fn from(e: engine::Error) -> Self {
        AppError::new(e.code(), e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_is_shown_as_it_is() {
        let e = AppError::from_server_fn_error(ServerFnErrorErr::Request("refused".into()));
        assert_eq!(e.code, "unreachable");
        assert_eq!(e.to_string(), "the server could not be reached: refused");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn an_engine_error_keeps_its_code() {
        let e = AppError::from(engine::Error::Conflict {
            expected: 2,
            current: 3,
            kept_revision: None,
        });
        assert!(e.is_conflict(), "{e:?}");
    }
}
