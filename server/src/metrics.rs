//! `/metrics` (PRODUCT.md §15): the engine's series in the OpenMetrics text format. A scraper
//! authenticates like any API caller (`Authorization: Bearer <API token>`, any role) unless
//! `SLIPWAY_METRICS=public` opens it to anyone who can reach the port. Webhook latency is
//! measured here, around the two webhook routes.

use crate::error::ApiError;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use engine::{Engine, User};
use std::time::Instant;

/// Who may read `/metrics`: `SLIPWAY_METRICS` unset or `token` (signed-in callers), or `public`.
pub fn public_from_env() -> Result<bool, String> {
    match std::env::var("SLIPWAY_METRICS").as_deref() {
        Err(_) | Ok("") | Ok("token") => Ok(false),
        Ok("public") => Ok(true),
        Ok(other) => Err(format!(
            "SLIPWAY_METRICS must be `public` or `token`, not `{other}`"
        )),
    }
}

pub fn routes(engine: Engine, public: bool) -> Router {
    Router::new().route(
        "/metrics",
        get(move |State(engine): State<Engine>, req: Request| scrape(engine, public, req))
            .with_state(engine),
    )
}

async fn scrape(engine: Engine, public: bool, req: Request) -> Response {
    if !public && req.extensions().get::<User>().is_none() {
        return ApiError::from(engine::Error::Unauthenticated).into_response();
    }
    (
        [(header::CONTENT_TYPE, engine::metrics::CONTENT_TYPE)],
        engine.metrics_text(),
    )
        .into_response()
}

/// Times a webhook from its request to its answer.
pub async fn time_webhook(State(engine): State<Engine>, req: Request, next: Next) -> Response {
    let began = Instant::now();
    let answer = next.run(req).await;
    engine.observe_webhook(began.elapsed());
    answer
}
