//! `/api/v1/automations` and each automation's draft (`ETag`/`If-Match` = draft version).

use super::{JsonBody, blocking, body_bytes, page};
use crate::auth::Authed;
use crate::error::{ApiError, ApiResult};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use engine::{Engine, Role};
use model::{Document, DocumentError};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<Engine> {
    Router::new()
        .route("/automations", get(list).post(create))
        .route("/automations/{a}", get(one))
        .route("/automations/{a}/draft", get(get_draft).put(put_draft))
        .route("/automations/{a}/revisions", get(list_revisions))
        .route("/automations/{a}/revisions/{n}", get(get_revision))
        .route(
            "/automations/{a}/revisions/{n}/restore",
            post(restore_revision),
        )
}

async fn list(State(engine): State<Engine>, auth: Authed) -> ApiResult<Json<Value>> {
    auth.require(Role::Viewer)?;
    let all = blocking(&engine, |e| e.list_automations()).await?;
    Ok(Json(page(all)))
}

async fn one(
    State(engine): State<Engine>,
    auth: Authed,
    Path(a): Path<String>,
) -> ApiResult<Json<Value>> {
    auth.require(Role::Viewer)?;
    let automation = blocking(&engine, move |e| e.get_automation(&a)).await?;
    Ok(Json(json!(automation)))
}

#[derive(Deserialize)]
struct NewAutomation {
    slug: String,
    name: String,
}

async fn create(
    State(engine): State<Engine>,
    auth: Authed,
    JsonBody(body): JsonBody<NewAutomation>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Authed(user) = auth;
    let a = blocking(&engine, move |e| {
        e.create_automation_as(&user, &body.slug, &body.name)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(json!(a))))
}

fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

async fn get_draft(
    State(engine): State<Engine>,
    auth: Authed,
    Path(a): Path<String>,
) -> ApiResult<Response> {
    auth.require(Role::Viewer)?;
    let draft = blocking(&engine, move |e| e.get_draft(&a)).await?;
    let body = serde_json::to_value(&draft.document)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    Ok(([(header::ETAG, etag(draft.version))], Json(body)).into_response())
}

/// `If-Match: "7"` (or `7`, or `W/"7"`) → `Some(7)`; `If-Match: *` (any version) → `None`.
fn if_match(headers: &HeaderMap) -> ApiResult<Option<u64>> {
    let raw = headers.get(header::IF_MATCH).ok_or_else(|| {
        ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "if_match_required",
            "send If-Match with the ETag of the draft you edited",
        )
    })?;
    if raw.to_str().is_ok_and(|s| s.trim() == "*") {
        return Ok(None);
    }
    raw.to_str()
        .ok()
        .map(|s| s.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|s| s.parse().ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::bad_request("If-Match must be the draft's ETag, such as \"3\", or *")
        })
}

async fn put_draft(
    State(engine): State<Engine>,
    auth: Authed,
    Path(a): Path<String>,
    headers: HeaderMap,
    req: Request,
) -> ApiResult<Response> {
    let Authed(user) = auth;
    let base = if_match(&headers)?;
    let bytes = body_bytes(req, &()).await?;
    let text =
        std::str::from_utf8(&bytes).map_err(|_| ApiError::bad_request("the body is not UTF-8"))?;
    let document = Document::from_json(text).map_err(|e| match e {
        DocumentError::Json { .. } => ApiError::bad_request(e.to_string()),
        _ => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_document",
            e.to_string(),
        ),
    })?;
    let out = blocking(&engine, move |e| match base {
        Some(base) => e.save_draft_as(&user, &a, base, document),
        None => e.save_draft_over_any_as(&user, &a, document),
    })
    .await?;
    Ok((
        [(header::ETAG, etag(out.version))],
        Json(json!({"version": out.version, "problems": out.problems, "revision": out.revision})),
    )
        .into_response())
}

async fn list_revisions(
    State(engine): State<Engine>,
    auth: Authed,
    Path(a): Path<String>,
) -> ApiResult<Json<Value>> {
    auth.require(Role::Viewer)?;
    let revs = blocking(&engine, move |e| e.list_revisions(&a)).await?;
    Ok(Json(page(revs)))
}

async fn get_revision(
    State(engine): State<Engine>,
    auth: Authed,
    Path((a, n)): Path<(String, u64)>,
) -> ApiResult<Json<Value>> {
    auth.require(Role::Viewer)?;
    let (rev, document) = blocking(&engine, move |e| e.get_revision(&a, n)).await?;
    let mut body = json!(rev);
    body["document"] = json!(document);
    Ok(Json(body))
}

async fn restore_revision(
    State(engine): State<Engine>,
    auth: Authed,
    Path((a, n)): Path<(String, u64)>,
) -> ApiResult<Response> {
    let Authed(user) = auth;
    let version = blocking(&engine, move |e| e.restore_revision_as(&user, &a, n)).await?;
    Ok((
        [(header::ETAG, etag(version))],
        Json(json!({"version": version})),
    )
        .into_response())
}
