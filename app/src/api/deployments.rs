use crate::error::AppError;
use leptos::prelude::*;
use model::wire::Deployment;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::session::{blocking, require, signed_in};
#[cfg(feature = "ssr")]
use model::wire::{DeployRequest, Role};

/// What Live runs: the latest deployment and its document.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LiveView {
    pub deployment: Deployment,
    pub document: model::Document,
}

#[server]
pub async fn load_live(automation: String) -> Result<Option<LiveView>, AppError> {
    require(Role::Viewer)?;
    let live = blocking(move |e| e.live(&automation)).await?;
    Ok(live.map(|l| LiveView {
        deployment: l.deployment.clone(),
        document: l.document.as_ref().clone(),
    }))
}

#[server]
pub async fn deploy_preview(automation: String) -> Result<model::wire::DeployPreview, AppError> {
    require(Role::Editor)?;
    blocking(move |e| e.deploy_preview(&automation)).await
}

#[server(input = server_fn::codec::Json)]
pub async fn deploy(
    automation: String,
    secrets: Vec<String>,
    databases: Vec<String>,
    note: String,
) -> Result<Deployment, AppError> {
    let user = signed_in()?;
    let req = DeployRequest {
        secrets,
        databases,
        note,
    };
    blocking(move |e| e.deploy_as(&user, &automation, &req)).await
}

#[server]
pub async fn list_deployments(automation: String) -> Result<Vec<Deployment>, AppError> {
    require(Role::Viewer)?;
    blocking(move |e| e.list_deployments(&automation)).await
}

#[server]
pub async fn rollback(automation: String, number: u64) -> Result<Deployment, AppError> {
    let user = signed_in()?;
    blocking(move |e| e.rollback_as(&user, &automation, number)).await
}

/// Puts a live database back to what a deployment replaced; returns its record count.
#[server]
pub async fn restore_backup(
    automation: String,
    number: u64,
    database: String,
) -> Result<u64, AppError> {
    let user = signed_in()?;
    blocking(move |e| e.restore_database_backup_as(&user, &automation, number, &database)).await
}
