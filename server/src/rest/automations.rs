//! `/api/v1/automations` and each automation's draft (`ETag`/`If-Match` = draft version).

use super::params::{AutomationPath, RevisionPath};
use super::{JsonBody, Page, blocking, body_bytes, page};
use crate::auth::Authed;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use engine::Automation;
use engine::Revision;
use engine::SaveOutcome;
use engine::{Engine, Role};
use model::{Document, DocumentError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Engine> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(one))
        .routes(routes!(get_draft, put_draft))
        .routes(routes!(list_revisions))
        .routes(routes!(get_revision))
        .routes(routes!(restore_revision))
}

/// List automations (viewer).
#[utoipa::path(operation_id = "listAutomations", get, path = "/automations", tag = "automations", responses(
    (status = 200, body = Page<Automation>),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
))]
async fn list(State(engine): State<Engine>, auth: Authed) -> ApiResult<Json<Page<Automation>>> {
    auth.require(Role::Viewer)?;
    let all = blocking(&engine, |e| e.list_automations()).await?;
    Ok(page(all))
}

/// One automation (viewer).
#[utoipa::path(operation_id = "getAutomation", get, path = "/automations/{a}", tag = "automations", params(AutomationPath), responses(
    (status = 200, body = Automation),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 404, response = super::docs::NotFound),
))]
async fn one(
    State(engine): State<Engine>,
    auth: Authed,
    Path(AutomationPath { a }): Path<AutomationPath>,
) -> ApiResult<Json<Automation>> {
    auth.require(Role::Viewer)?;
    Ok(Json(
        blocking(&engine, move |e| e.get_automation(&a)).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
struct NewAutomation {
    /// Lowercase letters, digits and dashes; unique.
    slug: String,
    name: String,
}

/// Create an automation (editor).
#[utoipa::path(operation_id = "createAutomation", post, path = "/automations", tag = "automations", request_body = NewAutomation, responses(
    (status = 201, body = Automation),
    (status = 400, response = super::docs::BadRequest),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 409, response = super::docs::Conflict),
    (status = 413, response = super::docs::TooLarge),
    (status = 422, response = super::docs::Invalid),
))]
async fn create(
    State(engine): State<Engine>,
    auth: Authed,
    JsonBody(body): JsonBody<NewAutomation>,
) -> ApiResult<(StatusCode, Json<Automation>)> {
    let Authed(user) = auth;
    let a = blocking(&engine, move |e| {
        e.create_automation_as(&user, &body.slug, &body.name)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(a)))
}

fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

/// The draft document; `ETag` is the draft version (viewer).
#[utoipa::path(operation_id = "getDraft", get, path = "/automations/{a}/draft", tag = "automations", params(AutomationPath), responses(
    (status = 200, body = Document, headers(("ETag" = String, description = "The draft version, such as `\"7\"`: send it back as `If-Match`."))),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 404, response = super::docs::NotFound),
))]
async fn get_draft(
    State(engine): State<Engine>,
    auth: Authed,
    Path(AutomationPath { a }): Path<AutomationPath>,
) -> ApiResult<Response> {
    auth.require(Role::Viewer)?;
    let draft = blocking(&engine, move |e| e.get_draft(&a)).await?;
    Ok(([(header::ETAG, etag(draft.version))], Json(draft.document)).into_response())
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

/// Replace the draft; `If-Match` required (editor).
#[utoipa::path(operation_id = "putDraft", put, path = "/automations/{a}/draft", tag = "automations", request_body = Document,
    params(AutomationPath, ("If-Match" = String, Header, description = "The `ETag` of the draft you edited, or `*` to replace any version.")),
    responses(
        (status = 200, description = "Saved; validation problems are reported, never a reason to refuse the save.", body = SaveOutcome, headers(("ETag" = String, description = "The new draft version."))),
        (status = 400, response = super::docs::BadRequest),
        (status = 401, response = super::docs::Unauthenticated),
        (status = 403, response = super::docs::Forbidden),
        (status = 404, response = super::docs::NotFound),
        (status = 409, response = super::docs::Conflict),
        (status = 413, response = super::docs::TooLarge),
        (status = 422, description = "`invalid_document`: not a Slipway document.", body = crate::error::ErrorBody),
        (status = 428, description = "`if_match_required`: no `If-Match` header.", body = crate::error::ErrorBody),
    ))]
async fn put_draft(
    State(engine): State<Engine>,
    auth: Authed,
    Path(AutomationPath { a }): Path<AutomationPath>,
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
    Ok(([(header::ETAG, etag(out.version))], Json(out)).into_response())
}

/// Revision history, newest first (viewer).
#[utoipa::path(operation_id = "listRevisions", get, path = "/automations/{a}/revisions", tag = "automations", params(AutomationPath), responses(
    (status = 200, body = Page<Revision>),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 404, response = super::docs::NotFound),
))]
async fn list_revisions(
    State(engine): State<Engine>,
    auth: Authed,
    Path(AutomationPath { a }): Path<AutomationPath>,
) -> ApiResult<Json<Page<Revision>>> {
    auth.require(Role::Viewer)?;
    Ok(page(
        blocking(&engine, move |e| e.list_revisions(&a)).await?,
    ))
}

/// A revision with the document it holds.
#[derive(Serialize, ToSchema)]
struct RevisionWithDocument {
    #[serde(flatten)]
    revision: Revision,
    document: Document,
}

/// One revision with its document (viewer).
#[utoipa::path(operation_id = "getRevision", get, path = "/automations/{a}/revisions/{n}", tag = "automations", params(RevisionPath), responses(
    (status = 200, body = RevisionWithDocument),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 404, response = super::docs::NotFound),
))]
async fn get_revision(
    State(engine): State<Engine>,
    auth: Authed,
    Path(RevisionPath { a, n }): Path<RevisionPath>,
) -> ApiResult<Json<RevisionWithDocument>> {
    auth.require(Role::Viewer)?;
    let (revision, document) = blocking(&engine, move |e| e.get_revision(&a, n)).await?;
    Ok(Json(RevisionWithDocument { revision, document }))
}

/// The draft version a change left.
#[derive(Serialize, ToSchema)]
struct DraftVersion {
    version: u64,
}

/// Restore a revision into the draft (a backup revision first) (editor).
#[utoipa::path(operation_id = "restoreRevision", post, path = "/automations/{a}/revisions/{n}/restore", tag = "automations", params(RevisionPath), responses(
    (status = 200, body = DraftVersion, headers(("ETag" = String, description = "The new draft version."))),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 404, response = super::docs::NotFound),
))]
async fn restore_revision(
    State(engine): State<Engine>,
    auth: Authed,
    Path(RevisionPath { a, n }): Path<RevisionPath>,
) -> ApiResult<Response> {
    let Authed(user) = auth;
    let version = blocking(&engine, move |e| e.restore_revision_as(&user, &a, n)).await?;
    Ok((
        [(header::ETAG, etag(version))],
        Json(DraftVersion { version }),
    )
        .into_response())
}
