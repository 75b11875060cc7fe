//! Webhooks (PRODUCT.md §8): `/hooks/test/{automation}/{composer}` runs the draft,
//! `/hooks/{automation}/{composer}` the latest deployment with live secrets and databases. A
//! trigger's `auth_secret` requires `Authorization: Bearer <that secret's value in the mode>`. With a
//! `respond` step the caller waits for it (up to 30 s, then 504 with the run id); without one
//! the caller gets 202 with the run id once the run is durably queued.

use crate::error::{ApiError, ApiResult, ErrorDetail};
use crate::rest::params::HookPath;
use crate::rest::{RunAccepted, blocking, body_bytes};
use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use engine::Engine;
use model::Mode;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;
use utoipa::ToSchema;

const RESPOND_WAIT: Duration = Duration::from_secs(30);

/// Webhook: runs the test draft (no user role; optional bearer secret).
#[utoipa::path(method(get, post, put, patch, delete), path = "/hooks/test/{automation}/{composer}", operation_id = "testHook", tag = "webhooks",
    security((), ("webhookSecret" = [])),
    params(HookPath, ("Authorization" = Option<String>, Header, description = "`Bearer <secret value>` when the trigger has `auth_secret` (the secret of the run's mode).")),
    request_body(content = Object, description = "Optional JSON; the run's input is `{method, path, headers, query, body}`."),
    responses(
        (status = 200, description = "The composer has a `respond` step: its status, headers and body (any status it sets)."),
        (status = 202, description = "No `respond` step: the run is durably queued.", body = RunAccepted),
        (status = 400, response = crate::rest::docs::BadRequest),
        (status = 401, description = "`unauthorized`: the trigger has `auth_secret` and the bearer token is missing or wrong.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: unknown automation or composer, or (live) nothing deployed.", body = crate::error::ErrorBody),
        (status = 413, response = crate::rest::docs::TooLarge),
        (status = 422, description = "`invalid`: a method other than the trigger's, or a composer whose trigger is not a webhook.", body = crate::error::ErrorBody),
        (status = 500, description = "`run_failed`: the run ended before its respond step.", body = RunError),
        (status = 503, response = crate::rest::docs::Overloaded),
        (status = 504, description = "`timeout`: no answer within 30 s; the run goes on.", body = RunError),
    ))]
pub async fn test_hook(
    State(engine): State<Engine>,
    Path(HookPath {
        automation,
        composer,
    }): Path<HookPath>,
    Query(query): Query<BTreeMap<String, String>>,
    req: Request,
) -> ApiResult<Response> {
    hook(engine, Mode::Test, automation, composer, query, req).await
}

/// Webhook: runs the latest live deployment (no user role; optional bearer secret).
#[utoipa::path(method(get, post, put, patch, delete), path = "/hooks/{automation}/{composer}", operation_id = "liveHook", tag = "webhooks",
    security((), ("webhookSecret" = [])),
    params(HookPath, ("Authorization" = Option<String>, Header, description = "`Bearer <secret value>` when the trigger has `auth_secret` (the secret of the run's mode).")),
    request_body(content = Object, description = "Optional JSON; the run's input is `{method, path, headers, query, body}`."),
    responses(
        (status = 200, description = "The composer has a `respond` step: its status, headers and body (any status it sets)."),
        (status = 202, description = "No `respond` step: the run is durably queued.", body = RunAccepted),
        (status = 400, response = crate::rest::docs::BadRequest),
        (status = 401, description = "`unauthorized`: the trigger has `auth_secret` and the bearer token is missing or wrong.", body = crate::error::ErrorBody),
        (status = 404, description = "`not_found`: unknown automation or composer, or (live) nothing deployed.", body = crate::error::ErrorBody),
        (status = 413, response = crate::rest::docs::TooLarge),
        (status = 422, description = "`invalid`: a method other than the trigger's, or a composer whose trigger is not a webhook.", body = crate::error::ErrorBody),
        (status = 500, description = "`run_failed`: the run ended before its respond step.", body = RunError),
        (status = 503, response = crate::rest::docs::Overloaded),
        (status = 504, description = "`timeout`: no answer within 30 s; the run goes on.", body = RunError),
    ))]
pub async fn live_hook(
    State(engine): State<Engine>,
    Path(HookPath {
        automation,
        composer,
    }): Path<HookPath>,
    Query(query): Query<BTreeMap<String, String>>,
    req: Request,
) -> ApiResult<Response> {
    hook(engine, Mode::Live, automation, composer, query, req).await
}

async fn hook(
    engine: Engine,
    mode: Mode,
    automation: String,
    composer: String,
    query: BTreeMap<String, String>,
    req: Request,
) -> ApiResult<Response> {
    let bearer = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let headers = headers_json(req.headers());
    let bytes = body_bytes(req, &()).await?;
    let body: Value = if bytes.is_empty() {
        Value::Null
    } else {
        let body = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))?;
        // Parsed, so UTF-8.
        model::check_integers(&String::from_utf8_lossy(&bytes)).map_err(ApiError::bad_request)?;
        body
    };
    let input = WebhookInput {
        method: method.clone(),
        path,
        headers,
        query,
        body,
    };
    let input = serde_json::to_value(input).expect("a webhook input serialises");
    // On this task, not a blocking thread: the reads are short, and the durable queued state
    // (for a run without a respond step) is awaited, not blocked on.
    let (handle, responds) = engine
        .start_webhook_run(
            &automation,
            &composer,
            mode,
            &method,
            bearer.as_deref(),
            input,
        )
        .await
        .map_err(ApiError::from)?;
    if !responds {
        let accepted = RunAccepted { run_id: handle.id };
        return Ok((StatusCode::ACCEPTED, Json(accepted)).into_response());
    }
    match tokio::time::timeout(RESPOND_WAIT, handle.responded).await {
        Ok(Ok(Ok(r))) => Ok(respond(r)),
        // The run so far is not on disk: the caller must not take the answer as done.
        Ok(Ok(Err(e))) => Err(ApiError::from(e)),
        Ok(Err(_)) => {
            // The run ended without responding (it failed before its respond step).
            let id = handle.id.clone();
            let error = blocking(&engine, move |e| e.get_run(&id))
                .await
                .ok()
                .and_then(|run| run.error);
            let message = error.unwrap_or_else(|| "the run ended without responding".into());
            Ok(RunError::answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                "run_failed",
                message,
                handle.id,
            ))
        }
        Err(_) => Ok(RunError::answer(
            StatusCode::GATEWAY_TIMEOUT,
            "timeout",
            "the run did not respond within 30 s; it goes on".into(),
            handle.id,
        )),
    }
}

/// What a webhook run gets as its input.
#[derive(Serialize)]
struct WebhookInput {
    method: String,
    path: String,
    headers: Value,
    query: BTreeMap<String, String>,
    body: Value,
}

/// An error about a run that exists: the error, and the run to look at.
#[derive(Serialize, ToSchema)]
pub struct RunError {
    error: ErrorDetail,
    run_id: String,
}

impl RunError {
    fn answer(status: StatusCode, code: &str, message: String, run_id: String) -> Response {
        let error = ErrorDetail {
            code: code.to_string(),
            message,
        };
        (status, Json(RunError { error, run_id })).into_response()
    }
}

fn respond(r: engine::runner::Responded) -> Response {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK);
    let mut resp = match &r.body {
        Value::String(s) => (status, s.clone()).into_response(),
        Value::Null => status.into_response(),
        other => (status, Json(other.clone())).into_response(),
    };
    for (k, v) in r.headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            resp.headers_mut().insert(k, v);
        }
    }
    resp
}

fn headers_json(h: &HeaderMap) -> Value {
    let mut out = serde_json::Map::new();
    for (k, v) in h {
        // Credentials a caller sends are not kept in the run record.
        if matches!(k.as_str(), "authorization" | "cookie") {
            continue;
        }
        out.insert(
            k.to_string(),
            Value::String(v.to_str().unwrap_or("").to_string()),
        );
    }
    Value::Object(out)
}
