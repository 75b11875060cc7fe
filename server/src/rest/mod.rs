//! REST API v1 (PRODUCT.md §11): thin handlers over engine methods, one module per resource.

mod audit;
mod automations;
mod databases;
mod deployments;
mod runs;
mod secrets;
mod session;
mod settings;
mod tokens;
mod users;

use crate::error::{ApiError, ApiResult};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use engine::Engine;
use serde::de::DeserializeOwned;

/// The OpenAPI description of this API (served at `/api/v1/openapi.json`).
pub const OPENAPI: &str = include_str!("openapi.json");

pub fn router() -> Router<Engine> {
    Router::new()
        .merge(session::routes())
        .merge(tokens::routes())
        .merge(users::routes())
        .merge(automations::routes())
        .merge(runs::routes())
        .merge(databases::routes())
        .merge(secrets::routes())
        .merge(deployments::routes())
        .merge(audit::routes())
        .merge(settings::routes())
        .route(
            "/openapi.json",
            axum::routing::get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    OPENAPI,
                )
            }),
        )
        // A catch-all route, not only a fallback: without it the server functions' route
        // `/api/{*fn_name}` would answer for unknown `/api/v1/...` paths.
        .route("/{*unknown}", axum::routing::any(unknown_endpoint))
        .fallback(unknown_endpoint)
}

async fn unknown_endpoint() -> ApiError {
    ApiError::not_found("no such API endpoint")
}

/// A JSON body: 413 over the body limit, 400 with serde's message when malformed.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = body_bytes(req, state).await?;
        let body = serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))?;
        model::check_integers(&String::from_utf8_lossy(&bytes)).map_err(ApiError::bad_request)?;
        Ok(body)
    }
}

/// The raw body, with the body limit turned into a clear 413.
pub async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> ApiResult<Bytes> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!(
                    "the body is larger than the limit of {} MiB",
                    crate::serve::BODY_LIMIT >> 20
                ),
            )
        } else {
            ApiError::bad_request(rejection.body_text())
        }
    })
}

/// Runs blocking redb work off the async threads.
pub async fn blocking<T, F>(engine: &Engine, f: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnOnce(Engine) -> Result<T, engine::Error> + Send + 'static,
{
    let e = engine.clone();
    tokio::task::spawn_blocking(move || f(e))
        .await
        .map_err(|j| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", j.to_string()))?
        .map_err(ApiError::from)
}

/// The standard list shape.
pub fn page<T: serde::Serialize>(items: Vec<T>) -> serde_json::Value {
    serde_json::json!({ "items": items, "next_cursor": null })
}
