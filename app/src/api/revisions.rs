use crate::error::AppError;
use leptos::prelude::*;
use model::wire::Revision;

#[cfg(feature = "ssr")]
use crate::session::{blocking, require, signed_in};
#[cfg(feature = "ssr")]
use model::wire::Role;

#[server]
pub async fn list_revisions(automation: String) -> Result<Vec<Revision>, AppError> {
    require(Role::Viewer)?;
    blocking(move |e| e.list_revisions(&automation)).await
}

#[server]
pub async fn get_revision(automation: String, number: u64) -> Result<model::Document, AppError> {
    require(Role::Viewer)?;
    Ok(blocking(move |e| e.get_revision(&automation, number))
        .await?
        .1)
}

/// Restores a revision (the draft is kept as a backup first); returns the new draft version.
#[server]
pub async fn restore_revision(automation: String, number: u64) -> Result<u64, AppError> {
    let user = signed_in()?;
    blocking(move |e| e.restore_revision_as(&user, &automation, number)).await
}

#[server]
pub async fn name_version(automation: String, label: String) -> Result<u64, AppError> {
    let user = signed_in()?;
    blocking(move |e| e.name_version_as(&user, &automation, &label)).await
}
