//! Secrets over REST (PRODUCT.md §11): names and who set them; values are write-only.

use super::params::{ModePath, SecretPath};
use super::{JsonBody, Page, blocking, page};
use crate::auth::Authed;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use engine::{Engine, Role};
use model::wire::SecretInfo;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Engine> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(set, delete))
}

/// Secret names and metadata, never values (viewer).
#[utoipa::path(operation_id = "listSecrets", get, path = "/automations/{a}/secrets/{mode}", tag = "secrets", params(ModePath), responses(
    (status = 200, body = Page<SecretInfo>),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 404, response = super::docs::NotFound),
))]
async fn list(
    State(engine): State<Engine>,
    auth: Authed,
    Path(ModePath { a, mode }): Path<ModePath>,
) -> ApiResult<Json<Page<SecretInfo>>> {
    auth.require(Role::Viewer)?;
    let items = blocking(&engine, move |e| {
        e.get_automation(&a)?;
        e.list_secrets(&a, mode)
    })
    .await?;
    Ok(page(items))
}

#[derive(Deserialize, ToSchema)]
struct NewValue {
    value: String,
}

/// Set or replace a secret (editor for test, admin for live).
#[utoipa::path(operation_id = "setSecret", put, path = "/automations/{a}/secrets/{mode}/{name}", tag = "secrets", params(SecretPath),
    request_body = NewValue, responses(
    (status = 204, description = "Set.", headers(("X-Slipway-Warning" = String, description = "Set when the value is too short to be redacted from logs."))),
    (status = 400, response = super::docs::BadRequest),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 404, response = super::docs::NotFound),
    (status = 413, response = super::docs::TooLarge),
    (status = 422, response = super::docs::Invalid),
))]
async fn set(
    State(engine): State<Engine>,
    auth: Authed,
    Path(SecretPath { a, mode, name }): Path<SecretPath>,
    JsonBody(body): JsonBody<NewValue>,
) -> ApiResult<Response> {
    let Authed(user) = auth;
    let warning = blocking(&engine, move |e| {
        e.set_secret_as(&user, &a, mode, &name, &body.value)
    })
    .await?;
    // Set either way; a value too short to be redacted says so (RFC 9110 leaves `Warning`
    // obsolete, so it is a header of our own).
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(text) = warning
        && let Ok(value) = HeaderValue::from_str(&text)
    {
        response.headers_mut().insert("x-slipway-warning", value);
    }
    Ok(response)
}

/// Delete a secret (editor for test, admin for live).
#[utoipa::path(operation_id = "deleteSecret", delete, path = "/automations/{a}/secrets/{mode}/{name}", tag = "secrets", params(SecretPath), responses(
    (status = 204, description = "Deleted."),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 404, response = super::docs::NotFound),
))]
async fn delete(
    State(engine): State<Engine>,
    auth: Authed,
    Path(SecretPath { a, mode, name }): Path<SecretPath>,
) -> ApiResult<StatusCode> {
    let Authed(user) = auth;
    let n = name.clone();
    if blocking(&engine, move |e| e.delete_secret_as(&user, &a, mode, &n)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("no secret named `{name}`")))
    }
}
