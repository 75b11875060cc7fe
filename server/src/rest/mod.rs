//! REST API v1 (PRODUCT.md §11): thin handlers over engine methods, one module per resource.
//!
//! Each module's `routes()` registers its handlers with `utoipa_axum::routes!`, which takes the
//! path and the method from the handler's `#[utoipa::path]` description: a route cannot be added
//! without being described, and the OpenAPI document (`GET /api/v1/openapi.json`, built by
//! [`openapi`]) is generated from the same descriptions and from the wire types' schemas.

mod audit;
mod automations;
mod backup;
mod databases;
mod deployments;
pub mod docs;
pub mod params;
mod retention;
mod runs;
mod secrets;
mod session;
mod settings;
mod tokens;
mod transfer;
mod users;

use crate::error::{ApiError, ApiResult};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use engine::Engine;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::LazyLock;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every REST module's routes, with their descriptions.
fn described() -> OpenApiRouter<Engine> {
    OpenApiRouter::with_openapi(docs::ApiDoc::openapi())
        .merge(session::routes())
        .merge(tokens::routes())
        .merge(users::routes())
        .merge(automations::routes())
        .merge(runs::routes())
        .merge(databases::routes())
        .merge(secrets::routes())
        .merge(deployments::routes())
        .merge(audit::routes())
        .merge(backup::routes())
        .merge(settings::routes())
        .merge(retention::routes())
        .merge(transfer::routes())
        .routes(routes!(openapi_json))
}

/// The OpenAPI document of this API, generated from the routes.
pub fn openapi() -> utoipa::openapi::OpenApi {
    docs::finish(described().into_openapi())
}

pub fn router() -> Router<Engine> {
    let (router, _) = described().split_for_parts();
    router
        // A catch-all route, not only a fallback: without it the server functions' route
        // `/api/{*fn_name}` would answer for unknown `/api/v1/...` paths.
        .route("/{*unknown}", axum::routing::any(unknown_endpoint))
        .fallback(unknown_endpoint)
}

static OPENAPI_JSON: LazyLock<String> = LazyLock::new(|| {
    openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises")
});

/// This OpenAPI document (anyone).
#[utoipa::path(get, path = "/openapi.json", operation_id = "openapi", tag = "meta", security(()),
    responses((status = 200, description = "OpenAPI 3.1, generated from the handlers.", content_type = "application/json", body = Object)))]
async fn openapi_json() -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI_JSON.as_str(),
    )
}

async fn unknown_endpoint() -> ApiError {
    ApiError::not_found("no such API endpoint")
}

/// The standard list shape.
#[derive(Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass back as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// A run durably queued.
#[derive(Serialize, ToSchema)]
pub struct RunAccepted {
    pub run_id: String,
}

/// A whole list as one page.
pub fn page<T>(items: Vec<T>) -> axum::Json<Page<T>> {
    axum::Json(Page {
        items,
        next_cursor: None,
    })
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
    body_within(req, state, crate::serve::BODY_LIMIT).await
}

/// [`body_bytes`] for a route whose own `DefaultBodyLimit` is `limit`, named in the 413.
pub async fn body_within<S: Send + Sync>(
    req: Request,
    state: &S,
    limit: usize,
) -> ApiResult<Bytes> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("the body is larger than the limit of {} MiB", limit >> 20),
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
