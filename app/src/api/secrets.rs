use crate::Mode;
use crate::error::AppError;
use leptos::prelude::*;
use model::wire::SecretInfo;

#[cfg(feature = "ssr")]
use crate::session::{blocking, require, signed_in};
#[cfg(feature = "ssr")]
use model::wire::Role;

/// Names and who set them; values never leave the server.
#[server]
pub async fn list_secrets(automation: String, mode: Mode) -> Result<Vec<SecretInfo>, AppError> {
    require(Role::Viewer)?;
    blocking(move |e| e.list_secrets(&automation, mode)).await
}

/// Sets a secret; returns a warning when its value is too short to be redacted.
#[server]
pub async fn set_secret(
    automation: String,
    mode: Mode,
    name: String,
    value: String,
) -> Result<Option<String>, AppError> {
    let user = signed_in()?;
    blocking(move |e| e.set_secret_as(&user, &automation, mode, &name, &value)).await
}

#[server]
pub async fn delete_secret(automation: String, mode: Mode, name: String) -> Result<(), AppError> {
    let user = signed_in()?;
    blocking(move |e| {
        e.delete_secret_as(&user, &automation, mode, &name)
            .map(|_| ())
    })
    .await
}
