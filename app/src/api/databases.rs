use crate::Mode;
use crate::error::AppError;
use leptos::prelude::*;
use model::wire::{DatabaseInfo, RecordPage};

#[cfg(feature = "ssr")]
use crate::session::{blocking, require, signed_in};
#[cfg(feature = "ssr")]
use model::wire::Role;

#[server]
pub async fn list_databases(automation: String, mode: Mode) -> Result<Vec<DatabaseInfo>, AppError> {
    require(Role::Viewer)?;
    blocking(move |e| e.list_databases(&automation, mode)).await
}

#[server]
pub async fn list_records(
    automation: String,
    mode: Mode,
    database: String,
    prefix: String,
    cursor: Option<String>,
) -> Result<RecordPage, AppError> {
    require(Role::Viewer)?;
    blocking(move |e| e.db_list(&automation, mode, &database, &prefix, 50, cursor.as_deref())).await
}

/// Creates or replaces a test record; `value` is JSON text.
#[server]
pub async fn put_record(
    automation: String,
    mode: Mode,
    database: String,
    key: String,
    value: String,
) -> Result<(), AppError> {
    let user = signed_in()?;
    blocking(move |e| {
        let value: serde_json::Value = serde_json::from_str(&value)
            .map_err(|e| engine::Error::Invalid(format!("the value is not JSON: {e}")))?;
        e.put_record_as(&user, &automation, mode, &database, &key, value)
            .map(|_| ())
    })
    .await
}

#[server]
pub async fn delete_record(
    automation: String,
    mode: Mode,
    database: String,
    key: String,
) -> Result<(), AppError> {
    let user = signed_in()?;
    blocking(move |e| {
        e.delete_record_as(&user, &automation, mode, &database, &key)
            .map(|_| ())
    })
    .await
}

#[server]
pub async fn create_database(automation: String, mode: Mode, name: String) -> Result<(), AppError> {
    let user = signed_in()?;
    blocking(move |e| {
        e.create_database_as(&user, &automation, mode, &name)
            .map(|_| ())
    })
    .await
}

/// Adds the records of a JSON Lines text (`{"key": ..., "value": ...}` per line); all or nothing.
#[server]
pub async fn import_records(
    automation: String,
    mode: Mode,
    database: String,
    text: String,
) -> Result<u64, AppError> {
    let user = signed_in()?;
    blocking(move |e| e.import_records_as(&user, &automation, mode, &database, &text)).await
}

#[server]
pub async fn export_records(
    automation: String,
    mode: Mode,
    database: String,
) -> Result<String, AppError> {
    require(Role::Viewer)?;
    blocking(move |e| e.export_jsonl(&automation, mode, &database)).await
}
