//! Deployments and Live over REST (PRODUCT.md §6, §11): list, deploy, one, roll back, restore a
//! live database backup, and the live document. Deploying is the only way to change Live.

use super::params::{AutomationPath, BackupPath, DeploymentPath};
use super::{JsonBody, Page, blocking, page};
use crate::auth::Authed;
use crate::error::ApiResult;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use engine::{DeployRequest, Deployment, Engine, Role};
use model::Document;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<Engine> {
    OpenApiRouter::new()
        .routes(routes!(list, deploy))
        .routes(routes!(one))
        .routes(routes!(rollback))
        .routes(routes!(restore_backup))
        .routes(routes!(live))
}

/// Deployments, newest first (viewer).
#[utoipa::path(operation_id = "listDeployments", get, path = "/automations/{a}/deployments", tag = "deployments", params(AutomationPath), responses(
    (status = 200, body = Page<Deployment>),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 404, response = super::docs::NotFound),
))]
async fn list(
    State(engine): State<Engine>,
    auth: Authed,
    Path(AutomationPath { a }): Path<AutomationPath>,
) -> ApiResult<Json<Page<Deployment>>> {
    auth.require(Role::Viewer)?;
    Ok(page(
        blocking(&engine, move |e| e.list_deployments(&a)).await?,
    ))
}

/// Deploy the draft to Live, copying the named Test secrets and databases (editor).
#[utoipa::path(operation_id = "deploy", post, path = "/automations/{a}/deployments", tag = "deployments", params(AutomationPath),
    request_body = DeployRequest, responses(
    (status = 201, body = Deployment),
    (status = 400, response = super::docs::BadRequest),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 404, response = super::docs::NotFound),
    (status = 413, response = super::docs::TooLarge),
    (status = 422, response = super::docs::Invalid),
))]
async fn deploy(
    State(engine): State<Engine>,
    auth: Authed,
    Path(AutomationPath { a }): Path<AutomationPath>,
    JsonBody(body): JsonBody<DeployRequest>,
) -> ApiResult<(StatusCode, Json<Deployment>)> {
    let Authed(user) = auth;
    let d = blocking(&engine, move |e| e.deploy_as(&user, &a, &body)).await?;
    Ok((StatusCode::CREATED, Json(d)))
}

/// One deployment (viewer).
#[utoipa::path(operation_id = "getDeployment", get, path = "/automations/{a}/deployments/{n}", tag = "deployments", params(DeploymentPath), responses(
    (status = 200, body = Deployment),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 404, response = super::docs::NotFound),
))]
async fn one(
    State(engine): State<Engine>,
    auth: Authed,
    Path(DeploymentPath { a, n }): Path<DeploymentPath>,
) -> ApiResult<Json<Deployment>> {
    auth.require(Role::Viewer)?;
    Ok(Json(
        blocking(&engine, move |e| e.get_deployment(&a, n)).await?,
    ))
}

/// Roll back: restore deployment n's revision into Test (a backup revision first) and deploy it
/// (editor).
#[utoipa::path(operation_id = "rollback", post, path = "/automations/{a}/deployments/{n}/rollback", tag = "deployments", params(DeploymentPath), responses(
    (status = 201, body = Deployment),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 404, response = super::docs::NotFound),
    (status = 422, response = super::docs::Invalid),
))]
async fn rollback(
    State(engine): State<Engine>,
    auth: Authed,
    Path(DeploymentPath { a, n }): Path<DeploymentPath>,
) -> ApiResult<(StatusCode, Json<Deployment>)> {
    let Authed(user) = auth;
    let d = blocking(&engine, move |e| e.rollback_as(&user, &a, n)).await?;
    Ok((StatusCode::CREATED, Json(d)))
}

/// A live database put back from a deployment's backup.
#[derive(Serialize, ToSchema)]
struct RestoredBackup {
    database: String,
    /// Records it holds now.
    count: u64,
}

/// Put back the live database contents deployment n replaced (admin).
#[utoipa::path(operation_id = "restoreLiveDatabaseBackup", post, path = "/automations/{a}/deployments/{n}/backups/{db}/restore", tag = "deployments", params(BackupPath), responses(
    (status = 200, body = RestoredBackup),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 404, response = super::docs::NotFound),
    (status = 422, response = super::docs::Invalid),
))]
async fn restore_backup(
    State(engine): State<Engine>,
    auth: Authed,
    Path(BackupPath { a, n, db }): Path<BackupPath>,
) -> ApiResult<Json<RestoredBackup>> {
    let Authed(user) = auth;
    let database = db.clone();
    let count = blocking(&engine, move |e| {
        e.restore_database_backup_as(&user, &a, n, &db)
    })
    .await?;
    Ok(Json(RestoredBackup { database, count }))
}

/// What Live runs now.
#[derive(Serialize, ToSchema)]
struct Live {
    /// The latest deployment.
    deployment: Deployment,
    document: Document,
}

/// The live deployment and its document (viewer).
#[utoipa::path(operation_id = "getLive", get, path = "/automations/{a}/live", tag = "deployments", params(AutomationPath), responses(
    (status = 200, body = Live),
    (status = 401, response = super::docs::Unauthenticated),
    (status = 403, response = super::docs::Forbidden),
    (status = 404, response = super::docs::NotFound),
))]
async fn live(
    State(engine): State<Engine>,
    auth: Authed,
    Path(AutomationPath { a }): Path<AutomationPath>,
) -> ApiResult<Json<Live>> {
    auth.require(Role::Viewer)?;
    let live = blocking(&engine, move |e| e.live_or_err(&a)).await?;
    Ok(Json(Live {
        deployment: live.deployment.clone(),
        document: live.document.as_ref().clone(),
    }))
}
