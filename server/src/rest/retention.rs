//! An automation's retention rules over REST (PRODUCT.md §15): how long each mode keeps runs.

use super::params::AutomationPath;
use super::{JsonBody, blocking};
use crate::auth::Authed;
use crate::error::ApiResult;
use axum::Json;
use axum::extract::{Path, State};
use engine::retention::Retention;
use engine::{Engine, Role};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Engine> {
    OpenApiRouter::new().routes(routes!(get_retention, put_retention))
}

/// How long the automation keeps runs in each mode: days, and runs per composer (viewer).
#[utoipa::path(operation_id = "getRetention", get, path = "/automations/{a}/retention", tag = "settings", params(AutomationPath), responses(
    (status = 200, body = Retention),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 404, response = super::docs::NotFound),
))]
async fn get_retention(
    State(engine): State<Engine>,
    auth: Authed,
    Path(AutomationPath { a }): Path<AutomationPath>,
) -> ApiResult<Json<Retention>> {
    auth.require(Role::Viewer)?;
    Ok(Json(blocking(&engine, move |e| e.retention(&a)).await?))
}

/// Replace the automation's retention rules; the pruner applies them within a minute (admin).
#[utoipa::path(operation_id = "putRetention", put, path = "/automations/{a}/retention", tag = "settings", params(AutomationPath), request_body = Retention, responses(
    (status = 200, body = Retention),
    (status = 400, response = super::docs::BadRequest),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 404, response = super::docs::NotFound),
    (status = 422, response = super::docs::Invalid),
))]
async fn put_retention(
    State(engine): State<Engine>,
    auth: Authed,
    Path(AutomationPath { a }): Path<AutomationPath>,
    JsonBody(body): JsonBody<Retention>,
) -> ApiResult<Json<Retention>> {
    let Authed(user) = auth;
    Ok(Json(
        blocking(&engine, move |e| e.set_retention(&user, &a, body)).await?,
    ))
}
