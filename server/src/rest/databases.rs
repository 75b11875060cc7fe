//! Databases over REST (PRODUCT.md §11): the databases of a mode with their counts, pages of
//! records, and one record. Live is read-only here.

use super::{JsonBody, blocking, page};
use crate::auth::Authed;
use crate::error::{ApiError, ApiResult};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use engine::{Engine, Role};
use model::Mode;
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<Engine> {
    Router::new()
        .route("/automations/{a}/databases/{mode}", get(list))
        .route(
            "/automations/{a}/databases/{mode}/{db}/records",
            get(records),
        )
        .route(
            "/automations/{a}/databases/{mode}/{db}/records/{key}",
            get(one).put(put).delete(delete),
        )
}

async fn list(
    State(engine): State<Engine>,
    auth: Authed,
    Path((a, mode)): Path<(String, Mode)>,
) -> ApiResult<Json<Value>> {
    auth.require(Role::Viewer)?;
    let dbs = blocking(&engine, move |e| {
        e.get_automation(&a)?;
        e.list_databases(&a, mode)
    })
    .await?;
    Ok(Json(page(dbs)))
}

#[derive(Deserialize)]
struct RecordsQuery {
    #[serde(default)]
    prefix: String,
    limit: Option<usize>,
    cursor: Option<String>,
}

async fn records(
    State(engine): State<Engine>,
    auth: Authed,
    Path((a, mode, db)): Path<(String, Mode, String)>,
    Query(q): Query<RecordsQuery>,
) -> ApiResult<Json<Value>> {
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
    Ok(Json(json!(p)))
}

async fn one(
    State(engine): State<Engine>,
    auth: Authed,
    Path((a, mode, db, key)): Path<(String, Mode, String, String)>,
) -> ApiResult<Json<Value>> {
    auth.require(Role::Viewer)?;
    let k = key.clone();
    let v = blocking(&engine, move |e| e.db_get(&a, mode, &db, &k)).await?;
    v.map(|value| Json(json!({ "key": key, "value": value })))
        .ok_or_else(|| ApiError::not_found(format!("no record with key `{key}`")))
}

async fn put(
    State(engine): State<Engine>,
    auth: Authed,
    Path((a, mode, db, key)): Path<(String, Mode, String, String)>,
    JsonBody(value): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let Authed(user) = auth;
    let k = key.clone();
    let stored = blocking(&engine, move |e| {
        e.put_record_as(&user, &a, mode, &db, &k, value)
    })
    .await?;
    Ok(Json(json!({ "key": key, "value": stored })))
}

async fn delete(
    State(engine): State<Engine>,
    auth: Authed,
    Path((a, mode, db, key)): Path<(String, Mode, String, String)>,
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
