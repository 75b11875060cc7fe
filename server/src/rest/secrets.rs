//! Secrets over REST (PRODUCT.md §11): names and who set them; values are write-only.

use super::{JsonBody, blocking, page};
use crate::auth::Authed;
use crate::error::{ApiError, ApiResult};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use engine::{Engine, Role};
use model::Mode;
use serde::Deserialize;
use serde_json::Value;

pub fn routes() -> Router<Engine> {
    Router::new()
        .route("/automations/{a}/secrets/{mode}", get(list))
        .route(
            "/automations/{a}/secrets/{mode}/{name}",
            put(set).delete(delete),
        )
}

async fn list(
    State(engine): State<Engine>,
    auth: Authed,
    Path((a, mode)): Path<(String, Mode)>,
) -> ApiResult<Json<Value>> {
    auth.require(Role::Viewer)?;
    let items = blocking(&engine, move |e| {
        e.get_automation(&a)?;
        e.list_secrets(&a, mode)
    })
    .await?;
    Ok(Json(page(items)))
}

#[derive(Deserialize)]
struct NewValue {
    value: String,
}

async fn set(
    State(engine): State<Engine>,
    auth: Authed,
    Path((a, mode, name)): Path<(String, Mode, String)>,
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

async fn delete(
    State(engine): State<Engine>,
    auth: Authed,
    Path((a, mode, name)): Path<(String, Mode, String)>,
) -> ApiResult<StatusCode> {
    let Authed(user) = auth;
    let n = name.clone();
    if blocking(&engine, move |e| e.delete_secret_as(&user, &a, mode, &n)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("no secret named `{name}`")))
    }
}
