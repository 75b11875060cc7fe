//! The REST API's one error type: `{"error": {"code", "message"}}` with the right status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }
}

impl From<engine::Error> for ApiError {
    fn from(e: engine::Error) -> Self {
        use engine::Error as E;
        let status = match &e {
            E::NotFound(_) => StatusCode::NOT_FOUND,
            E::AlreadyExists(_) | E::Conflict { .. } => StatusCode::CONFLICT,
            E::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            E::BadCredentials | E::Unauthenticated | E::WebhookAuth(_) => StatusCode::UNAUTHORIZED,
            E::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            E::Forbidden { .. } | E::LiveReadOnly(_) => StatusCode::FORBIDDEN,
            E::ForeignFile(_) | E::AlreadyOpen(_) | E::Storage(_) => {
                tracing::error!("storage: {e}");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        ApiError::new(status, e.code(), e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({"error": {"code": self.code, "message": self.message}}));
        (self.status, body).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
