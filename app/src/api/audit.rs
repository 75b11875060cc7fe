use crate::error::AppError;
use leptos::prelude::*;
use model::wire::AuditPage;

#[cfg(feature = "ssr")]
use crate::session::{blocking, require};
#[cfg(feature = "ssr")]
use model::wire::Role;

#[server]
pub async fn list_audit(cursor: Option<String>) -> Result<AuditPage, AppError> {
    require(Role::Admin)?;
    blocking(move |e| e.list_audit(50, cursor.as_deref())).await
}
