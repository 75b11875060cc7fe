//! Databases over REST (PRODUCT.md §11): the databases of a mode with their counts, pages of
//! records, and one record. Live is read-only here.

use super::params::{DatabasePath, ModePath, RecordPath};
use super::{JsonBody, Page, blocking, page};
use crate::auth::Authed;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use engine::{Engine, Role};
use model::wire::{DatabaseInfo, Record, RecordPage};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Engine> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(records))
        .routes(routes!(one, put, delete))
}

/// Databases of a mode with their record counts (viewer).
#[utoipa::path(operation_id = "listDatabases", get, path = "/automations/{a}/databases/{mode}", tag = "databases", params(ModePath), responses(
    (status = 200, body = Page<DatabaseInfo>),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 404, response = super::docs::NotFound),
))]
async fn list(
    State(engine): State<Engine>,
    auth: Authed,
    Path(ModePath { a, mode }): Path<ModePath>,
) -> ApiResult<Json<Page<DatabaseInfo>>> {
    auth.require(Role::Viewer)?;
    let dbs = blocking(&engine, move |e| {
        e.get_automation(&a)?;
        e.list_databases(&a, mode)
    })
    .await?;
    Ok(page(dbs))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct RecordsQuery {
    /// Only keys starting with this.
    #[serde(default)]
    prefix: String,
    /// At most this many (50 unless given).
    limit: Option<usize>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A page of records in key order (viewer).
#[utoipa::path(operation_id = "listRecords", get, path = "/automations/{a}/databases/{mode}/{db}/records", tag = "databases",
    params(DatabasePath, RecordsQuery), responses(
    (status = 200, body = RecordPage),
    (status = 400, response = super::docs::BadRequest),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 404, response = super::docs::NotFound),
))]
async fn records(
    State(engine): State<Engine>,
    auth: Authed,
    Path(DatabasePath { a, mode, db }): Path<DatabasePath>,
    Query(q): Query<RecordsQuery>,
) -> ApiResult<Json<RecordPage>> {
    auth.require(Role::Viewer)?;
    let p = blocking(&engine, move |e| {
        e.db_list(
            &a,
            mode,
            &db,
            &q.prefix,
            q.limit.unwrap_or(50),
            q.cursor.as_deref(),
        )
    })
    .await?;
    Ok(Json(p))
}

/// One record (viewer).
#[utoipa::path(operation_id = "getRecord", get, path = "/automations/{a}/databases/{mode}/{db}/records/{key}", tag = "databases",
    params(RecordPath), responses(
    (status = 200, body = Record),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 404, response = super::docs::NotFound),
))]
async fn one(
    State(engine): State<Engine>,
    auth: Authed,
    Path(RecordPath { a, mode, db, key }): Path<RecordPath>,
) -> ApiResult<Json<Record>> {
    auth.require(Role::Viewer)?;
    let k = key.clone();
    let v = blocking(&engine, move |e| e.db_get(&a, mode, &db, &k)).await?;
    v.map(|value| {
        Json(Record {
            key: key.clone(),
            value,
        })
    })
    .ok_or_else(|| ApiError::not_found(format!("no record with key `{key}`")))
}

/// Create or replace a record; the body is the value (editor; test only).
#[utoipa::path(operation_id = "putRecord", put, path = "/automations/{a}/databases/{mode}/{db}/records/{key}", tag = "databases",
    params(RecordPath), request_body(content = Object, description = "Any JSON value."), responses(
    (status = 200, body = Record),
    (status = 400, response = super::docs::BadRequest),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 404, response = super::docs::NotFound),
    (status = 413, response = super::docs::TooLarge),
    (status = 422, response = super::docs::Invalid),
))]
async fn put(
    State(engine): State<Engine>,
    auth: Authed,
    Path(RecordPath { a, mode, db, key }): Path<RecordPath>,
    JsonBody(value): JsonBody<Value>,
) -> ApiResult<Json<Record>> {
    let Authed(user) = auth;
    let k = key.clone();
    let stored = blocking(&engine, move |e| {
        e.put_record_as(&user, &a, mode, &db, &k, value)
    })
    .await?;
    Ok(Json(Record { key, value: stored }))
}

/// Delete a record (editor; test only).
#[utoipa::path(operation_id = "deleteRecord", delete, path = "/automations/{a}/databases/{mode}/{db}/records/{key}", tag = "databases",
    params(RecordPath), responses(
    (status = 204, description = "Deleted."),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 404, response = super::docs::NotFound),
))]
async fn delete(
    State(engine): State<Engine>,
    auth: Authed,
    Path(RecordPath { a, mode, db, key }): Path<RecordPath>,
) -> ApiResult<StatusCode> {
    let Authed(user) = auth;
    let k = key.clone();
    if blocking(&engine, move |e| {
        e.delete_record_as(&user, &a, mode, &db, &k)
    })
    .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!("no record with key `{key}`")))
    }
}
