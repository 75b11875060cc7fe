//! Deployments and Live over REST (PRODUCT.md §6, §11): list, deploy, one, roll back, restore a
//! live database backup, and the live document. Deploying is the only way to change Live.

use super::{JsonBody, blocking, page};
use crate::auth::Authed;
use crate::error::ApiResult;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use engine::{DeployRequest, Engine, Role};
use serde_json::{Value, json};

pub fn routes() -> Router<Engine> {
    Router::new()
        .route("/automations/{a}/deployments", get(list).post(deploy))
        .route("/automations/{a}/deployments/{n}", get(one))
        .route("/automations/{a}/deployments/{n}/rollback", post(rollback))
        .route(
            "/automations/{a}/deployments/{n}/backups/{db}/restore",
            post(restore_backup),
        )
        .route("/automations/{a}/live", get(live))
}

async fn list(
    State(engine): State<Engine>,
    auth: Authed,
    Path(a): Path<String>,
) -> ApiResult<Json<Value>> {
    auth.require(Role::Viewer)?;
    Ok(Json(page(
        blocking(&engine, move |e| e.list_deployments(&a)).await?,
    )))
}

async fn deploy(
    State(engine): State<Engine>,
    auth: Authed,
    Path(a): Path<String>,
    JsonBody(body): JsonBody<DeployRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Authed(user) = auth;
    let d = blocking(&engine, move |e| e.deploy_as(&user, &a, &body)).await?;
    Ok((StatusCode::CREATED, Json(json!(d))))
}

async fn one(
    State(engine): State<Engine>,
    auth: Authed,
    Path((a, n)): Path<(String, u64)>,
) -> ApiResult<Json<Value>> {
    auth.require(Role::Viewer)?;
    Ok(Json(json!(
        blocking(&engine, move |e| e.get_deployment(&a, n)).await?
    )))
}

async fn rollback(
    State(engine): State<Engine>,
    auth: Authed,
    Path((a, n)): Path<(String, u64)>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Authed(user) = auth;
    let d = blocking(&engine, move |e| e.rollback_as(&user, &a, n)).await?;
    Ok((StatusCode::CREATED, Json(json!(d))))
}

async fn restore_backup(
    State(engine): State<Engine>,
    auth: Authed,
    Path((a, n, db)): Path<(String, u64, String)>,
) -> ApiResult<Json<Value>> {
    let Authed(user) = auth;
    let name = db.clone();
    let count = blocking(&engine, move |e| {
        e.restore_database_backup_as(&user, &a, n, &db)
    })
    .await?;
    Ok(Json(json!({ "database": name, "count": count })))
}

async fn live(
    State(engine): State<Engine>,
    auth: Authed,
    Path(a): Path<String>,
) -> ApiResult<Json<Value>> {
    auth.require(Role::Viewer)?;
    let live = blocking(&engine, move |e| e.live_or_err(&a)).await?;
    Ok(Json(
        json!({ "deployment": live.deployment, "document": live.document.as_ref() }),
    ))
}
