//! Webhooks (PRODUCT.md §8): `/hooks/test/{automation}/{composer}` runs the draft,
//! `/hooks/{automation}/{composer}` the latest deployment with live secrets and databases. A
//! trigger's `auth_secret` requires `Authorization: Bearer <that secret's value in the mode>`. With a
//! `respond` step the caller waits for it (up to 30 s, then 504 with the run id); without one
//! the caller gets 202 with the run id once the run is durably queued.

use crate::error::{ApiError, ApiResult};
use crate::rest::{blocking, body_bytes};
use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use engine::Engine;
use model::Mode;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

const RESPOND_WAIT: Duration = Duration::from_secs(30);

pub async fn test_hook(
    State(engine): State<Engine>,
    Path((automation, composer)): Path<(String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
    req: Request,
) -> ApiResult<Response> {
    hook(engine, Mode::Test, automation, composer, query, req).await
}

pub async fn live_hook(
    State(engine): State<Engine>,
    Path((automation, composer)): Path<(String, String)>,
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
    let input =
        json!({ "method": method, "path": path, "headers": headers, "query": query, "body": body });
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
        return Ok((StatusCode::ACCEPTED, Json(json!({ "run_id": handle.id }))).into_response());
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
            Ok((
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "error": { "code": "run_failed", "message": error.unwrap_or_else(|| "the run ended without responding".into()) }, "run_id": handle.id })),
            )
                .into_response())
        }
        Err(_) => Ok((
            StatusCode::GATEWAY_TIMEOUT,
            Json(json!({ "error": { "code": "timeout", "message": "the run did not respond within 30 s; it goes on" }, "run_id": handle.id })),
        )
            .into_response()),
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
